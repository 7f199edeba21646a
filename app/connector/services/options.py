"""登录配置 and 待办通知配置 (4.1.1-4.1.8): typed options stored as key/value rows, validated before saving."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields

from app.connector import runtime
from app.connector.models import Setting
from app.connector.services import audit
from app.connector.services.errors import ConnectorError

SCAN_MODES = {"oauth2": "OAuth2 网页登录（推荐）", "sns": "扫码登录第三方网站（旧版 sns）"}
TODO_API_TYPES = {"TODO": "钉钉待办（v1.0 待办接口）", "WF": "待办事项（旧版 workrecord）"}
_COLOUR = re.compile(r"^#?([0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$")


@dataclass
class Options:
    free_login_enabled: bool = False  # EKP 免登录
    scan_login_enabled: bool = False  # EKP 扫码登录
    scan_login_mode: str = "oauth2"
    sso_redirect_url: str = ""  # 登录回调地址: the business system's page that redeems the ticket
    todo_enabled: bool = True  # 待办待阅推送配置
    push_todo: bool = True  # 推送到钉钉待办
    todo_api_type: str = "TODO"  # EKP notifyApiType
    push_notify: bool = True  # 推送到钉钉通知
    push_toread: bool = False  # 待阅消息推送 (off by default, 4.1.5)
    message_agent_id: str = ""  # 钉钉消息微应用ID; empty = the bound AgentId
    title_color: str = ""  # 钉钉消息标题的颜色
    log_retention_days: int = 30  # 钉钉待办日志保存期限


def _parse(kind: type, text: str):
    if kind is bool:
        return text == "1"
    if kind is int:
        return int(text)
    return text


def _dump(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


async def load() -> Options:
    stored = {row.key: row.value for row in await Setting.all()}
    options = Options()
    for f in fields(Options):
        if f.name in stored:
            kind = type(getattr(options, f.name))
            try:
                setattr(options, f.name, _parse(kind, stored[f.name]))
            except ValueError:
                pass
    return options


def normalise_colour(text: str) -> str:
    """'#1E6FD9' / '1E6FD9' / 'FF1E6FD9' -> 'FF1E6FD9' (DingTalk wants 8 hex digits ARGB); '' stays ''."""
    text = (text or "").strip()
    if not text:
        return ""
    match = _COLOUR.match(text)
    if not match:
        raise ConnectorError(
            "颜色格式不正确：请填写 #RRGGBB 或 AARRGGBB（十六进制），例如 #1E6FD9", field="title_color"
        )
    value = match.group(1).upper()
    return value if len(value) == 8 else "FF" + value


def validate(options: Options, bound_agent_id: str) -> Options:
    options.scan_login_mode = options.scan_login_mode if options.scan_login_mode in SCAN_MODES else "oauth2"
    if options.todo_api_type not in TODO_API_TYPES:
        raise ConnectorError("待办接口类型只能是 TODO 或 WF", field="todo_api_type")
    options.title_color = normalise_colour(options.title_color)
    options.message_agent_id = (options.message_agent_id or "").strip()
    if options.message_agent_id and not options.message_agent_id.isdigit():
        raise ConnectorError("钉钉消息微应用ID 必须是数字", field="message_agent_id")
    if options.todo_enabled and options.push_notify and not (options.message_agent_id or bound_agent_id):
        raise ConnectorError("开启推送到钉钉通知时必须填写钉钉消息微应用ID", field="message_agent_id")
    if not 1 <= int(options.log_retention_days) <= 3650:
        raise ConnectorError("钉钉待办日志保存期限须在 1 到 3650 天之间", field="log_retention_days")
    url = options.sso_redirect_url.strip()
    if url and not re.match(r"^https?://[^\s/]+", url):
        raise ConnectorError("登录回调地址须以 http:// 或 https:// 开头", field="sso_redirect_url")
    options.sso_redirect_url = url
    return options


async def save(
    options: Options, bound_agent_id: str, actor: int | None = None, *, rt: runtime.ConnectorRuntime
) -> Options:
    options = validate(options, bound_agent_id)
    before = asdict(await load())
    changes = {k: {"before": before.get(k), "after": v} for k, v in asdict(options).items() if before.get(k) != v}
    for name, value in asdict(options).items():
        await Setting.update_or_create(defaults={"value": _dump(value)}, key=name)
    rt.config_changed()  # the push queue's cached options are re-read
    if changes:
        await audit.record(actor, "修改集成配置", changes)
    return options


async def get_value(key: str, default: str = "") -> str:
    row = await Setting.get_or_none(key=key)
    return row.value if row else default


async def set_value(key: str, value: str) -> None:
    """One stored row. A caller that changes an ``Options`` field this way then calls ``rt.config_changed()``."""
    await Setting.update_or_create(defaults={"value": value}, key=key)
