"""The console's public HTTP API as the connector uses it: bind, org info, notify URL and the mapping feed.

Every failure becomes a ``ConnectorError`` with a message an administrator can act on (wrong address, unknown or
used identifier, console unreachable), so nothing is saved when the console says no.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp

from app.connector.services.errors import ConnectorError
from app.core import net_guard

TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10)
FEED = "/api/lding-console/ldingOrgRestService"


def basic_header(account: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{account}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json"}


async def _request(
    http: aiohttp.ClientSession, method: str, url: str, *, body: Any = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    try:
        async with http.request(
            method,
            url,
            data=None if method == "GET" else json.dumps(body),
            headers=headers or {"Content-Type": "application/json"},
            timeout=TIMEOUT,
        ) as response:
            raw = await response.read()
            status = response.status
    except TimeoutError as exc:
        raise ConnectorError("连接蓝钉管理平台超时，请检查管理平台地址和网络", field="console_url") from exc
    except net_guard.UnsafeAddress as exc:  # an address saved before its range was taken off the allowed list
        raise ConnectorError(exc.message, field="console_url") from None
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        raise ConnectorError(
            f"无法连接蓝钉管理平台（{type(exc).__name__}），请检查管理平台地址是否正确、服务是否启动",
            field="console_url",
        ) from exc
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict) or "errcode" not in data:
        raise ConnectorError(
            f"该地址不是蓝钉管理平台（HTTP {status}，应答不是蓝钉接口格式），请检查管理平台地址", field="console_url"
        )
    if data.get("errcode") != 0 or status >= 400:
        message = str(data.get("errmsg") or f"HTTP {status}")
        field = "identifier" if status in (404, 409) else ""
        raise ConnectorError(f"蓝钉管理平台拒绝：{message}", field=field, status=status)
    return data


async def bind(http: aiohttp.ClientSession, console_url: str, identifier: str, notify_url: str) -> dict[str, Any]:
    return await _request(
        http, "POST", f"{console_url}/api/v1/access/bind", body={"identifier": identifier, "notifyUrl": notify_url}
    )


async def org(http: aiohttp.ClientSession, console_url: str, account: str, password: str) -> dict[str, Any]:
    return await _request(http, "GET", f"{console_url}/api/v1/access/org", headers=basic_header(account, password))


async def set_notify_url(
    http: aiohttp.ClientSession, console_url: str, account: str, password: str, notify_url: str
) -> dict[str, Any]:
    return await _request(
        http,
        "POST",
        f"{console_url}/api/v1/access/notify-url",
        body={"notifyUrl": notify_url},
        headers=basic_header(account, password),
    )


async def feed(
    http: aiohttp.ClientSession, console_url: str, account: str, password: str, kind: str, cursor: int
) -> list[dict[str, Any]]:
    """What EKP's component sends (ekp.md 5.1): Basic auth, JSON ``null`` body, ``timestamp`` = the cursor."""
    data = await _request(
        http, "POST", f"{console_url}{FEED}/{kind}?timestamp={int(cursor)}", headers=basic_header(account, password)
    )
    datas = data.get("datas")
    if not isinstance(datas, list):
        raise ConnectorError("蓝钉管理平台的映射应答缺少 datas")
    return datas
