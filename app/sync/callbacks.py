"""Scenarios 4 and 5: DingTalk -> LanDing through callbacks.

Callbacks are stored by the endpoint (``CallbackEvent`` rows) and applied here: read the user or department from
DingTalk, then upsert, disable or remove it locally through ``app.sync.dingtalk_in``. At the start of every run the
events DingTalk failed to deliver (``get_call_back_failed_result``) are fetched, stored and applied first.

Conflict rule (LanDing wins): an object with a local change not yet pushed (``needs_push`` and its DingTalk view
differs from ``pushed_hash``) keeps its local values; the next push overwrites DingTalk. A callback that merely
echoes our own push (DingTalk's view hashes to ``pushed_hash``) changes nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.core import metrics, pressure
from app.dingtalk.client import App, DingTalkClient
from app.dingtalk.errors import DingTalkAPIError, DingTalkError
from app.dingtalk.events import DingTalkEvent, parse_event, parse_failed_item
from app.models.contacts import Department, Person
from app.models.orgs import Org
from app.models.sync import CallbackEvent
from app.sync import dingtalk_in, fields, hashing
from app.sync.context import RunContext

log = logging.getLogger(__name__)

STAGE = "ding_in"
GONE_USER = frozenset({60121, 60111, 33012, 50002})
GONE_DEPT = frozenset({60003, 40009, 50004})
MAX_ATTEMPTS = 5
BATCH = 200
CHUNK = 50  # objects applied per round: a 4,000-user event is 80 rounds, with other work in between
RUN_ROUNDS = 20  # a sync run applies at most this many rounds itself; the processor applies the rest after it
PART = "_part_of_event"


class TargetOutcome:
    """What applying one id did, for counters and the detailed log."""

    def __init__(self, kind: str, key: str, name: str, message: str, local_id: int | None, ding_id: Any) -> None:
        self.kind, self.key, self.name, self.message = kind, key, name, message
        self.local_id, self.ding_id = local_id, ding_id


def app_of(org: Org) -> App:
    return dingtalk_in.ding_app(org)


FAILED_ITEM = "_failed_list_item"


def event_of(payload: dict[str, Any]) -> DingTalkEvent:
    """Stored payloads are callback plaintexts, or failed-list items wrapped under ``FAILED_ITEM``."""
    if isinstance(payload, dict) and FAILED_ITEM in payload:
        return parse_failed_item(payload[FAILED_ITEM])
    return parse_event(payload)


async def store_events(org_id: int, events: list[DingTalkEvent], *, failed_list: bool = False) -> int:
    """Keep events in the inbox (deduplicated); returns how many were new."""
    stored = 0
    for event in events:
        if event.kind.is_handshake:
            continue
        try:
            await CallbackEvent.create(
                org_id=org_id,
                event_type=event.event_type[:64],
                payload={FAILED_ITEM: dict(event.raw)} if failed_list else dict(event.raw),
                dedup_key=event.dedup_key,
            )
            stored += 1
        except IntegrityError:
            continue
    return stored


async def _local_view(person: Person) -> dict[str, Any]:
    """The DingTalk view of a local person (for naming the fields where LanDing wins)."""
    return fields.person_view(person, await dingtalk_in.ding_dept_ids(person))


def _kept_message(diffs: dict[str, tuple[Any, Any]]) -> str:
    kept = "；".join(f"{fields.label(k)}：钉钉为「{b}」，保留本系统的「{a}」" for k, (a, b) in diffs.items())
    return f"蓝钉有未同步的修改，以蓝钉为准（{kept}）" if kept else "蓝钉有未同步的修改，以蓝钉为准"


async def apply_user(client: DingTalkClient, org: Org, userid: str) -> TargetOutcome:
    local = await Person.get_or_none(org_id=org.id, ding_userid=userid)
    try:
        user = await client.contacts.get_user(app_of(org), userid)
    except DingTalkAPIError as exc:
        if exc.effective_code not in GONE_USER:
            raise
        if local is None or not local.is_active:
            return TargetOutcome("person", "skipped", userid, "钉钉与蓝钉均无此人员", None, userid)
        if local.needs_push:
            return TargetOutcome("person", "skipped", local.name, "蓝钉有未同步的修改，以蓝钉为准", local.id, userid)
        await dingtalk_in.disable_user(org, userid)
        return TargetOutcome("person", "disabled", local.name, "钉钉已删除，人员置为无效", local.id, userid)
    ding_view = fields.person_view_from_ding(user)
    view_hash = hashing.person_hash(ding_view)
    if local is not None and local.pushed_hash == view_hash:
        return TargetOutcome("person", "skipped", user.name, "与蓝钉一致（本系统推送的回调）", local.id, userid)
    if local is not None and local.needs_push:
        diffs = fields.differing(await _local_view(local), ding_view)
        return TargetOutcome("person", "skipped", user.name, _kept_message(diffs), local.id, userid)
    conflicts = dict(local.sync_conflicts or {}) if local is not None else {}
    await dingtalk_in.apply_user(org, user, force=True)
    person = await Person.get_or_none(org_id=org.id, ding_userid=userid)
    message = "新增成功" if local is None else "更新成功"
    if person is not None:
        if conflicts:
            # DingTalk still holds the value it refused: what we hold is DingTalk's view with our kept values.
            local_view = await _local_view(person)
            kept = {k: (local_view.get(k), ding_view.get(k)) for k in conflicts}
            view_hash = hashing.person_hash(local_view)
            message += "；" + _kept_message(kept).replace("蓝钉有未同步的修改", "钉钉拒绝的修改待处理")
        # What we now hold equals DingTalk: nothing to push back.
        await Person.filter(id=person.id).update(pushed_hash=view_hash, needs_push=False)
    return TargetOutcome(
        "person",
        "added" if local is None else "updated",
        user.name,
        message,
        getattr(person, "id", None),
        userid,
    )


async def apply_department(client: DingTalkClient, org: Org, dept_id: int) -> TargetOutcome:
    local = await Department.get_or_none(org_id=org.id, ding_id=dept_id)
    try:
        dept = await client.contacts.get_department(app_of(org), dept_id)
    except DingTalkAPIError as exc:
        if exc.effective_code not in GONE_DEPT:
            raise
        if local is None or local.is_deleted:
            return TargetOutcome("dept", "skipped", str(dept_id), "钉钉与蓝钉均无此部门", None, dept_id)
        if local.needs_push:
            return TargetOutcome("dept", "skipped", local.name, "蓝钉有未同步的修改，以蓝钉为准", local.id, dept_id)
        await dingtalk_in.remove_department(org, dept_id)
        return TargetOutcome("dept", "deleted", local.name, "钉钉已删除，部门已删除", local.id, dept_id)
    ding_main = fields.dept_main_from_ding(dept)
    main_hash = hashing.view_hash(ding_main)
    full_hash = main_hash + hashing.view_hash(fields.dept_rel_from_ding(dept))
    if local is not None and local.pushed_hash == full_hash:
        return TargetOutcome("dept", "skipped", dept.name, "与蓝钉一致（本系统推送的回调）", local.id, dept_id)
    if local is not None and local.needs_push:
        parent = await Department.get_or_none(id=local.parent_id) if local.parent_id else None
        mine = fields.dept_main_view(local, parent.ding_id if parent else None)
        diffs = {
            k: (mine.get(k, ""), ding_main.get(k, "")) for k in {*mine, *ding_main} if mine.get(k) != ding_main.get(k)
        }
        return TargetOutcome("dept", "skipped", dept.name, _kept_message(diffs), local.id, dept_id)
    await dingtalk_in.apply_department(org, dept, force=True)
    row = await Department.get_or_none(org_id=org.id, ding_id=dept_id)
    if row is not None:
        await Department.filter(id=row.id).update(pushed_hash=full_hash, needs_push=False)
    return TargetOutcome(
        "dept",
        "added" if local is None else "updated",
        dept.name,
        "新增成功" if local is None else "更新成功",
        getattr(row, "id", None),
        dept_id,
    )


async def apply_event(client: DingTalkClient, org: Org, event: DingTalkEvent) -> list[TargetOutcome]:
    outcomes: list[TargetOutcome] = []
    for kind, key in targets(event):
        outcomes.append(await apply_target(client, org, kind, key))
    return outcomes


def targets(event: DingTalkEvent) -> list[tuple[str, Any]]:
    """The objects an event names, as ``("user", userid)`` / ``("dept", dept_id)``; other events name none."""
    if event.kind.is_user_event:
        return [("user", u) for u in event.user_ids]
    if event.kind.is_dept_event:
        return [("dept", d) for d in event.dept_ids]
    return []


async def apply_target(client: DingTalkClient, org: Org, kind: str, key: Any) -> TargetOutcome:
    if kind == "user":
        return await apply_user(client, org, str(key))
    return await apply_department(client, org, int(key))


def targets_of(payload: dict[str, Any]) -> list[tuple[str, Any]]:
    if isinstance(payload, dict) and PART in payload:
        part = payload[PART]
        return [(str(part["kind"]), k) for k in part["ids"]]
    return targets(event_of(payload))


async def _split(row: CallbackEvent, named: list[tuple[str, Any]]) -> None:
    """A big event becomes parts of ``CHUNK`` objects each, stored in its place: each part is applied, retried and
    counted on its own, so progress survives a restart and other events and runs get their turn in between."""
    parts = []
    for n, start in enumerate(range(0, len(named), CHUNK)):
        chunk = named[start : start + CHUNK]
        parts.append(
            CallbackEvent(
                org_id=row.org_id,
                event_type=row.event_type,
                payload={PART: {"of": row.id, "kind": chunk[0][0], "ids": [k for _, k in chunk]}},
                dedup_key=f"part:{row.id}:{n}",
            )
        )
    async with in_transaction():
        await CallbackEvent.bulk_create(parts, ignore_conflicts=True)
        await CallbackEvent.filter(id=row.id).update(processed_at=datetime.now(UTC), last_error="已拆分为多段处理")


async def _next_round(org: Org) -> list[tuple[CallbackEvent, list[tuple[str, Any]]]]:
    """The oldest pending events naming at most ``CHUNK`` objects together (at least one event)."""
    while True:
        rows = (
            await CallbackEvent.filter(org_id=org.id, processed_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
            .order_by("id")
            .limit(BATCH)
        )
        picked: list[tuple[CallbackEvent, list[tuple[str, Any]]]] = []
        count = 0
        split = False
        for row in rows:
            try:
                named = targets_of(row.payload)
            except Exception as exc:  # a malformed payload must not block the queue behind it
                log.warning("callback event %s of org %s cannot be read: %s", row.id, org.id, exc)
                await CallbackEvent.filter(id=row.id).update(
                    attempts=MAX_ATTEMPTS, last_error=f"{exc.__class__.__name__}: {exc}"[:2000]
                )
                continue
            if len(named) > CHUNK:
                await _split(row, named)
                split = True
                break
            if picked and count + len(named) > CHUNK:
                break
            picked.append((row, named))
            count += len(named)
        if not split:
            return picked


async def process_round(client: DingTalkClient, org: Org, ctx: RunContext | None = None) -> tuple[int, int]:
    """Apply one bounded round of the org's pending events; returns (events tried, events processed); (0, 0) when
    nothing is pending.

    Repeated events for the same object in the round are applied once (each application reads the object's
    current state from DingTalk, so once is the same as many times). Between objects the loop steps aside for
    callback acknowledgements.
    """
    picked = await _next_round(org)
    if not picked:
        return 0, 0
    results: dict[tuple[str, Any], TargetOutcome | Exception] = {}
    for _row, named in picked:
        for target in named:
            if target in results:
                continue
            try:
                results[target] = await apply_target(client, org, *target)
            except DingTalkError as exc:
                results[target] = exc
            except Exception as exc:
                log.exception("callback target %s of org %s cannot be applied", target, org.id)
                results[target] = exc
            await pressure.step_aside()
    now = datetime.now(UTC)
    done = 0
    reported: set[tuple[str, Any]] = set()
    for row, named in picked:
        errors = [results[t] for t in named if isinstance(results[t], Exception)]
        row.attempts += 1
        if errors:
            exc = errors[0]
            transient = isinstance(exc, DingTalkError)
            if not transient:
                row.attempts = MAX_ATTEMPTS
            row.last_error = f"{exc.__class__.__name__}: {exc}"[:2000] if not transient else str(exc)[:2000]
            await row.save(update_fields=["attempts", "last_error"])
            metrics.callback_failed()
            if ctx is not None and transient:
                ctx.entry(
                    STAGE,
                    "callback",
                    "person",
                    row.event_type,
                    ok=False,
                    code=getattr(exc, "errcode", ""),
                    message=f"回调处理失败: {exc}",
                )
            continue
        row.processed_at = now
        await row.save(update_fields=["processed_at", "attempts"])
        metrics.callback_applied(row.received_at, row.processed_at)
        done += 1
        if ctx is None:
            continue
        for target in named:
            outcome = results[target]
            if target in reported or not isinstance(outcome, TargetOutcome):
                continue
            reported.add(target)
            ctx.count(STAGE, outcome.kind, "fetched")
            if outcome.key != "skipped":
                ctx.count(STAGE, outcome.kind, outcome.key)
            ctx.entry(
                STAGE,
                outcome.key,
                outcome.kind,
                outcome.name,
                local_id=outcome.local_id,
                ding_id=outcome.ding_id,
                message=outcome.message,
            )
        await ctx.tick()
    return len(picked), done


async def process_pending(
    client: DingTalkClient, org: Org, ctx: RunContext | None = None, *, max_rounds: int | None = None
) -> int:
    """Apply the org's pending events in arrival order, round by round; returns how many were processed."""
    done = 0
    rounds = 0
    while max_rounds is None or rounds < max_rounds:
        tried, processed = await process_round(client, org, ctx)
        if not tried:
            break
        rounds += 1
        done += processed
    return done


async def has_pending(org_id: int) -> bool:
    return await CallbackEvent.filter(org_id=org_id, processed_at__isnull=True, attempts__lt=MAX_ATTEMPTS).exists()


async def catch_up(ctx: RunContext) -> None:
    """Scenario 5: the failed list first, then whatever is still waiting in the inbox."""
    ctx.stage(STAGE, step="回调失败列表")
    if ctx.client is None:
        return
    from app.sync.push import _raise_if_config

    try:
        failed = await ctx.client.contacts.get_callback_failed_events(ctx.app)
    except DingTalkError as exc:
        _raise_if_config(exc)
        raise
    # Stored before they are applied: DingTalk deleted them when it handed them over.
    await store_events(ctx.org.id, [e for e in failed if e.corp_id in (None, ctx.org.corpid)], failed_list=True)
    await process_pending(ctx.client, ctx.org, ctx, max_rounds=RUN_ROUNDS)
    await ctx.flush(force=True)
