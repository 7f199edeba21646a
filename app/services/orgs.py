"""DingTalk organisations (guide 3.2.2-3.2.5, 3.3.2): create, edit, check with DingTalk, register the callback,
pull the main admin and the initial contacts, change the main admin, dissolve.

Saving an org is: validate every field -> check the credentials with DingTalk (gettoken; nothing is saved when
DingTalk says no) -> write in one transaction -> register the contacts callback (DingTalk calls our URL back during
registration, so the org must be committed first) -> pull the main admin -> pull the whole tree in the background.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from app import runtime
from app.core.config import get_settings
from app.dingtalk.client import App, DingTalkClient
from app.dingtalk.crypto import AES_KEY_LENGTH, generate_aes_key, generate_token
from app.dingtalk.errors import DingTalkAPIError, DingTalkError, DingTalkTransportError
from app.dingtalk.events import CONTACT_EVENT_TAGS
from app.models.accounts import Account, Role, RoleGrant
from app.models.contacts import Department, Person
from app.models.orgs import BaselineStatus, CallbackStatus, Company, Org
from app.models.system import SystemParam
from app.services import access_systems, accounts
from app.services.errors import NotFound, ServiceError, ValidationFailed
from app.services.permissions import Actor, Perm, authorize
from app.services.permissions import masked as mask  # last four for org admins, "已设置" for sub-admins
from app.services.write import Write, write, writer
from app.sync import dingtalk_in

log = logging.getLogger(__name__)

# Every contact event DingTalk offers for register_call_back (FAQ Q2: status and retry are on the org page).
CALLBACK_TAGS: tuple[str, ...] = tuple(
    dict.fromkeys(
        (
            *CONTACT_EVENT_TAGS,
            "org_change",
            "org_remove",
            "label_conf_add",
            "label_conf_modify",
            "label_conf_del",
        )
    )
)
_ID = re.compile(r"^[A-Za-z0-9_\-]+$")
_ALNUM = re.compile(r"^[A-Za-z0-9]+$")
_URL = re.compile(r"^https?://[^\s/:?#]+(:\d{1,5})?(/[^\s?#]*)?$")

CALLBACK_STATUS_NAMES = {CallbackStatus.SUCCESS: "成功", CallbackStatus.FAILED: "失败", CallbackStatus.NONE: "未注册"}
BASELINE_STATUS_NAMES = {
    BaselineStatus.PENDING: "等待拉取",
    BaselineStatus.RUNNING: "拉取中",
    BaselineStatus.DONE: "已完成",
    BaselineStatus.FAILED: "失败",
}


class FormInvalid(ValidationFailed):
    """Several fields are wrong at once; ``errors`` maps each field to the message shown next to it."""

    def __init__(self, errors: dict[str, str]) -> None:
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, field=first_field)
        self.errors = errors


class DingTalkRejected(ServiceError):
    """DingTalk refused the credentials: the message carries DingTalk's own error and the guide's advice."""


@dataclass
class OrgForm:
    name: str = ""
    corpid: str = ""
    appkey: str = ""
    appsecret: str = ""  # editing: empty keeps the stored secret
    agent_id: str = ""
    callback_domain: str = ""
    aes_key: str = ""  # empty: keep (editing) or generate (creating)
    callback_token: str = ""

    def cleaned(self) -> OrgForm:
        return OrgForm(**{k: (v or "").strip() for k, v in self.__dict__.items()})


@dataclass
class OrgView:
    id: int
    name: str
    company_name: str
    is_main: bool
    corpid: str
    appkey: str
    appsecret_masked: str
    agent_id: str
    callback_domain: str
    callback_url: str
    aes_key_masked: str
    callback_token_masked: str
    callback_status: str
    callback_status_name: str
    callback_error: str
    main_admin_id: int | None
    main_admin_name: str
    baseline_status: str
    baseline_status_name: str
    baseline_message: str


@dataclass
class SaveResult:
    org_id: int
    created: bool
    callback_ok: bool | None  # None: no callback domain, nothing registered
    callback_error: str = ""
    admin_name: str = ""
    admin_login: str = ""
    admin_initial_password: str = ""  # the new account's initial password, for the one dialog that shows it
    admin_error: str = ""
    messages: list[str] = field(default_factory=list)


def callback_url(domain: str, corpid: str) -> str:
    """What DingTalk will call: ``<domain>/api/ding_console/contacts/callback?corpid=<corpid>`` (guide 3.2.2.2)."""
    if not domain:
        return ""
    return f"{domain.rstrip('/')}/api/ding_console/contacts/callback?corpid={corpid}"


def new_callback_secrets() -> tuple[str, str]:
    """A fresh (AESKey, 回调Token) pair."""
    return generate_aes_key(), generate_token(16)


async def default_callback_domain() -> str:
    """The system parameter 服务器DNS(外网) (guide: 默认为参数配置中服务器 DNS(外网)), else the configured address."""
    param = await SystemParam.get_or_none(key="server_dns")
    value = (param.value or {}).get("value") if param else None
    if isinstance(value, str) and value.strip():
        return value.strip().rstrip("/")
    return get_settings().effective_public_base_url


# ---------------------------------------------------------------------------------------------------------------
# Validation


def check_fields(form: OrgForm, *, creating: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not form.name:
        errors["name"] = "请输入组织名称"
    elif len(form.name) > 128:
        errors["name"] = "组织名称不能超过 128 个字符"
    if not form.corpid:
        errors["corpid"] = "请输入 corpid（钉钉开放平台首页可拷贝）"
    elif len(form.corpid) > 64 or not _ALNUM.match(form.corpid):
        errors["corpid"] = "corpid 只能由字母和数字组成，最长 64 位，如 dingeaa642ee4b7ba1b735c2f4657eb6378f"
    if not form.appkey:
        errors["appkey"] = "请输入 appkey（应用详情 > 基础信息 > 应用信息）"
    elif len(form.appkey) > 64 or not _ID.match(form.appkey):
        errors["appkey"] = "appkey 只能由字母、数字、下划线和短横线组成，最长 64 位"
    if not form.appsecret:
        if creating:
            errors["appsecret"] = "请输入 appsecret（应用详情 > 基础信息 > 应用信息）"
    elif len(form.appsecret) > 256 or not _ID.match(form.appsecret):
        errors["appsecret"] = "appsecret 只能由字母、数字、下划线和短横线组成"
    if form.agent_id and (not form.agent_id.isdigit() or len(form.agent_id) > 32):
        errors["agent_id"] = "钉钉AgentId 应为数字，如 258412643"
    if form.callback_domain and (not _URL.match(form.callback_domain) or len(form.callback_domain) > 255):
        errors["callback_domain"] = "回调地址(域名)需以 http:// 或 https:// 开头，如 http://cyy.landray.com.cn:8081/ekp"
    if form.aes_key and (len(form.aes_key) != AES_KEY_LENGTH or not _ALNUM.match(form.aes_key)):
        errors["aes_key"] = f"AESKey 必须是 {AES_KEY_LENGTH} 位字母或数字，可点击“重新生成”"
    if form.callback_token and (not 6 <= len(form.callback_token) < 64 or not _ALNUM.match(form.callback_token)):
        errors["callback_token"] = "回调Token 需为 6 到 63 位字母或数字，可点击“重新生成”"
    return errors


async def check_unique(form: OrgForm, exclude_id: int | None) -> dict[str, str]:
    """corpid, appkey, appsecret and AgentId must not repeat another org's (guide 3.2.3)."""
    errors: dict[str, str] = {}
    others = await Org.exclude(id=exclude_id or 0).only("id", "name", "corpid", "appkey", "appsecret", "agent_id")
    for other in others:
        if form.corpid and other.corpid == form.corpid:
            errors.setdefault("corpid", f"该 corpid 已被组织「{other.name}」使用，多个组织不能填写相同的 corpid")
        if form.appkey and other.appkey == form.appkey:
            errors.setdefault("appkey", f"该 appkey 已被组织「{other.name}」使用，多个组织不能填写相同的 appkey")
        # Stored encrypted with a random IV: only the decrypted values can be compared.
        if form.appsecret and other.appsecret == form.appsecret:
            errors.setdefault(
                "appsecret", f"该 appsecret 已被组织「{other.name}」使用，多个组织不能填写相同的 appsecret"
            )
        if form.agent_id and other.agent_id == form.agent_id:
            errors.setdefault("agent_id", f"该 AgentId 已被组织「{other.name}」使用，多个组织不能填写相同的 AgentId")
    return errors


def describe_dingtalk_error(exc: Exception) -> str:
    """DingTalk's own words plus what the guide says to do about them."""
    if isinstance(exc, DingTalkAPIError):
        text = f"钉钉返回错误 {exc.effective_code}：{exc.errmsg or exc.meaning}"
        if exc.advice:
            text += f"\n处理建议：{exc.advice}"
        if exc.effective_code == 60020:
            text += "\n（参见常见问题 Q1：新建组织后，组织管理员为空）"
        return text
    if isinstance(exc, DingTalkTransportError):
        return (
            f"无法访问钉钉开放平台：{exc.reason}\n处理建议：请确认管理台服务器可以访问 https://oapi.dingtalk.com "
            "和 https://open.dingtalk.com（3.1.2 网络端口开通）"
        )
    return f"调用钉钉失败：{exc}"


async def verify_credentials(client: DingTalkClient, corpid: str, appkey: str, appsecret: str) -> None:
    """Ask DingTalk for an access token with these credentials; raises DingTalkRejected with the reason."""
    app = App(corpid, appkey, appsecret)
    client.transport.invalidate_token(app)  # a cached token of this appkey would hide a wrong secret
    try:
        await client.transport.get_access_token(app)
    except DingTalkError as exc:
        raise DingTalkRejected("钉钉校验 appkey/appsecret 失败，未保存。\n" + describe_dingtalk_error(exc)) from None
    try:
        belongs = await app_belongs_to_corp(client, app)
    except DingTalkError as exc:
        raise DingTalkRejected("钉钉校验 corpid 失败，未保存。\n" + describe_dingtalk_error(exc)) from None
    if not belongs:
        raise FormInvalid({"corpid": CORP_MISMATCH})


CORP_MISMATCH = "corpid 与 appkey 不属于同一企业"
# What the unified token API answers for valid client credentials and a corpId the app does not run in (the
# documented 401 unauthorized.client; a corpId unknown to DingTalk has been seen to give 500 unknownError).
_NOT_THIS_CORP = frozenset({"unauthorized.client", "invalid.client", "unknownError"})


async def app_belongs_to_corp(client: DingTalkClient, app: App) -> bool:
    """Does the app (whose appkey/appsecret DingTalk accepted) run in ``app.corpid``? Other errors propagate."""
    try:
        await client.login.check_app_corp(app)
    except DingTalkAPIError as exc:
        if exc.effective_code in _NOT_THIS_CORP:
            return False
        raise
    return True


async def validate(
    form: OrgForm, *, org: Org | None, client: DingTalkClient, extra: dict[str, str] | None = None
) -> OrgForm:
    """Field checks, uniqueness, then DingTalk. Returns the cleaned form with the secret to use filled in."""
    form = form.cleaned()
    errors = dict(extra or {})
    errors.update(check_fields(form, creating=org is None))
    if not errors:
        errors.update(await check_unique(form, org.id if org else None))
    if errors:
        raise FormInvalid(errors)
    if org is not None and not form.appsecret:
        form.appsecret = org.appsecret
    changed = org is None or (form.corpid, form.appkey, form.appsecret) != (org.corpid, org.appkey, org.appsecret)
    if changed:
        await verify_credentials(client, form.corpid, form.appkey, form.appsecret)
    return form


# ---------------------------------------------------------------------------------------------------------------
# Reading


async def _admin_names(orgs: list[Org]) -> dict[int, str]:
    ids = [o.main_admin_id for o in orgs if o.main_admin_id]
    if not ids:
        return {}
    return dict(await Person.filter(id__in=ids).values_list("id", "name"))


def _view(org: Org, company_name: str, admin_name: str) -> OrgView:
    return OrgView(
        id=org.id,
        name=org.name,
        company_name=company_name,
        is_main=org.is_main,
        corpid=org.corpid,
        appkey=org.appkey,
        appsecret_masked=mask(org.appsecret),
        agent_id=org.agent_id or "",
        callback_domain=org.callback_domain,
        callback_url=org.callback_url,
        aes_key_masked=mask(org.aes_key),
        callback_token_masked=mask(org.callback_token),
        callback_status=org.callback_status.value,
        callback_status_name=CALLBACK_STATUS_NAMES[org.callback_status],
        callback_error=org.callback_error,
        main_admin_id=org.main_admin_id,
        main_admin_name=admin_name,
        baseline_status=org.baseline_status.value,
        baseline_status_name=BASELINE_STATUS_NAMES[org.baseline_status],
        baseline_message=org.baseline_message,
    )


async def list_orgs(actor: Actor) -> list[OrgView]:
    await authorize(actor, Perm.COMPANY_MANAGE)
    orgs = await Org.all().select_related("company").order_by("id")
    names = await _admin_names(orgs)
    return [_view(o, o.company.name, names.get(o.main_admin_id or 0, "")) for o in orgs]


async def get_org(actor: Actor, org_id: int) -> OrgView:
    await authorize(actor, Perm.ORG_VIEW, org_id)
    org = await Org.get_or_none(id=org_id).select_related("company")
    if org is None:
        raise NotFound("组织不存在或已解散")
    names = await _admin_names([org])
    return _view(org, org.company.name, names.get(org.main_admin_id or 0, ""))


# ---------------------------------------------------------------------------------------------------------------
# Writing


def _snapshot(org: Org) -> dict[str, Any]:
    return {
        "name": org.name,
        "corpid": org.corpid,
        "appkey": org.appkey,
        "appsecret": org.appsecret,
        "agent_id": org.agent_id,
        "callback_domain": org.callback_domain,
        "aes_key": org.aes_key,
        "callback_token": org.callback_token,
    }


def _apply_form(org: Org, form: OrgForm) -> None:
    org.name = form.name
    org.corpid = form.corpid
    org.appkey = form.appkey
    org.appsecret = form.appsecret
    org.agent_id = form.agent_id or None
    org.callback_domain = form.callback_domain.rstrip("/")
    if form.aes_key:
        org.aes_key = form.aes_key
    if form.callback_token:
        org.callback_token = form.callback_token


async def insert_org(w: Write, company: Company, form: OrgForm, *, is_main: bool) -> Org:
    """Write a validated form as a new org with its root department (inside the caller's unit of work)."""
    aes_key, token = new_callback_secrets()
    org = Org(company=company, is_main=is_main, aes_key=aes_key, callback_token=token)
    _apply_form(org, form)
    await org.save()
    await dingtalk_in.root_department(org)
    return org


async def create_org(actor: Actor, form: OrgForm, *, rt: runtime.Runtime) -> SaveResult:
    """新建组织 (3.2.3)."""
    w = await writer(actor, Perm.ORG_MANAGE, kind="org")
    company = await Company.all().order_by("id").first()
    if company is None:
        raise ValidationFailed("请先填写公司信息，再创建组织")
    form = await validate(form, org=None, client=rt.dingtalk)
    async with w:
        org = await insert_org(w, company, form, is_main=False)
        await w.audit(
            "org.create", org_id=org.id, org_name=org.name, object_id=org.id, object_name=org.name, after=_snapshot(org)
        )
    return await after_save(actor, org, created=True, rt=rt)


async def update_org(actor: Actor, org_id: int, form: OrgForm, *, client: DingTalkClient) -> SaveResult:
    """编辑组织 (3.2.4) / 组织设置 (3.3.2)."""
    w = await writer(actor, Perm.ORG_EDIT, org_id=org_id, kind="org")
    org = await Org.get_or_none(id=org_id)
    if org is None:
        raise NotFound("组织不存在或已解散")
    before = _snapshot(org)
    form = await validate(form, org=org, client=client)
    callback_changed = (
        form.corpid != org.corpid
        or form.callback_domain.rstrip("/") != org.callback_domain
        or (form.aes_key and form.aes_key != org.aes_key)
        or (form.callback_token and form.callback_token != org.callback_token)
        or org.callback_status != CallbackStatus.SUCCESS
    )
    credentials_changed = (form.corpid, form.appkey, form.appsecret) != (org.corpid, org.appkey, org.appsecret)
    async with w:
        _apply_form(org, form)
        await org.save()
        await w.audit(
            "org.update", org_name=org.name, object_id=org.id, object_name=org.name, before=before, after=_snapshot(org)
        )
        if _snapshot(org) != before:
            # Bound business systems read corpId/appKey/appSecret/agentId from us: tell them to fetch again.
            w.after_commit(lambda: access_systems.org_config_changed(org.id))
    result = SaveResult(org_id=org.id, created=False, callback_ok=None)
    if callback_changed or credentials_changed:
        await _register_callback(client, org, result)
    if credentials_changed and org.main_admin_id is None:
        await _pull_main_admin(client, actor, org, result)
    return result


async def after_save(actor: Actor, org: Org, *, created: bool, rt: runtime.Runtime) -> SaveResult:
    """Callback registration, main admin pull and the background baseline for a newly bound org."""
    result = SaveResult(org_id=org.id, created=created, callback_ok=None)
    await _register_callback(rt.dingtalk, org, result)
    await _pull_main_admin(rt.dingtalk, actor, org, result)
    start_baseline(org.id, rt)
    return result


async def _register_callback(client: DingTalkClient, org: Org, result: SaveResult) -> None:
    if not org.callback_domain:
        org.callback_status, org.callback_error = CallbackStatus.NONE, ""
        async with write(None):  # the registration's state, for the use-case that checked the permission
            await org.save(update_fields=["callback_status", "callback_error"])
        result.messages.append("未填写回调地址(域名)：钉钉通讯录有更新将不会通知到蓝钉管理平台")
        return
    try:
        await client.contacts.register_or_update_callback(
            dingtalk_in.ding_app(org),
            url=org.callback_url,
            token=org.callback_token,
            aes_key=org.aes_key,
            tags=CALLBACK_TAGS,
        )
    except DingTalkError as exc:
        message = describe_dingtalk_error(exc)
        if isinstance(exc, DingTalkAPIError) and exc.effective_code in (71009, 71012, 71013):
            message = await _explain_handshake_failure(client, org, message)
        log.warning("callback registration failed for org %s: %s", org.id, exc)
        org.callback_status, org.callback_error = CallbackStatus.FAILED, message
        result.callback_ok, result.callback_error = False, message
    else:
        org.callback_status, org.callback_error = CallbackStatus.SUCCESS, ""
        result.callback_ok = True
    async with write(None):
        await org.save(update_fields=["callback_status", "callback_error", "updated_at"])


async def _explain_handshake_failure(client: DingTalkClient, org: Org, message: str) -> str:
    """DingTalk could not complete check_url. When the corpid is not the app's corp, DingTalk encrypted the
    handshake with its own corpid as key id and our endpoint refused it: say so, not "check the network"."""
    try:
        belongs = await app_belongs_to_corp(client, dingtalk_in.ding_app(org))
    except DingTalkError:
        belongs = True  # cannot tell: keep the usual advice
    if not belongs:
        return (
            f"{CORP_MISMATCH}：钉钉用该应用所属企业的 corpid 加密回调，与本组织填写的 corpid（{org.corpid}）不符，"
            "回调校验失败。\n处理建议：编辑组织，填写该应用所属企业的 corpid（钉钉开发者后台首页可拷贝）。"
        )
    return message + "\n（参见常见问题 Q2：请检查回调地址能否从外网访问）"


async def register_callback(actor: Actor, org_id: int, *, client: DingTalkClient) -> SaveResult:
    """重新注册 (FAQ Q2)."""
    w = await writer(actor, Perm.ORG_EDIT, org_id=org_id, kind="org")
    org = await Org.get_or_none(id=org_id)
    if org is None:
        raise NotFound("组织不存在或已解散")
    result = SaveResult(org_id=org.id, created=False, callback_ok=None)
    await _register_callback(client, org, result)
    async with w:
        await w.audit(
            "org.register_callback",
            org_name=org.name,
            object_id=org.id,
            object_name=org.name,
            detail="成功" if result.callback_ok else (result.callback_error or "未填写回调地址"),
        )
    return result


async def _pull_main_admin(client: DingTalkClient, actor: Actor | None, org: Org, result: SaveResult) -> None:
    """Guide 3.2.2.2/3.3.1: DingTalk's main admin becomes the org admin, login = mobile, password 123456."""
    app = dingtalk_in.ding_app(org)
    try:
        admins = await client.contacts.list_admins(app)
        main = next((a for a in admins if a.sys_level == 1), None)
        if main is None:
            result.admin_error = "钉钉未返回主管理员（sys_level=1）"
            return
        user = await client.contacts.get_user(app, main.userid)
    except DingTalkError as exc:
        result.admin_error = "拉取钉钉主管理员失败：" + describe_dingtalk_error(exc)
        log.warning("pulling the main admin of org %s failed: %s", org.id, exc)
        return
    await dingtalk_in.apply_user(org, user, force=True)
    person = await Person.get(org_id=org.id, ding_userid=user.userid)
    login = person.mobile or person.login_name or user.userid
    async with write(None):  # the grant and the org's main admin commit together
        account, _ = await accounts.grant_role(
            actor, login=login, display_name=person.name, role=Role.ORG_ADMIN, org=org, person_id=person.id
        )
        org.main_admin_id = person.id
        await org.save(update_fields=["main_admin_id"])
    result.admin_name, result.admin_login = person.name, login
    result.admin_initial_password = getattr(account, "initial_password", None) or ""


# -- main admin ---------------------------------------------------------------------------------------------------


def login_for(person: Person) -> str:
    """An admin pulled from contacts logs in with the login name, else the mobile (guide 3.3.1)."""
    login = person.login_name or person.mobile
    if not login:
        raise ValidationFailed(f"{person.name} 没有登录名和手机号，无法创建管理员账号", field="person")
    return login


@dataclass(frozen=True)
class NewMainAdmin:
    login: str
    initial_password: str = ""  # only when the account was created now: shown once, never stored in clear


async def set_main_admin(actor: Actor, org_id: int, person_id: int) -> NewMainAdmin:
    """修改主管理员 (3.2.4): the new one gets the org admin role; the previous one loses it in this org."""
    w = await writer(actor, Perm.ORG_EDIT, org_id=org_id, kind="org")
    org = await Org.get_or_none(id=org_id)
    if org is None:
        raise NotFound("组织不存在或已解散")
    person = await Person.get_or_none(id=person_id, org_id=org_id, is_active=True)
    if person is None:
        raise ValidationFailed("请从本组织通讯录中选择一名有效人员", field="person")
    login = login_for(person)
    previous = org.main_admin_id
    if previous == person.id:
        return NewMainAdmin(login)
    async with w:
        account, _ = await accounts.grant_role(
            actor, login=login, display_name=person.name, role=Role.ORG_ADMIN, org=org, person_id=person.id
        )
        if previous:
            old = await RoleGrant.filter(org_id=org.id, role=Role.ORG_ADMIN, person_id=previous).first()
            if old is not None:
                await accounts.revoke_role(actor, account_id=old.account_id, role=Role.ORG_ADMIN, org=org)
        org.main_admin_id = person.id
        await org.save(update_fields=["main_admin_id", "updated_at"])
        await w.audit(
            "org.set_main_admin",
            org_name=org.name,
            object_id=org.id,
            object_name=org.name,
            before={"main_admin_id": previous},
            after={"main_admin_id": person.id, "main_admin": person.name},
        )
    return NewMainAdmin(login, getattr(account, "initial_password", None) or "")


# -- dissolve -------------------------------------------------------------------------------------------------------


@dataclass
class DissolveResult:
    names: list[str]
    warnings: list[str] = field(default_factory=list)  # callback registrations DingTalk could not delete


async def _unregister_callback(client: DingTalkClient, org: Org) -> str | None:
    """Delete our callback registration at DingTalk so a dissolved org's events stop reaching us (and 404ing).

    None when it is gone (or there was none); otherwise what the admin is told. Dissolving goes on either way.
    """
    if org.callback_status == CallbackStatus.NONE and not org.callback_domain:
        return None
    try:
        await client.contacts.delete_callback(dingtalk_in.ding_app(org))
    except DingTalkAPIError as exc:
        if exc.effective_code == 71007:  # nothing registered for this app
            return None
        log.warning("deleting the callback registration of org %s failed: %s", org.id, exc)
        reason = describe_dingtalk_error(exc)
    except DingTalkTransportError as exc:
        log.warning("deleting the callback registration of org %s failed: %s", org.id, exc)
        reason = describe_dingtalk_error(exc)
    else:
        return None
    return (
        f"组织「{org.name}」已解散，但未能删除其在钉钉的回调注册（钉钉仍会向原回调地址推送通讯录事件）。\n{reason}"
        "\n处理建议：在钉钉开发者后台删除该应用的事件订阅/回调地址。"
    )


async def dissolve_orgs(actor: Actor, org_ids: list[int], *, client: DingTalkClient) -> DissolveResult:
    """解散组织 (3.2.5): remove our data of these orgs and our callback registration at DingTalk; the DingTalk org
    itself stays. The main org cannot be dissolved."""
    w = await writer(actor, Perm.ORG_MANAGE, kind="org")
    if not org_ids:
        raise ValidationFailed("请先勾选要解散的组织")
    orgs = await Org.filter(id__in=org_ids).order_by("id")
    if len(orgs) != len(set(org_ids)):
        raise NotFound("部分组织不存在或已解散，请刷新后重试")
    main = [o.name for o in orgs if o.is_main]
    if main:
        raise ValidationFailed(f"主组织不可解散：{'、'.join(main)}")
    names = [o.name for o in orgs]
    unregistered = {org.id: await _unregister_callback(client, org) for org in orgs}
    ended: set[int] = set()
    async with w:
        for org in orgs:
            account_ids = list(await RoleGrant.filter(org_id=org.id).values_list("account_id", flat=True))
            ended.update(account_ids)
            # 其他部门 rows go with the people (ON DELETE CASCADE on the through table).
            await Person.filter(org_id=org.id).delete()
            await Department.filter(org_id=org.id).update(parent_id=None)  # RESTRICT between parent and child
            await Department.filter(org_id=org.id).delete()
            await org.delete()  # cascades: role grants, sync settings/runs/entries, callback events, access systems
            # Accounts that existed only for this org (its admins) go with it.
            still_used = set(await RoleGrant.filter(account_id__in=account_ids).values_list("account_id", flat=True))
            orphans = [a for a in set(account_ids) if a not in still_used]
            if orphans:
                await Account.filter(id__in=orphans).delete()
        for org in orgs:
            await w.audit(
                "org.dissolve",
                org_name=org.name,
                object_id=org.id,
                object_name=org.name,
                before={"corpid": org.corpid, "appkey": org.appkey},
                detail="解散组织：仅删除蓝钉管理平台中的组织数据，钉钉端组织未解散；"
                + ("钉钉回调注册未能删除" if unregistered[org.id] else "钉钉回调注册已删除"),
            )
        w.after_commit(lambda: accounts.end_sessions(ended))  # the org's admins: their open pages go to the login page
    return DissolveResult(names=names, warnings=[w for w in unregistered.values() if w])


# -- baseline (background) -------------------------------------------------------------------------------------------

BASELINE_TASK = "org-baseline"


def start_baseline(org_id: int, rt: runtime.Runtime) -> asyncio.Task:
    """Pull the whole DingTalk tree in the background; progress lands on Org.baseline_status/baseline_message."""
    return rt.tasks.spawn(f"{BASELINE_TASK}-{org_id}", run_baseline(org_id, rt))


async def wait_for_baselines(rt: runtime.Runtime, max_wait: float = 60.0) -> None:
    """Tests and the demo: wait for running baseline pulls (shutdown cancels them with every other task)."""
    await rt.tasks.wait(BASELINE_TASK, max_wait)


async def run_baseline(org_id: int, rt: runtime.Runtime) -> None:
    org = await Org.get_or_none(id=org_id)
    if org is None:
        return

    async def progress(message: str, done: int, total: int) -> None:
        await _baseline_state(org_id, baseline_message=message[:500])

    await _baseline_state(org_id, baseline_status=BaselineStatus.RUNNING, baseline_message="开始拉取钉钉通讯录")
    try:
        result = await dingtalk_in.pull_baseline(rt.dingtalk, dingtalk_in.ding_app(org), org, progress)
    except DingTalkError as exc:
        await _baseline_state(
            org_id, baseline_status=BaselineStatus.FAILED, baseline_message="拉取失败：" + describe_dingtalk_error(exc)
        )
        log.warning("baseline pull of org %s failed: %s", org_id, exc)
        return
    except Exception:
        log.exception("baseline pull of org %s failed", org_id)
        await _baseline_state(
            org_id, baseline_status=BaselineStatus.FAILED, baseline_message="拉取失败：内部错误，请查看服务器日志"
        )
        return
    async with write(None, org_id=org.id, org_name=org.name, kind="org") as w:
        await Org.filter(id=org_id).update(baseline_status=BaselineStatus.DONE, baseline_message=result.summary)
        await w.audit(
            "org.baseline",
            object_id=org.id,
            object_name=org.name,
            login="(system)",
            detail=result.summary + ("；" + "；".join(result.errors[:20]) if result.errors else ""),
        )


async def _baseline_state(org_id: int, **values: Any) -> None:
    """The pull's progress as the org page shows it (written for no actor, by the background pull)."""
    async with write(None):
        await Org.filter(id=org_id).update(**values)
