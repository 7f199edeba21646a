"""Access systems (接入系统, guide 3.3.4): admin maintenance, binding by identifier and the systems' own API.

An org admin registers a business system (e.g. EKP) with an access identifier and credentials. The business
system's admin enters the identifier in EKP's LanDing component, which calls ``bind``: the identifier is spent
(single use unless the admin re-arms it) and the answer carries the org's DingTalk parameters and the credentials
that the component then uses (HTTP Basic) for ``/api/v1/access/*`` and the mapping feed.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from app.core import net_guard
from app.core.config import get_settings
from app.models.access import AccessSystem, Notification
from app.models.orgs import Org
from app.services import access_notify, audit
from app.services.errors import NotFound, ServiceError, ValidationFailed
from app.services.permissions import Actor, Perm, authorize
from app.services.write import write

BIND_LIMIT_PER_MINUTE = 10
AUTH_FAILURES_PER_MINUTE = 30
MIN_PASSWORD_LENGTH = 8
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.\-@]{1,64}$")
_ACCOUNT = re.compile(r"^[A-Za-z0-9_.\-@]{1,64}$")


# ---------------------------------------------------------------------------------------------------------------
# Errors the systems' API answers with: {"errcode": <code>, "errmsg": <message>} and an HTTP status.


class AccessError(ServiceError):
    def __init__(self, errcode: int, status: int, message: str) -> None:
        super().__init__(message)
        self.errcode = errcode
        self.status = status


BAD_REQUEST = 40001
BAD_CREDENTIALS = 40101
IP_REFUSED = 40301
UNKNOWN_IDENTIFIER = 40401
IDENTIFIER_USED = 40901
TOO_MANY = 42901


class _RateLimiter:
    """Sliding one-minute window per key, in memory: enough for one console process."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def _trim(self, key: str, now: float) -> deque[float]:
        hits = self._hits[key]
        while hits and hits[0] <= now - 60:
            hits.popleft()
        return hits

    def blocked(self, key: str) -> bool:
        return len(self._trim(key, time.monotonic())) >= self.per_minute

    def hit(self, key: str) -> None:
        now = time.monotonic()
        self._trim(key, now).append(now)
        if len(self._hits) > 10_000:  # forget idle keys so a scan of many addresses cannot grow this forever
            for stale in [k for k, v in self._hits.items() if not v]:
                del self._hits[stale]

    def reset(self) -> None:
        self._hits.clear()


bind_limiter = _RateLimiter(BIND_LIMIT_PER_MINUTE)
auth_failure_limiter = _RateLimiter(AUTH_FAILURES_PER_MINUTE)


# ---------------------------------------------------------------------------------------------------------------
# Input checks shared by the admin form and the API.


def parse_allowlist(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for entry in re.split(r"[\s,;，；]+", text or ""):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValidationFailed(
                f"「{entry}」不是有效的 IP 地址或网段（如 10.0.0.8、10.0.0.0/24）", field="ip_allowlist"
            ) from exc
    return networks


def ip_allowed(allowlist: str, ip: str) -> bool:
    networks = parse_allowlist(allowlist)
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


async def check_notify_url(url: str, field_name: str = "notify_url") -> str:
    """A 接收通知接口 must be a full http(s) URL that does not point inside the network (app/core/net_guard.py)."""
    url = (url or "").strip()
    if not url:
        return ""
    try:
        return await net_guard.check_url(url)
    except net_guard.UnsafeAddress as exc:
        raise ValidationFailed(f"接收通知接口{exc.message}", field=field_name) from exc


# ---------------------------------------------------------------------------------------------------------------
# Admin maintenance (设置 > 接入系统).


@dataclass
class SystemInput:
    name: str = ""
    identifier: str = ""
    auth_account: str = ""
    auth_password: str = ""  # empty on edit = keep
    scan_appid: str = ""
    scan_appsecret: str = ""  # empty on edit = keep (cleared together with the appid)
    ip_allowlist: str = ""


@dataclass
class SystemRow:
    id: int
    name: str
    identifier: str
    identifier_used: bool
    auth_account: str
    auth_password_masked: str
    scan_appid: str
    scan_appsecret_masked: str
    notify_url: str
    ip_allowlist: str
    bound_at: datetime | None
    bound_ip: str
    last_pull_at: datetime | None
    pending: int = 0
    failed: int = 0
    last_error: str = ""
    last_delivered_at: datetime | None = None


def _mask(secret: str | None) -> str:
    from app.services.permissions import masked

    return masked(secret)


async def _org_of(actor: Actor) -> int:
    org_id = actor.current_org_id
    await authorize(actor, Perm.ACCESS_MANAGE, org_id)
    if org_id is None:
        raise ValidationFailed("请先选择组织")
    return org_id


async def _get_own(actor: Actor, system_id: int) -> AccessSystem:
    org_id = await _org_of(actor)
    system = await AccessSystem.get_or_none(id=system_id, org_id=org_id)
    if system is None:
        raise NotFound("接入系统不存在或已被删除")
    return system


def _snapshot(system: AccessSystem) -> dict[str, Any]:
    return {
        "name": system.name,
        "identifier": system.identifier,
        "auth_account": system.auth_account,
        "auth_password": system.auth_password,
        "scan_appid": system.scan_appid,
        "scan_appsecret": system.scan_appsecret,
        "ip_allowlist": system.ip_allowlist,
        "notify_url": system.notify_url,
    }


async def _row(system: AccessSystem) -> SystemRow:
    undelivered = Notification.filter(system_id=system.id, delivered_at=None)
    pending = await undelivered.filter(failed_at=None).count()
    failed = await undelivered.filter(failed_at__not_isnull=True).count()
    latest_error = await undelivered.exclude(last_error="").order_by("-last_attempt_at").first()
    delivered = (
        await Notification.filter(system_id=system.id, delivered_at__not_isnull=True).order_by("-delivered_at").first()
    )
    return SystemRow(
        id=system.id,
        name=system.name,
        identifier=system.identifier,
        identifier_used=system.identifier_used,
        auth_account=system.auth_account,
        auth_password_masked=_mask(system.auth_password),
        scan_appid=system.scan_appid,
        scan_appsecret_masked=_mask(system.scan_appsecret),
        notify_url=system.notify_url,
        ip_allowlist=system.ip_allowlist,
        bound_at=system.bound_at,
        bound_ip=system.bound_ip,
        last_pull_at=system.last_pull_at,
        pending=pending,
        failed=failed,
        last_error=latest_error.last_error if latest_error else "",
        last_delivered_at=delivered.delivered_at if delivered else None,
    )


async def list_systems(actor: Actor) -> list[SystemRow]:
    org_id = await _org_of(actor)
    return [await _row(s) for s in await AccessSystem.filter(org_id=org_id).order_by("id")]


async def get_system(actor: Actor, system_id: int) -> SystemRow:
    return await _row(await _get_own(actor, system_id))


def _clean(data: SystemInput, *, creating: bool) -> SystemInput:
    name = (data.name or "").strip()
    identifier = (data.identifier or "").strip()
    account = (data.auth_account or "").strip()
    password = data.auth_password or ""
    if not name:
        raise ValidationFailed("请填写系统名称", field="name")
    if len(name) > 64:
        raise ValidationFailed("系统名称最长 64 个字符", field="name")
    if not identifier:
        raise ValidationFailed("请填写接入标识", field="identifier")
    if not _IDENTIFIER.match(identifier):
        raise ValidationFailed("接入标识只能包含字母、数字和 _ - . @，最长 64 个字符", field="identifier")
    if not account:
        raise ValidationFailed("请填写认证账号", field="auth_account")
    if not _ACCOUNT.match(account):
        raise ValidationFailed("认证账号只能包含字母、数字和 _ - . @，最长 64 个字符", field="auth_account")
    if creating and not password:
        raise ValidationFailed("请填写认证密码", field="auth_password")
    if password and len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"认证密码至少 {MIN_PASSWORD_LENGTH} 位", field="auth_password")
    if password and len(password) > 128:
        raise ValidationFailed("认证密码最长 128 个字符", field="auth_password")
    if ":" in account:
        raise ValidationFailed("认证账号不能包含冒号", field="auth_account")
    scan_appid = (data.scan_appid or "").strip()
    scan_secret = (data.scan_appsecret or "").strip()
    if len(scan_appid) > 64:
        raise ValidationFailed("扫码登录appid最长 64 个字符", field="scan_appid")
    parse_allowlist(data.ip_allowlist)
    allowlist = "\n".join(e for e in re.split(r"[\s,;，；]+", data.ip_allowlist or "") if e)
    return SystemInput(name, identifier, account, password, scan_appid, scan_secret, allowlist)


async def _check_unique(clean: SystemInput, system_id: int | None) -> None:
    others = AccessSystem.exclude(id=system_id) if system_id else AccessSystem.all()
    if await others.filter(identifier=clean.identifier).exists():
        raise ValidationFailed("接入标识已被使用（整个平台内不可重复），请换一个", field="identifier")
    if await others.filter(auth_account=clean.auth_account).exists():
        raise ValidationFailed("认证账号已被其他接入系统使用，请换一个", field="auth_account")
    if clean.scan_appid and await others.filter(scan_appid=clean.scan_appid).exists():
        raise ValidationFailed(
            "该扫码登录appid已被其他接入系统使用（一个appid只能用于一个接入系统）", field="scan_appid"
        )


async def save_system(actor: Actor, system_id: int | None, data: SystemInput) -> int:
    """Create (``system_id`` None) or update an access system of the current org. Returns its id."""
    org_id = await _org_of(actor)
    clean = _clean(data, creating=system_id is None)
    await _check_unique(clean, system_id)
    org = await Org.get(id=org_id)
    try:
        async with write(actor, org_id=org_id, org_name=org.name, kind="access_system") as w:  # _org_of checked
            if system_id is None:
                system = await AccessSystem.create(
                    org_id=org_id,
                    name=clean.name,
                    identifier=clean.identifier,
                    auth_account=clean.auth_account,
                    auth_password=clean.auth_password,
                    scan_appid=clean.scan_appid,
                    scan_appsecret=clean.scan_appsecret,
                    ip_allowlist=clean.ip_allowlist,
                )
                await w.audit(
                    "access.create",
                    object_id=system.id,
                    object_name=system.name,
                    after=_snapshot(system),
                )
                return system.id
            system = await AccessSystem.get_or_none(id=system_id, org_id=org_id).select_for_update()
            if system is None:
                raise NotFound("接入系统不存在或已被删除")
            before = _snapshot(system)
            if clean.identifier != system.identifier:
                system.identifier_used = False  # a new identifier may be used once
            system.name = clean.name
            system.identifier = clean.identifier
            system.auth_account = clean.auth_account
            if clean.auth_password:
                system.auth_password = clean.auth_password
            system.scan_appid = clean.scan_appid
            if clean.scan_appsecret:
                system.scan_appsecret = clean.scan_appsecret
            elif not clean.scan_appid:
                system.scan_appsecret = ""
            system.ip_allowlist = clean.ip_allowlist
            await system.save()
            after = _snapshot(system)
            changed = {k for k in after if after[k] != before[k]}
            await w.audit(
                "access.update",
                object_id=system.id,
                object_name=system.name,
                before={k: before[k] for k in changed},
                after={k: after[k] for k in changed},
            )
            return system.id
    except IntegrityError as exc:  # a concurrent save took the identifier or account first
        raise ValidationFailed("接入标识或认证账号已被使用，请换一个", field="identifier") from exc


async def delete_system(actor: Actor, system_id: int) -> None:
    system = await _get_own(actor, system_id)
    org = await Org.get(id=system.org_id)
    async with write(actor, org_id=org.id, org_name=org.name, kind="access_system") as w:  # _get_own checked
        before = _snapshot(system)
        await system.delete()
        await w.audit(
            "access.delete",
            object_id=system_id,
            object_name=before["name"],
            before=before,
        )


async def rearm_identifier(actor: Actor, system_id: int) -> None:
    """重新启用接入标识: the identifier may be used for one more bind."""
    system = await _get_own(actor, system_id)
    org = await Org.get(id=system.org_id)
    async with write(actor, org_id=org.id, org_name=org.name, kind="access_system") as w:  # _get_own checked
        await AccessSystem.filter(id=system.id).update(identifier_used=False)
        await w.audit(
            "access.rearm",
            object_id=system.id,
            object_name=system.name,
            detail=f"重新启用接入标识 {system.identifier}",
        )


async def replay_notifications(actor: Actor, system_id: int) -> int:
    """重新发送: failed and waiting notifications are sent at once (one per event type). Returns how many."""
    system = await _get_own(actor, system_id)
    if not system.notify_url:
        raise ValidationFailed("该系统还没有接收通知接口，无法发送通知")
    org = await Org.get(id=system.org_id)
    now = datetime.now(UTC)
    async with write(actor, org_id=org.id, org_name=org.name, kind="access_system") as w:  # _get_own checked
        open_notes = await Notification.filter(system_id=system.id, delivered_at=None).order_by("-id")
        keep: dict[str, Notification] = {}
        for note in open_notes:
            if note.event_type in keep:
                await note.delete()  # coalesced into the newest one of its type
                continue
            keep[note.event_type] = note
            note.failed_at = None
            note.attempts = 0
            note.next_attempt_at = now
            await note.save(update_fields=["failed_at", "attempts", "next_attempt_at"])
        if not keep:
            # Nothing outstanding: send a fresh "contacts changed" so the system pulls now.
            await Notification.create(
                system_id=system.id,
                event_type=access_notify.CONTACTS_CHANGED,
                payload={"detail": {"reason": "manual"}, "changes": 0},
                next_attempt_at=now,
            )
        await w.audit(
            "access.replay",
            object_id=system.id,
            object_name=system.name,
            detail=f"重新发送 {max(len(keep), 1)} 条通知",
        )
    return max(len(keep), 1)


# ---------------------------------------------------------------------------------------------------------------
# The business systems' side: bind, authenticate, org info, notify URL.


def _org_config(org: Org, system: AccessSystem) -> dict[str, Any]:
    return {
        "orgName": org.name,
        "corpId": org.corpid,
        "appKey": org.appkey,
        "appSecret": org.appsecret,
        "agentId": org.agent_id or "",
        "scanAppId": system.scan_appid,
        "scanAppSecret": system.scan_appsecret,
        "apiBase": get_settings().effective_public_base_url,
    }


async def bind(identifier: str, notify_url: str, ip: str) -> dict[str, Any]:
    """Spend the identifier and hand out what the business system needs. Raises AccessError."""
    if bind_limiter.blocked(ip):
        raise AccessError(
            TOO_MANY, 429, f"绑定尝试过于频繁，请 1 分钟后再试（每个地址每分钟最多 {BIND_LIMIT_PER_MINUTE} 次）"
        )
    bind_limiter.hit(ip)
    identifier = (identifier or "").strip()
    if "\x00" in identifier or len(identifier) > 64:  # never a stored identifier; PostgreSQL refuses NUL in text
        identifier = identifier.replace("\x00", "")[:64] or "-"
        await audit.record(None, "access.bind_refused", login=identifier, ip=ip, detail="接入标识不存在")
        raise AccessError(UNKNOWN_IDENTIFIER, 404, "接入标识不存在，请向蓝钉管理平台的组织管理员确认")
    if not identifier:
        await audit.record(None, "access.bind_refused", login="-", ip=ip, detail="未提供接入标识")
        raise AccessError(BAD_REQUEST, 400, "请提供接入标识（identifier）")
    try:
        url = await check_notify_url(notify_url)
    except ValidationFailed as exc:
        raise AccessError(BAD_REQUEST, 400, exc.message) from exc
    system = await AccessSystem.get_or_none(identifier=identifier).prefetch_related("org")
    if system is None:
        await audit.record(None, "access.bind_refused", login=identifier[:64], ip=ip, detail="接入标识不存在")
        raise AccessError(UNKNOWN_IDENTIFIER, 404, "接入标识不存在，请向蓝钉管理平台的组织管理员确认")
    org = system.org
    common = {
        "org_id": org.id,
        "org_name": org.name,
        "object_type": "access_system",
        "object_id": system.id,
        "object_name": system.name,
        "login": identifier,
        "ip": ip,
    }
    if not ip_allowed(system.ip_allowlist, ip):
        await audit.record(None, "access.bind_refused", detail=f"来源地址 {ip} 不在白名单内", **common)
        raise AccessError(IP_REFUSED, 403, f"来源地址 {ip} 不在该接入系统的 IP 白名单内")
    now = datetime.now(UTC)
    async with write(None) as w:  # a business system binding: the identifier is the credential
        # Conditional update: of two simultaneous binds exactly one spends the identifier.
        spent = await AccessSystem.filter(id=system.id, identifier_used=False).update(
            identifier_used=True, bound_at=now, bound_ip=ip[:64], **({"notify_url": url} if url else {})
        )
        if spent:
            await w.audit("access.bind", detail=f"绑定成功，来源地址 {ip}", **common)
    if not spent:
        # Outside the transaction: the refusal must stay in the audit trail although the request fails.
        await audit.record(None, "access.bind_refused", detail="接入标识已被使用", **common)
        raise AccessError(
            IDENTIFIER_USED,
            409,
            "接入标识已被使用。如需重新绑定，请组织管理员在「设置 > 接入系统」中重新启用接入标识",
        )
    return {
        "errcode": 0,
        "errmsg": "ok",
        **_org_config(org, system),
        "authAccount": system.auth_account,
        "authPassword": system.auth_password,
        "notifyUrl": url or system.notify_url,
    }


async def authenticate(account: str, password: str, ip: str) -> AccessSystem:
    """HTTP Basic credentials of an access system. Raises AccessError (401, 403 or 429)."""
    if auth_failure_limiter.blocked(ip):
        raise AccessError(TOO_MANY, 429, "认证失败次数过多，请 1 分钟后再试")
    system = await AccessSystem.get_or_none(auth_account=account or "").prefetch_related("org") if account else None
    expected = system.auth_password if system else "\x00not-a-password"
    if not hmac.compare_digest((password or "").encode(), expected.encode()) or system is None:
        auth_failure_limiter.hit(ip)
        raise AccessError(BAD_CREDENTIALS, 401, "认证账号或认证密码错误")
    if not ip_allowed(system.ip_allowlist, ip):
        raise AccessError(IP_REFUSED, 403, f"来源地址 {ip} 不在该接入系统的 IP 白名单内")
    return system


async def org_info(system: AccessSystem) -> dict[str, Any]:
    org = system.org
    return {
        "errcode": 0,
        "errmsg": "ok",
        **_org_config(org, system),
        "isMain": org.is_main,
        "systemName": system.name,
        "notifyUrl": system.notify_url,
    }


async def set_notify_url(system: AccessSystem, url: str, ip: str) -> str:
    try:
        clean = await check_notify_url(url)
    except ValidationFailed as exc:
        raise AccessError(BAD_REQUEST, 400, exc.message) from exc
    if clean == system.notify_url:
        return clean
    org = system.org
    async with write(None, org_id=org.id, org_name=org.name, kind="access_system") as w:  # Basic auth checked
        await AccessSystem.filter(id=system.id).update(notify_url=clean)
        await w.audit(
            "access.notify_url",
            object_id=system.id,
            object_name=system.name,
            login=system.auth_account,
            ip=ip,
            before={"notify_url": system.notify_url},
            after={"notify_url": clean},
        )
    system.notify_url = clean
    return clean


async def org_config_changed(org_id: int) -> int:
    """The org's DingTalk configuration changed (corpId, appKey/appSecret, agentId...): tell the bound systems.

    Called by the org settings service after it commits. Returns how many systems will be notified.
    """
    return await access_notify.enqueue(org_id, access_notify.ORG_CHANGED, {})
