"""Outbound-request safety for addresses that users or access systems set (no SSRF).

An access system's 接收通知接口, an org's EKP 同步地址 and the other URLs admins type are fetched by this server,
from inside the company network. Without a guard, anyone who can set such a URL can make the console reach
127.0.0.1, the cloud metadata service (169.254.169.254) or an internal admin port and read the answer.

The rule: an address is refused when it is loopback, link-local, private, shared (CGNAT), multicast, reserved,
unspecified or otherwise not globally routable - in IPv4, IPv6, IPv4-mapped/compatible/6to4/NAT64 forms, and in
the numeric spellings ``inet_aton`` accepts (``0x7f000001``, ``2130706433``, ``0177.0.0.1``, ``127.1``) - unless it
lies in a range the admin allows (系统设置 > 出站访问允许的内网地址段, or ``LANDING_OUTBOUND_ALLOWED_RANGES`` for
the operator), so an on-prem install can still reach its own EKP.

Two checks, one policy:

- :func:`check_url` when a URL is saved: a clear Chinese message next to the field;
- :class:`GuardedConnector` on every connection of the shared HTTP session: the host is resolved once, every
  resolved address is checked, and the connection goes to the checked address (no DNS-rebinding gap). This also
  covers redirects, which callers of user-set URLs do not follow anyway.

Hosts the operator configured (the DingTalk API bases) are trusted by exact ``host:port``: they are settings, not
user input, and may point at an on-prem exclusive DingTalk or a simulator.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import aiohttp

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Response caps for user-set URLs: enough for a status line, never a whole internal page.
MAX_RESPONSE_BYTES = 64 * 1024
MAX_URL_CHARS = 512

_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


class UnsafeAddress(aiohttp.ClientConnectionError):
    """The URL points where this server must not go; ``message`` is Chinese and safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_ranges(entries: Iterable[str]) -> list[Network]:
    """``["10.0.0.0/8", "192.168.1.5"]`` -> networks; raises ValueError naming the bad entry."""
    networks: list[Network] = []
    for raw in entries:
        entry = str(raw).strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(entry) from exc
    return networks


def split_ranges(text: str) -> list[str]:
    return [p for p in text.replace("，", ",").replace(";", ",").replace("\n", ",").replace(" ", ",").split(",") if p]


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in _NAT64 or address in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    packed = address.packed
    if packed[:12] == b"\x00" * 12 and int(address) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(packed[12:])
    return None


def _why_internal(address: Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return _why_internal(inner)
    if address.is_loopback:
        return "本机地址"
    if address.is_link_local:
        return "链路本地地址（含云主机元数据地址）"
    if address.is_multicast:
        return "组播地址"
    if address.is_unspecified:
        return "未指定地址"
    if address.is_private or (isinstance(address, ipaddress.IPv4Address) and address in _SHARED):
        return "内网地址"
    if address.is_reserved or not address.is_global:
        return "保留地址"
    return None


def refusal(address: Address, allowed: Iterable[Network]) -> str | None:
    """Why ``address`` is refused, or None when it is public or inside an allowed range."""
    reason = _why_internal(address)
    if reason is None:
        return None
    candidates = [address]
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            candidates.append(inner)
    for network in allowed:
        if any(c.version == network.version and c in network for c in candidates):
            return None
    return reason


def literal_address(host: str) -> Address | None:
    """The address a host string denotes by itself, including the numeric forms browsers and libc accept."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))  # 0x7f000001, 2130706433, 0177.0.0.1, 127.1
    except (OSError, ValueError):
        return None


CONSOLE_HINT = "请超级管理员在「系统设置 > 出站访问允许的内网地址段」中添加该网段"


def _message(host: str, reason: str, hint: str = CONSOLE_HINT) -> str:
    return f"不允许访问{reason}（{host}）：请填写外部可访问的地址；确需访问内网系统（如本地部署的 EKP），{hint}"


class Policy:
    """The allowed ranges: the operator's (settings) plus the admin's (系统设置, read through ``provider``)."""

    def __init__(
        self,
        static_ranges: Iterable[str] = (),
        trusted_endpoints: Iterable[tuple[str, int]] = (),
        provider: Callable[[], Awaitable[list[str]]] | None = None,
        ttl: float = 5.0,
        hint: str = CONSOLE_HINT,
    ) -> None:
        self.static = parse_ranges(static_ranges)
        self.hint = hint  # where an admin allows a range: the console's 系统设置, or the connector's setting
        self.trusted = {(h.lower().strip("[]"), int(p)) for h, p in trusted_endpoints}
        self.provider = provider
        self.ttl = ttl
        self._cached: list[Network] = []
        self._cached_at = float("-inf")

    async def allowed(self) -> list[Network]:
        if self.provider is None:
            return self.static
        if time.monotonic() - self._cached_at > self.ttl:
            try:
                self._cached = parse_ranges(await self.provider())
            except ValueError:
                self._cached = []
            self._cached_at = time.monotonic()
        return self.static + self._cached

    def forget(self) -> None:
        """After the admin saved new ranges: read them on the next connection."""
        self._cached_at = float("-inf")

    def is_trusted(self, host: str, port: int) -> bool:
        return (host.lower().strip("[]"), int(port)) in self.trusted

    async def check_address(self, host: str, address: Address) -> None:
        reason = refusal(address, await self.allowed())
        if reason is not None:
            raise UnsafeAddress(_message(host, reason, self.hint))


_policy = Policy()


def install_policy(policy: Policy) -> None:
    global _policy
    _policy = policy


def policy() -> Policy:
    return _policy


def trusted_endpoint(url: str) -> tuple[str, int] | None:
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


async def check_url(url: str, *, resolve: bool = True, policy: Policy | None = None) -> str:
    """Validate a user-set URL before it is saved; returns it stripped. Raises UnsafeAddress with the reason.

    ``policy`` defaults to the console's (installed at start); the integration component passes its own."""
    guard = policy or _policy
    url = (url or "").strip()
    if len(url) > MAX_URL_CHARS:
        raise UnsafeAddress(f"地址过长（最多 {MAX_URL_CHARS} 个字符）")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeAddress("地址格式不正确") from exc
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise UnsafeAddress("地址中不能包含控制字符")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeAddress("须是 http:// 或 https:// 开头的完整地址")
    if parts.username or parts.password:
        raise UnsafeAddress("地址中不能包含账号或密码")
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    if guard.is_trusted(host, port):
        return url
    literal = literal_address(host)
    if literal is not None:
        await guard.check_address(host, literal)
        return url
    if host.rstrip(".").lower() == "localhost" or host.rstrip(".").lower().endswith(".localhost"):
        await guard.check_address(host, ipaddress.ip_address("127.0.0.1"))
    if resolve:
        for address in await _resolve(host, port):
            await guard.check_address(host, address)
    return url


async def _resolve(host: str, port: int) -> list[Address]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []  # unknown today: the connection-time check runs again when it resolves
    result: list[Address] = []
    for info in infos:
        try:
            result.append(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]))
        except ValueError:
            continue
    return result


class GuardedConnector(aiohttp.TCPConnector):
    """A TCP connector that checks every address it is about to connect to against the policy (the console's
    installed one unless ``policy`` is given: the integration component has its own ranges)."""

    def __init__(self, *args: Any, policy: Policy | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard = policy

    async def _resolve_host(self, host: str, port: int, traces: Any = None) -> list[Any]:  # type: ignore[override]
        hosts = await super()._resolve_host(host, port, traces=traces)
        guard = self._guard or _policy
        if guard.is_trusted(host, port):
            return hosts
        literal = literal_address(host)
        if literal is not None:
            await guard.check_address(host, literal)
        for entry in hosts:
            await guard.check_address(host, ipaddress.ip_address(str(entry["host"]).split("%", 1)[0]))
        return hosts


async def read_capped(response: aiohttp.ClientResponse, limit: int = MAX_RESPONSE_BYTES) -> bytes:
    """Read at most ``limit`` bytes of a body; the rest is dropped with the connection."""
    data = await response.content.read(limit)
    if not response.content.at_eof():
        response.release()
    return data


def status_line(status: int, reason: str | None = "") -> str:
    """What a page or log shows about an answer from a user-set URL: the status, never the body."""
    return f"HTTP {status} {(reason or '')[:40]}".strip()
