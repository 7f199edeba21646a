"""Change notifications to bound business systems: a durable outbox and the worker that delivers it.

When an org's contacts mapping or its configuration changes, every access system of the org with a 接收通知接口
gets one signed JSON POST. The notification only says "something changed": the receiver then pulls the
cursor-based feed (or ``GET /api/v1/access/org``), so a system that was down catches up with a single pull and
coalescing is safe: at most one pending notification per system and event type.

Signature: ``X-LanDing-Signature`` = lowercase hex HMAC-SHA256 of the raw request body, keyed with the system's
认证密码 (UTF-8). The body carries ``time`` (ms) and a fresh ``nonce`` per attempt, so receivers can refuse replays;
``X-LanDing-Timestamp`` and ``X-LanDing-Nonce`` repeat them.

Delivery: first attempt ``mapping_feed.SETTLE_MS`` after the change (so the pull that follows sees it), then retries
after ``BACKOFF`` seconds; after ``MAX_ATTEMPTS`` failures the notification is marked failed and shows on the
access-system page until 重新发送. Only a 2xx answer counts as delivered.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from tortoise.functions import Max

from app import runtime
from app.core import change_tracking, metrics, net_guard
from app.models.access import AccessSystem, FeedTombstone, Notification
from app.models.contacts import Department, Person
from app.services import mapping_feed
from app.sync import lease

log = logging.getLogger(__name__)

CONTACTS_CHANGED = "contacts.changed"
ORG_CHANGED = "org.changed"
BACKOFF = [10, 30, 120, 600, 1800, 3600, 3600]  # seconds before retry n (n = attempts made so far)
MAX_ATTEMPTS = len(BACKOFF) + 1
POLL_SECONDS = 1.0
SEND_TIMEOUT = 10.0
SEND_CONCURRENCY = 8
MAX_ERROR_CHARS = 300
READ_LIMIT = 4096
MAX_EVENTS = 20
WATCH_SECONDS = 5.0

SIGNATURE_HEADER = "X-LanDing-Signature"
TIMESTAMP_HEADER = "X-LanDing-Timestamp"
NONCE_HEADER = "X-LanDing-Nonce"
EVENT_HEADER = "X-LanDing-Event"
ACCOUNT_HEADER = "X-LanDing-Account"


def _now() -> datetime:
    return datetime.now(UTC)


def sign(body: bytes, password: str) -> str:
    """What receivers recompute: hex(HMAC-SHA256(key=认证密码, msg=raw body))."""
    return hmac.new(password.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, password: str, signature: str) -> bool:
    return hmac.compare_digest(sign(body, password), (signature or "").strip().lower())


def backoff_seconds(attempts: int) -> int:
    return BACKOFF[min(max(attempts - 1, 0), len(BACKOFF) - 1)]


def wire_event(event_type: str) -> str:
    """The event a receiver sees: contacts.* -> contacts.changed, org.* -> org.changed (it only has to know what
    to pull); the fine-grained source events travel in ``events``."""
    if event_type.startswith("contacts") or event_type == "feed":
        return CONTACTS_CHANGED
    if event_type.startswith("org"):
        return ORG_CHANGED
    return event_type[:32]


async def enqueue(org_id: int, event_type: str, detail: dict[str, Any] | None = None) -> int:
    """Queue a notification for every system of the org with a notify URL; coalesces with a pending one.

    Returns how many systems got a new or refreshed notification.
    """
    systems = await AccessSystem.filter(org_id=org_id).exclude(notify_url="").only("id")
    if not systems:
        return 0
    kind = wire_event(event_type)
    due = _now() + timedelta(milliseconds=mapping_feed.SETTLE_MS)
    for system in systems:
        pending = (
            await Notification.filter(system_id=system.id, event_type=kind, delivered_at=None, failed_at=None)
            .order_by("id")
            .first()
        )
        if pending is None:
            await Notification.create(
                system_id=system.id,
                event_type=kind,
                payload={"events": [event_type], "changes": 1},
                next_attempt_at=due,
            )
            continue
        payload = dict(pending.payload or {})
        events = list(payload.get("events") or [])
        if event_type not in events and len(events) < MAX_EVENTS:
            events.append(event_type)
        payload.update(events=events, changes=int(payload.get("changes", 1)) + 1)
        # Never earlier than this change has settled in the feed; never earlier than a running backoff.
        pending.next_attempt_at = max(pending.next_attempt_at, due)
        pending.payload = payload
        await pending.save(update_fields=["payload", "next_attempt_at"])
    return len(systems)


async def on_contacts_changed(org_id: int, event_type: str, detail: dict[str, Any]) -> None:
    await enqueue(org_id, event_type or CONTACTS_CHANGED, detail)


class FeedWatch:
    """Safety net: a mapping change that no writer announced (e.g. the push just got DingTalk ids) still notifies.

    Scans the settled part of the feed since the last scan; an org whose change is already covered by a
    notification created after it is skipped, so announced changes are not notified twice.
    """

    def __init__(self) -> None:
        self.watermark: int | None = None

    async def scan(self) -> int:
        upto = change_tracking.now_ms() - mapping_feed.SETTLE_MS
        if self.watermark is None:
            self.watermark = upto  # changes made while the console was down are picked up by the callers' pulls
            return 0
        latest: dict[int, int] = {}
        for model in (Department, Person, FeedTombstone):
            rows = (
                await model.filter(feed_time__gt=self.watermark, feed_time__lte=upto)
                .annotate(latest=Max("feed_time"))
                .group_by("org_id")
                .values_list("org_id", "latest")
            )
            for org_id, value in rows:
                latest[org_id] = max(latest.get(org_id, 0), int(value))
        self.watermark = max(self.watermark, upto)
        notified = 0
        for org_id, changed_ms in latest.items():
            covered = await Notification.filter(
                system__org_id=org_id,
                event_type=CONTACTS_CHANGED,
                created_at__gte=datetime.fromtimestamp(changed_ms / 1000, UTC),
            ).exists()
            if not covered:
                notified += await enqueue(org_id, "feed")
        return notified


def install() -> None:
    """Listen to contacts changes (idempotent): the outbox records them even where no worker runs."""
    change_tracking.subscribe(on_contacts_changed)


def body_for(event_type: str, corp_id: str, payload: dict[str, Any], *, time_ms: int, nonce: str) -> bytes:
    message = {
        "eventType": event_type,
        "corpId": corp_id,
        "time": time_ms,
        "nonce": nonce,
        "changes": int(payload.get("changes", 0)),
        "events": list(payload.get("events") or []),
    }
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


async def _send_one(http: aiohttp.ClientSession, note: Notification) -> bool:
    system = note.system
    corp_id = system.org.corpid
    time_ms = change_tracking.now_ms()
    nonce = secrets.token_hex(12)
    body = body_for(note.event_type, corp_id, note.payload or {}, time_ms=time_ms, nonce=nonce)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: sign(body, system.auth_password),
        TIMESTAMP_HEADER: str(time_ms),
        NONCE_HEADER: nonce,
        EVENT_HEADER: note.event_type,
        ACCOUNT_HEADER: system.auth_account,
    }
    error = ""
    try:
        await net_guard.check_url(system.notify_url)  # also when the caller's session has no guarded connector
        # A user-set URL: the shared session's connector refuses internal addresses (app/core/net_guard.py);
        # redirects are never followed and at most a few KB of the answer is read, none of it kept or shown.
        async with http.post(
            system.notify_url,
            data=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=SEND_TIMEOUT),
            allow_redirects=False,
        ) as response:
            await net_guard.read_capped(response, READ_LIMIT)
            if not 200 <= response.status < 300:
                error = net_guard.status_line(response.status, response.reason)
                if 300 <= response.status < 400:
                    error += "（不跟随重定向，请填写最终地址）"
    except net_guard.UnsafeAddress as exc:
        error = exc.message
    except TimeoutError:
        error = f"超时（{SEND_TIMEOUT:.0f} 秒无响应）"
    except aiohttp.ClientError as exc:
        error = f"连接失败：{type(exc).__name__}"
    except ValueError:  # an unusable URL
        error = "接收通知接口地址无效"
    now = _now()
    note.attempts += 1
    metrics.notification_attempted(error, gave_up=note.attempts >= MAX_ATTEMPTS)
    note.last_attempt_at = now
    if not error:
        note.delivered_at = now
        note.last_error = ""
        await note.save(update_fields=["attempts", "last_attempt_at", "delivered_at", "last_error"])
        return True
    note.last_error = error[:MAX_ERROR_CHARS]
    if note.attempts >= MAX_ATTEMPTS:
        note.failed_at = now
    else:
        note.next_attempt_at = now + timedelta(seconds=backoff_seconds(note.attempts))
    await note.save(update_fields=["attempts", "last_attempt_at", "last_error", "failed_at", "next_attempt_at"])
    log.warning("notification %s to access system %s failed (attempt %s): %s", note.id, system.id, note.attempts, error)
    return False


async def deliver_due(http: aiohttp.ClientSession, now: datetime | None = None) -> tuple[int, int]:
    """Send every due notification once. Returns (delivered, failed attempts)."""
    now = now or _now()
    due = (
        await Notification.filter(delivered_at=None, failed_at=None, next_attempt_at__lte=now)
        .exclude(system__notify_url="")
        .prefetch_related("system__org")
        .order_by("next_attempt_at")
        .limit(200)
    )
    if not due:
        return 0, 0
    gate = asyncio.Semaphore(SEND_CONCURRENCY)

    async def guarded(note: Notification) -> bool:
        async with gate:
            return await _send_one(http, note)

    results = await asyncio.gather(*(guarded(n) for n in due))
    ok = sum(1 for r in results if r)
    return ok, len(results) - ok


NOTIFIER_LEASE = "access:notifier"
NOTIFIER_LEASE_TTL = timedelta(seconds=30)


async def run_notifier(rt: runtime.Runtime) -> None:
    """The worker: deliver due notifications and watch the mapping feed, while this replica holds the lease."""
    install()  # again, in case a test cleared the change listeners
    watch = FeedWatch()
    last_watch = 0.0
    loop = asyncio.get_running_loop()
    while True:
        try:
            # Several replicas may share the database: only the lease holder delivers, so nothing is sent twice.
            if not await lease.acquire(NOTIFIER_LEASE, ttl=NOTIFIER_LEASE_TTL):
                await asyncio.sleep(POLL_SECONDS)
                continue
            if loop.time() - last_watch >= WATCH_SECONDS:
                last_watch = loop.time()
                await watch.scan()
            await deliver_due(rt.http)
        except asyncio.CancelledError:
            raise
        except Exception:  # e.g. the database is briefly away: try again on the next tick
            log.exception("notification delivery round failed")
        await asyncio.sleep(POLL_SECONDS)


install()
