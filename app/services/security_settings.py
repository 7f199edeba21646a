"""系统设置 > 安全设置: the security knobs an admin owns, kept apart from the ordinary system parameters.

- 出站访问允许的内网地址段: ranges the console may reach although they are internal (an on-prem EKP); everything
  else internal is refused by ``app.core.net_guard``.
- 受信任的代理: only a request from one of these addresses may tell us the client's address in ``X-Forwarded-For``.
- 初始密码: new admin accounts get the guide's 123456 or a random password shown once to the admin who created them.
- /metrics 访问令牌: when set, ``/metrics`` answers only requests with ``Authorization: Bearer <令牌>``.

One system parameter row (``security``) holds them as a JSON object; the ordinary parameter list skips it, so the
two blocks of the 系统设置 page never mix. The metrics token is encrypted at rest and only its last four
characters are ever shown.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field
from typing import Any

from app.core import net_guard
from app.core.security import decrypt_secret, encrypt_secret, mask
from app.models.system import SystemParam
from app.services import system_params
from app.services.errors import ValidationFailed
from app.services.permissions import Actor, Perm, authorize
from app.services.write import writer

PARAM_KEY = "security"
INITIAL_FIXED = "fixed"  # the guide's 123456
INITIAL_RANDOM = "random"
INITIAL_CHOICES = {INITIAL_FIXED: "123456（与使用手册一致）", INITIAL_RANDOM: "随机生成，创建时只显示一次"}
_CACHE_SECONDS = 5.0


@dataclass
class SecuritySettings:
    allowed_ranges: list[str] = field(default_factory=list)
    trusted_proxies: list[str] = field(default_factory=list)
    initial_password: str = INITIAL_FIXED
    metrics_token: str = ""


_cache: tuple[float, SecuritySettings] | None = None


async def load() -> SecuritySettings:
    global _cache
    now = time.monotonic()
    if _cache is not None and now - _cache[0] < _CACHE_SECONDS:
        return _cache[1]
    row = await SystemParam.get_or_none(key=PARAM_KEY)
    raw: dict[str, Any] = ((row.value or {}).get("value") if row else None) or {}
    settings = SecuritySettings(
        allowed_ranges=list(raw.get("allowed_ranges") or []),
        trusted_proxies=list(raw.get("trusted_proxies") or []),
        initial_password=raw.get("initial_password") or INITIAL_FIXED,
        metrics_token=decrypt_secret(raw.get("metrics_token_enc") or "") or "",
    )
    _cache = (now, settings)
    return settings


def forget_cache() -> None:
    global _cache
    _cache = None


async def allowed_ranges() -> list[str]:
    """The admin's part of the outbound policy (the operator's part comes from settings)."""
    return (await load()).allowed_ranges


@dataclass
class SecurityView:
    allowed_ranges: str
    trusted_proxies: str
    initial_password: str
    initial_choices: dict[str, str]
    metrics_token_masked: str


async def get_view(actor: Actor) -> SecurityView:
    await authorize(actor, Perm.SYSTEM_SETTINGS)
    settings = await load()
    return SecurityView(
        allowed_ranges="\n".join(settings.allowed_ranges),
        trusted_proxies="\n".join(settings.trusted_proxies),
        initial_password=settings.initial_password,
        initial_choices=dict(INITIAL_CHOICES),
        metrics_token_masked=mask(settings.metrics_token),
    )


def _ranges(text: str, field_name: str) -> list[str]:
    entries = net_guard.split_ranges(text or "")
    if len(entries) > 100:
        raise ValidationFailed("最多 100 项", field=field_name)
    try:
        networks = net_guard.parse_ranges(entries)
    except ValueError as exc:
        raise ValidationFailed(
            f"「{str(exc)[:40]}」不是有效的 IP 地址或网段（如 10.0.0.8、10.0.0.0/24）", field=field_name
        ) from exc
    return [str(n) for n in networks]


async def save(
    actor: Actor,
    *,
    allowed_ranges: str,
    trusted_proxies: str,
    initial_password: str,
    metrics_token: str | None = None,
) -> None:
    """Validate everything, then save and audit. ``metrics_token``: None keeps it, "" removes it."""
    w = await writer(actor, Perm.SYSTEM_SETTINGS, kind="system_param")
    ranges = _ranges(allowed_ranges, "allowed_ranges")
    if any(ipaddress.ip_network(r).prefixlen == 0 for r in ranges):
        raise ValidationFailed("不能允许全部地址（0.0.0.0/0 或 ::/0）", field="allowed_ranges")
    proxies = _ranges(trusted_proxies, "trusted_proxies")
    if initial_password not in INITIAL_CHOICES:
        raise ValidationFailed("请选择初始密码方式", field="initial_password")
    if metrics_token is not None and metrics_token and len(metrics_token.strip()) < 16:
        raise ValidationFailed("访问令牌至少 16 个字符", field="metrics_token")
    current = await load()
    token = current.metrics_token if metrics_token is None else metrics_token.strip()
    value = {
        "allowed_ranges": ranges,
        "trusted_proxies": proxies,
        "initial_password": initial_password,
        "metrics_token_enc": encrypt_secret(token) or "",
    }
    async with w:
        await system_params.put_value(w, PARAM_KEY, "安全设置", value)
        await w.audit(
            "system.security",
            object_id=PARAM_KEY,
            object_name="安全设置",
            before={
                "allowed_ranges": current.allowed_ranges,
                "trusted_proxies": current.trusted_proxies,
                "initial_password": current.initial_password,
                "metrics_token": "set" if current.metrics_token else "",
            },
            after={
                "allowed_ranges": ranges,
                "trusted_proxies": proxies,
                "initial_password": initial_password,
                "metrics_token": "set" if token else "",
            },
        )
        w.after_commit(forget_cache)
        w.after_commit(lambda: net_guard.policy().forget())


async def client_address(peer: str, forwarded_for: str) -> str:
    """The client's address: ``X-Forwarded-For`` counts only when the direct peer is a trusted proxy.

    With several proxies the right-most address that is not itself a trusted proxy is the client.
    """
    proxies = net_guard.parse_ranges((await load()).trusted_proxies)
    if not forwarded_for or not _in(peer, proxies):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()][-20:]
    for hop in reversed(hops):
        if not _in(hop, proxies):
            return hop[:64]
    return hops[0][:64] if hops else peer


def _in(address: str, networks: list) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip.version == n.version and ip in n for n in networks)
