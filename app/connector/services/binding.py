"""4.1 蓝钉集成配置绑定: bind with 管理平台地址 + 接入标识, show the bound org, 解除绑定 and 重新绑定.

Binding registers the connector's 接收通知接口 with the console in the same call, stores the DingTalk
credentials it receives (secrets encrypted at rest) and then fills the mapping tables with a full pull.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from app.connector import runtime
from app.connector.config import ConnectorSettings
from app.connector.models import Binding, DeptMapping, PersonMapping
from app.connector.services import audit, console_api, interface_log
from app.connector.services.errors import ConnectorError
from app.core import net_guard
from app.core.security import mask
from app.dingtalk.client import App

log = logging.getLogger(__name__)

NOTIFY_PATH = "/api/lding/notify"
_URL = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(/.*)?$")


@dataclass
class BindingView:
    console_url: str
    identifier: str
    org_name: str
    corp_id: str
    agent_id: str
    app_key: str
    app_secret_masked: str
    scan_app_id: str
    bound_at: datetime
    notify_url: str
    last_sync_at: datetime | None
    last_sync_result: str


def clean_console_url(text: str) -> str:
    url = (text or "").strip().rstrip("/")
    if not url:
        raise ConnectorError("请填写管理平台地址", field="console_url")
    if not _URL.match(url):
        raise ConnectorError(
            "管理平台地址格式不正确，应为 http(s)://主机[:端口]，例如 http://lding.example.com", field="console_url"
        )
    return url


def notify_url(settings: ConnectorSettings) -> str:
    base = (settings.public_base_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    return base + NOTIFY_PATH


async def current() -> Binding | None:
    return await Binding.all().order_by("-id").first()


async def require() -> Binding:
    binding = await current()
    if binding is None:
        raise ConnectorError("尚未绑定蓝钉管理平台：请先在「集成配置」中绑定")
    return binding


def dingtalk_app(binding: Binding, agent_id: str = "") -> App:
    agent = agent_id or binding.agent_id
    return App(corpid=binding.corp_id, appkey=binding.app_key, appsecret=binding.app_secret, agent_id=agent or None)


def view(binding: Binding) -> BindingView:
    return BindingView(
        console_url=binding.console_url,
        identifier=binding.identifier,
        org_name=binding.org_name,
        corp_id=binding.corp_id,
        agent_id=binding.agent_id,
        app_key=binding.app_key,
        app_secret_masked=mask(binding.app_secret),
        scan_app_id=binding.scan_app_id,
        bound_at=binding.bound_at,
        notify_url=binding.notify_url,
        last_sync_at=binding.last_sync_at,
        last_sync_result=binding.last_sync_result,
    )


async def bind(console_url: str, identifier: str, actor: int | None = None, *, rt: runtime.ConnectorRuntime) -> Binding:
    """Bind (or 重新绑定 with a new identifier). Nothing changes when the console refuses."""
    url = clean_console_url(console_url)
    identifier = (identifier or "").strip()
    if not identifier:
        raise ConnectorError("请填写接入标识", field="identifier")
    if len(identifier) > 64:
        raise ConnectorError("接入标识最长 64 个字符", field="identifier")
    try:  # the console is usually on the company network: its range must be allowed by the operator
        await net_guard.check_url(url, policy=rt.net_policy)
    except net_guard.UnsafeAddress as exc:
        raise ConnectorError(exc.message, field="console_url") from None
    my_notify_url = notify_url(rt.settings)
    request = {"url": f"{url}/api/v1/access/bind", "identifier": identifier, "notifyUrl": my_notify_url}
    try:
        answer = await console_api.bind(rt.http, url, identifier, my_notify_url)
    except ConnectorError as exc:
        await interface_log.record("钉钉集成", "绑定蓝钉管理平台", request, {"error": exc.message}, ok=False)
        raise
    await interface_log.record("钉钉集成", "绑定蓝钉管理平台", request, answer)
    old = await current()
    same_org = old is not None and old.corp_id == answer.get("corpId")
    await Binding.all().delete()
    if not same_org:  # another org's mapping is meaningless here
        await DeptMapping.all().delete()
        await PersonMapping.all().delete()
    binding = await Binding.create(
        console_url=url,
        identifier=identifier,
        org_name=str(answer.get("orgName") or ""),
        corp_id=str(answer["corpId"]),
        app_key=str(answer["appKey"]),
        app_secret=str(answer["appSecret"]),
        agent_id=str(answer.get("agentId") or ""),
        scan_app_id=str(answer.get("scanAppId") or ""),
        scan_app_secret=str(answer.get("scanAppSecret") or ""),
        auth_account=str(answer["authAccount"]),
        auth_password=str(answer["authPassword"]),
        notify_url=str(answer.get("notifyUrl") or my_notify_url),
        bound_at=datetime.now(UTC),
    )
    rt.config_changed()
    await audit.record(
        actor,
        "重新绑定" if old else "绑定蓝钉管理平台",
        {"console_url": url, "identifier": identifier, "org": binding.org_name, "corp_id": binding.corp_id},
    )
    log.info("bound to %s as %s (org %s)", url, binding.auth_account, binding.org_name)
    return binding


async def unbind(actor: int | None = None, *, rt: runtime.ConnectorRuntime) -> None:
    """解除绑定: tell the console to stop notifying (best effort), forget credentials and mappings."""
    binding = await current()
    if binding is None:
        raise ConnectorError("尚未绑定，无需解除")
    try:
        await console_api.set_notify_url(rt.http, binding.console_url, binding.auth_account, binding.auth_password, "")
        await interface_log.record("钉钉集成", "解除绑定", {"notifyUrl": ""}, {"errcode": 0})
    except ConnectorError as exc:
        await interface_log.record("钉钉集成", "解除绑定", {"notifyUrl": ""}, {"error": exc.message}, ok=False)
    await Binding.all().delete()
    await DeptMapping.all().delete()
    await PersonMapping.all().delete()
    rt.config_changed()
    await audit.record(actor, "解除绑定", {"console_url": binding.console_url, "identifier": binding.identifier})


async def refresh_org(rt: runtime.ConnectorRuntime) -> Binding:
    """After ``org.changed``: read the org's current DingTalk parameters from the console."""
    binding = await require()
    answer = await console_api.org(rt.http, binding.console_url, binding.auth_account, binding.auth_password)
    await interface_log.record("钉钉集成", "获取组织配置", {"url": f"{binding.console_url}/api/v1/access/org"}, answer)
    binding.org_name = str(answer.get("orgName") or binding.org_name)
    binding.corp_id = str(answer.get("corpId") or binding.corp_id)
    binding.app_key = str(answer.get("appKey") or binding.app_key)
    binding.app_secret = str(answer.get("appSecret") or binding.app_secret)
    binding.agent_id = str(answer.get("agentId") or binding.agent_id)
    binding.scan_app_id = str(answer.get("scanAppId") or "")
    binding.scan_app_secret = str(answer.get("scanAppSecret") or "")
    await binding.save()
    rt.config_changed()
    return binding
