"""DingTalk error types and the errcode table.

Two failure families reach callers of the client:

- ``DingTalkError``: DingTalk answered with a well-formed error envelope (oapi ``errcode != 0`` or a v1.0
  ``{"code", "message"}`` body). ``errcode`` is an ``int`` for oapi and the ``str`` code for v1.0 APIs.
- ``DingTalkTransportError``: no usable envelope at all (timeout, connection reset, HTTP 5xx HTML page, the
  IP flood-ban body, non-JSON text).

Both expose ``is_transient`` so the retry policy and the sync engine classify failures the same way.
The table below follows the reference's error table; ``advice`` is filled where the FAQ says what to fix, so an
admin sees "add the server's egress IP ..." instead of a bare number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

import aiohttp


class Retry(Enum):
    """How a failure should be handled by the caller of an API."""

    NO = "no"  # fix input or configuration
    YES = "yes"  # transient: back off and retry
    TOKEN = "token"  # refresh the access token, then retry once


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    zh: str
    en: str
    retry: Retry = Retry.NO
    advice: str | None = None


_ADVICE_TOKEN = (
    "访问令牌无效或已过期，客户端会自动刷新并重试一次；若持续出现请核对应用的 AppKey/AppSecret。"
    " (The access token is invalid or expired; the client refreshes it and retries once. If it persists, check the "
    "app's AppKey/AppSecret.)"
)
_ADVICE_CONTACTS_PERMISSION = (
    "请在钉钉开发者后台为该应用开通通讯录权限（权限管理：成员信息读权限、通讯录部门信息读权限、通讯录部门成员读权限、"
    "通讯录编辑权限），并将通讯录权限范围设为全部员工。 (Enable the 通讯录 (contacts) permissions for this app in the "
    "DingTalk developer console and set the contacts scope to all employees.)"
)
_ADVICE_SCOPE = (
    "请在开发者后台把应用的通讯录权限范围扩大到该部门/人员（建议全部员工）。 (Widen the app's contacts data scope in "
    "the developer console so it covers this department/user.)"
)
_ADVICE_WHITELIST = (
    "请在钉钉开发者后台 → 应用 → 开发管理 → 服务器出口IP 中添加本服务器的出口公网IP（错误信息中的 request ip）。 "
    "(Add this server's egress IP, shown as 'request ip' in the message, to the app's 服务器出口IP list in the "
    "DingTalk developer console.)"
)
_ADVICE_THROTTLE = (
    "调用频率超限；客户端已限流并退避重试，如仍频繁出现请降低并发或错开整点。 (Rate limit hit; the client already "
    "throttles and backs off. If this keeps happening, lower concurrency or avoid the top of the hour.)"
)

# errcode -> explanation. Keys are ints for oapi envelopes and strings for v1.0 ``code`` values.
ERROR_TABLE: dict[int | str, ErrorInfo] = {
    -1: ErrorInfo("系统繁忙", "system busy, retry later", Retry.YES),
    0: ErrorInfo("成功", "ok"),
    22: ErrorInfo("不合法的接口名称", "invalid method (unknown topapi name)"),
    88: ErrorInfo("鉴权异常，请查看子错误码", "auth/wrapper error, see sub code", Retry.YES),
    33001: ErrorInfo("无效的企业ID", "invalid corp id (token)", Retry.TOKEN, _ADVICE_TOKEN),
    33012: ErrorInfo("无效的userId", "invalid userid"),
    40001: ErrorInfo(
        "获取access_token时Secret错误，或者access_token无效",
        "secret wrong or access_token invalid",
        Retry.TOKEN,
        _ADVICE_TOKEN,
    ),
    40009: ErrorInfo("不合法的部门id", "invalid department id"),
    40011: ErrorInfo("不合法的排序值", "invalid order value"),
    40014: ErrorInfo("不合法的access_token", "invalid access_token", Retry.TOKEN, _ADVICE_TOKEN),
    40019: ErrorInfo(
        "该手机号码对应的用户最多可以加入5个非认证企业",
        "this mobile's user already joined 5 uncertified orgs",
        advice="该手机号已加入5个未认证组织：请该员工先退出其中一个，或完成本组织的企业认证。"
        " (The person must leave one of "
        "the uncertified orgs they joined, or this org must complete DingTalk certification.)",
    ),
    40022: ErrorInfo(
        "企业中的手机号码和登录钉钉的手机号码不一致，暂时不支持修改",
        "mobile differs from the DingTalk login mobile and cannot be changed",
        advice="手机号无法通过接口修改：请删除该员工后重新添加。 (A mobile number cannot be changed through the API; "
        "delete the user and add it again.)",
    ),
    40031: ErrorInfo("不合法的员工列表", "invalid userid list"),
    40035: ErrorInfo("不合法的参数", "invalid parameter (often a missing POST body)"),
    40056: ErrorInfo(
        "不合法的agentid",
        "invalid agentid",
        advice="请核对组织配置中的 AgentId。 (Check the AgentId configured for this org.)",
    ),
    40068: ErrorInfo("不合法的偏移量", "invalid offset"),
    40069: ErrorInfo("不合法的分页大小", "invalid page size"),
    40078: ErrorInfo(
        "不存在的临时授权码",
        "temporary auth code does not exist or was already used",
        advice="临时授权码只能使用一次且5分钟内有效，请重新登录。 (Auth codes are single-use and expire "
        "after 5 minutes; log in again.)",
    ),
    40089: ErrorInfo(
        "不合法的corpId或corpSecret",
        "invalid corpId/corpSecret",
        advice="请核对该组织的 AppKey 和 AppSecret。",
    ),
    40093: ErrorInfo("不合法的群主", "invalid group owner"),
    40103: ErrorInfo(
        "该用户需要其同意才可添加，已向对方发送邀请",
        "the user must consent; an invitation was sent",
        advice="该员工开启了账号保护、已在认证企业或开启了加入团队需验证："
        "钉钉已发出邀请，员工同意后才会加入，无法强制添加。 "
        "(Account protection: DingTalk sent an invitation and the user joins only after accepting it; this cannot "
        "be forced.)",
    ),
    40104: ErrorInfo("无效的手机号", "invalid mobile in org"),
    42001: ErrorInfo("access_token超时", "access_token expired", Retry.TOKEN, _ADVICE_TOKEN),
    43001: ErrorInfo("需要使用GET请求", "GET required"),
    43002: ErrorInfo("需要使用POST请求", "POST required"),
    43004: ErrorInfo("无效的HTTP HEADER Content-Type", "invalid Content-Type"),
    43005: ErrorInfo("需要Content-Type为application/json", "Content-Type must be application/json"),
    43007: ErrorInfo("需要授权", "authorization required", advice=_ADVICE_CONTACTS_PERMISSION),
    43009: ErrorInfo("POST的数据不是合法的JSON", "request body must be JSON"),
    50002: ErrorInfo("请求的员工userid不在授权范围内", "userid not in the app's data scope", advice=_ADVICE_SCOPE),
    50004: ErrorInfo("请求的部门id不在授权范围内", "department not in the app's data scope", advice=_ADVICE_SCOPE),
    60001: ErrorInfo(
        "不合法的部门名称",
        "invalid department name",
        advice="部门名称长度1-64，且不能包含 - , ， 字符。 (Department names are 1-64 characters without "
        "'-', ',' or '，'.)",
    ),
    60002: ErrorInfo("部门层级深度超过限制", "department depth limit exceeded"),
    60003: ErrorInfo(
        "部门不存在",
        "department not found",
        advice="钉钉中已不存在该部门：请执行一次全量同步以刷新部门映射。"
        " (The department no longer exists in DingTalk; run "
        "a full sync to refresh the department mapping.)",
    ),
    60004: ErrorInfo(
        "父部门不存在", "parent department not found", advice="请先同步父部门。 (Push the parent department first.)"
    ),
    60005: ErrorInfo(
        "不允许删除有成员的部门",
        "cannot delete a department that has members",
        advice="请先移出或删除部门成员。 (Move or delete its members first.)",
    ),
    60006: ErrorInfo(
        "不允许删除有子部门的部门",
        "cannot delete a department that has sub-departments",
        advice="请先删除子部门。 (Delete the sub-departments first.)",
    ),
    60007: ErrorInfo("不允许删除根部门", "the root department cannot be deleted"),
    60009: ErrorInfo(
        "部门名称含有非法字符",
        "department name contains illegal characters",
        advice="部门名称不能包含 - , ， 字符。 (Department names must not contain '-', ',' or '，'.)",
    ),
    60010: ErrorInfo("部门层级关系存在循环", "department cycle"),
    60011: ErrorInfo("没有调用该接口的权限", "no permission for this API", advice=_ADVICE_CONTACTS_PERMISSION),
    60016: ErrorInfo("部门id已经存在", "department id already exists"),
    60018: ErrorInfo("根部门不允许更新", "the root department cannot be updated"),
    60019: ErrorInfo("从部门查询人员失败", "failed to query users of the department"),
    60020: ErrorInfo("访问ip不在白名单之中", "request IP not in the app's whitelist", advice=_ADVICE_WHITELIST),
    60102: ErrorInfo("UserID在公司中已存在", "userid already exists in the org"),
    60103: ErrorInfo(
        "手机号码不合法",
        "invalid mobile number",
        advice="国际号码请使用 +xx-xxxxxx 格式。 (Use the +xx-xxxxxx format for non-mainland numbers.)",
    ),
    60104: ErrorInfo(
        "手机号码在公司中已存在",
        "mobile number already exists in the org",
        advice="该手机号已属于组织内另一员工：请用手机号查询其userid并建立映射，而不是重复创建。 (The mobile already "
        "belongs to a user in this org; look the user up by mobile and map it instead of creating a duplicate.)",
    ),
    60105: ErrorInfo("邮箱不合法", "invalid email"),
    60106: ErrorInfo("邮箱已存在", "email already exists"),
    60107: ErrorInfo("使用该手机登录钉钉的用户已经在企业中", "a user logged in with this mobile is already in the org"),
    60109: ErrorInfo("可见范围设置不合法", "invalid visibility (permit) list"),
    60110: ErrorInfo("部门个数超出限制", "too many departments"),
    60111: ErrorInfo("UserID不存在", "userid does not exist"),
    60112: ErrorInfo("用户名称不合法", "invalid user name"),
    60113: ErrorInfo("手机号和邮箱不能同时为空", "mobile and email are both empty"),
    60120: ErrorInfo("用户已经被禁用", "user is disabled"),
    60121: ErrorInfo(
        "找不到该用户",
        "user not found",
        advice="该员工不在本组织（已离职、未激活或尚未接受邀请）；若所有员工都报此错，说明应用缺少通讯录读权限或权限范围不足："
        + _ADVICE_CONTACTS_PERMISSION,
    ),
    60122: ErrorInfo("不合法的扩展属性", "invalid extension attributes"),
    60123: ErrorInfo("不合法的工号", "invalid job number"),
    60128: ErrorInfo("不合法的主管ID", "invalid manager userid"),
    600109: ErrorInfo("可见范围设置不合法", "invalid visibility (permit) list"),
    71006: ErrorInfo(
        "回调地址已经存在",
        "callback already registered",
        advice="已注册过回调，请改用更新回调接口。 (A callback is already registered; update it instead.)",
    ),
    71007: ErrorInfo("回调地址已不存在", "callback no longer exists"),
    71008: ErrorInfo("不允许注册该事件类型", "callback tag not allowed"),
    71009: ErrorInfo(
        "返回文本非success",
        "callback URL did not answer an encrypted 'success'",
        advice="回调地址必须在1.5秒内返回加密的 success，请检查回调令牌和AES密钥是否一致。"
        " (The callback URL must answer an "
        "encrypted 'success' within 1.5 s; check that the token and AES key match.)",
    ),
    71010: ErrorInfo("POST的JSON数据不包含所需要的参数字段或包含的参数格式非法", "bad callback JSON fields"),
    71011: ErrorInfo("传入的url参数不是合法的url格式", "malformed callback URL"),
    71012: ErrorInfo(
        "url地址访问异常",
        "callback URL unreachable",
        advice="钉钉无法访问回调地址：请确认回调域名可从公网访问（钉钉推送出口网段 203.119.0.0/16、140.205.0.0/16、"
        "106.11.0.0/16、198.11.0.0/16）。 (DingTalk cannot reach the callback URL; make it reachable from DingTalk's "
        "push ranges.)",
    ),
    71013: ErrorInfo("此域名或IP不能注册或者接收回调事件", "domain/IP not allowed for callbacks"),
    90001: ErrorInfo(
        "您的服务器调用钉钉开放平台所有接口的请求都被暂时禁用了",
        "all APIs temporarily disabled for your server",
        advice=_ADVICE_THROTTLE,
    ),
    90002: ErrorInfo(
        "您的服务器调用钉钉开放平台当前接口的所有请求都被暂时禁用了",
        "this API temporarily disabled (global QPS)",
        Retry.YES,
        _ADVICE_THROTTLE,
    ),
    90003: ErrorInfo(
        "您的企业调用钉钉开放平台所有接口的请求都被暂时禁用了", "corp temporarily disabled", advice=_ADVICE_THROTTLE
    ),
    90004: ErrorInfo(
        "您当前使用的CorpId及CorpSecret被暂时禁用了", "corp secret temporarily disabled", advice=_ADVICE_THROTTLE
    ),
    90005: ErrorInfo(
        "您的企业调用当前接口次数过多，请求被暂时禁用了",
        "corp called this API too often (per minute)",
        Retry.YES,
        _ADVICE_THROTTLE,
    ),
    90006: ErrorInfo(
        "您当前使用的CorpId及CorpSecret调用当前接口次数过多",
        "app called this API too often (per minute)",
        Retry.YES,
        _ADVICE_THROTTLE,
    ),
    90017: ErrorInfo("此IP使用CorpId及CorpSecret调用接口的CorpId过多", "too many corpIds from this IP"),
    90018: ErrorInfo("当前应用调用该接口的并发数过高", "per-app per-API QPS exceeded", Retry.YES, _ADVICE_THROTTLE),
    90020: ErrorInfo(
        "本月接口调用次数已超出限额",
        "monthly API quota exceeded",
        advice="标准版组织每月调用次数已用完：请升级钉钉版本或等待下月。 (The standard edition's monthly quota "
        "is used up; upgrade the edition or wait for next month.)",
    ),
    400001: ErrorInfo("系统错误", "system error", Retry.YES),
    400002: ErrorInfo("参数错误", "invalid parameter"),
    400040: ErrorInfo("回调不存在", "callback does not exist"),
    400041: ErrorInfo("回调已经存在", "callback already exists"),
    143103: ErrorInfo("企业发送消息的QPM超限", "message QPM exceeded (org)", Retry.YES),
    143104: ErrorInfo("应用发送消息的QPM超限", "message QPM exceeded (app)", Retry.YES),
    143105: ErrorInfo("同一员工每天接收消息数超限", "per-user daily message cap reached"),
    143106: ErrorInfo("同一员工当天重复接收相同内容的消息", "duplicate message to the same user today"),
    854001: ErrorInfo("待办重复", "duplicate work record"),
    854002: ErrorInfo("每人每天待办数超限", "daily work record cap reached"),
    853001: ErrorInfo("时间戳不是毫秒", "timestamp is not in milliseconds"),
    853002: ErrorInfo(
        "时间戳与服务器时间相差超过1分钟",
        "timestamp off by more than 1 minute",
        advice="请校准本服务器时钟（NTP）。 (Synchronise this server's clock with NTP.)",
    ),
    853003: ErrorInfo(
        "无效的accessKey",
        "unknown accessKey (scan-login appid)",
        advice="请核对接入系统的扫码登录 appId。 (Check the scan-login appId.)",
    ),
    853004: ErrorInfo(
        "签名不匹配", "signature mismatch", advice="请核对扫码登录的 appSecret。 (Check the scan-login appSecret.)"
    ),
    12150: ErrorInfo(
        "已开启智能人事岗位管理，不允许修改职位或部门",
        "title/department changes blocked by smart-HR",
        advice="请在钉钉智能人事中修改职位/部门，或关闭岗位管理。 (Change title/department in DingTalk's smart HR "
        "or disable position management there.)",
    ),
    # v1.0 API codes (HTTP status + {"code","message"}).
    "InvalidAuthentication": ErrorInfo(
        "不合法的access_token", "invalid or expired access token", Retry.TOKEN, _ADVICE_TOKEN
    ),
    "Forbidden.AccessDenied.AccessTokenPermissionDenied": ErrorInfo(
        "应用缺少该接口所需的权限点",
        "the app lacks a required permission scope",
        advice="请在开发者后台 → 权限管理 中开通错误信息 requiredScopes 列出的权限（如通讯录权限）。"
        " (Enable the scopes "
        "listed in requiredScopes, e.g. the 通讯录 permissions, in the developer console.)",
    ),
    "Forbidden.AccessDenied.IpNotInWhiteList": ErrorInfo(
        "访问ip不在白名单之中", "request IP not in the app's whitelist", advice=_ADVICE_WHITELIST
    ),
    "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi": ErrorInfo(
        "应用调用该接口QPS超限", "per-app per-API QPS exceeded", Retry.YES, _ADVICE_THROTTLE
    ),
    "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi": ErrorInfo(
        "应用调用该接口QPM超限", "per-app per-API QPM exceeded", Retry.YES, _ADVICE_THROTTLE
    ),
    "Forbidden.AccessDenied.QpsLimitForApi": ErrorInfo(
        "该接口全局QPS超限", "global per-API QPS exceeded", Retry.YES, _ADVICE_THROTTLE
    ),
    "Forbidden.AccessDenied.ApiCountLimitForOrg": ErrorInfo("本月接口调用次数已超出限额", "monthly API quota exceeded"),
    # The unified token API (/v1.0/oauth2/{corpId}/token) answers OAuth-style codes.
    "invalid.client": ErrorInfo("无效的 client_id 或 client_secret", "invalid client credentials"),
    "unauthorized.client": ErrorInfo(
        "应用未在该组织中安装或授权",
        "the app does not run in this corpId",
        advice="请核对 corpId 是否为该应用所属企业的 corpId（钉钉开发者后台首页可拷贝）。",
    ),
    "unsupported.grant.type": ErrorInfo("不支持的授权类型", "unsupported grant type"),
    "invalidParameter": ErrorInfo("参数错误", "invalid parameter"),
    "invalidParameter.user.notFound": ErrorInfo("找不到该用户", "user not found"),
    "systemError": ErrorInfo("系统错误", "system error", Retry.YES),
    "service.timeout": ErrorInfo("服务超时", "service timeout", Retry.YES),
    # 专属数据存储 (exclusive_1_0 fileStorages): codes chosen in app/dingtalk/exclusive_api.py (DingTalk does not
    # document them).
    "invalidParameter.oss.url": ErrorInfo(
        "OSS链接地址格式不正确",
        "not an OSS bucket domain",
        advice="请完整输入阿里云 OSS 的 bucket 域名，格式如 https://xxxx.oss-cn-hangzhou.aliyuncs.com。"
        " (Enter the bucket's full domain, e.g. https://xxxx.oss-cn-hangzhou.aliyuncs.com.)",
    ),
    "fileStorage.oss.bucketNotFound": ErrorInfo(
        "OSS bucket 不存在",
        "no such bucket",
        advice="请在阿里云 OSS 控制台核对 bucket 名称和地域。 (Check the bucket name and region in the OSS console.)",
    ),
    "fileStorage.oss.invalidAccessKeyId": ErrorInfo(
        "AccessKey ID 不存在或已禁用",
        "AccessKey ID unknown or disabled",
        advice="请核对购买阿里云服务时提供的 AccessKey ID，并确认其未被禁用。 (Check the AccessKey ID.)",
    ),
    "fileStorage.oss.signatureNotMatch": ErrorInfo(
        "AccessKey Secret 不正确",
        "AccessKey Secret does not match",
        advice="请重新输入与该 AccessKey ID 配对的 AccessKey Secret。 (Enter the secret that belongs to this key.)",
    ),
    "fileStorage.oss.connectFailed": ErrorInfo(
        "无法连接 OSS bucket",
        "bucket unreachable",
        advice="钉钉无法访问该 bucket：请检查 bucket 的访问控制（Bucket Policy / 防盗链）是否拒绝了钉钉。"
        " (DingTalk cannot reach the bucket; check its bucket policy.)",
    ),
    "fileStorage.notOpened": ErrorInfo("专属存储尚未开通", "exclusive storage not opened"),
    "fileStorage.alreadyOpened": ErrorInfo(
        "专属存储已开通，不能更换 OSS",
        "storage already opened with another bucket",
        advice="已开通的专属存储只能更新 AccessKey。 (Once opened, only the AccessKey can change.)",
    ),
    "invalidParameter.targetCorpId": ErrorInfo("targetCorpId 与调用应用所在组织不一致", "targetCorpId not allowed"),
}

TOKEN_INVALID_CODES: frozenset[int | str] = frozenset(k for k, v in ERROR_TABLE.items() if v.retry is Retry.TOKEN)
TRANSIENT_CODES: frozenset[int | str] = frozenset(k for k, v in ERROR_TABLE.items() if v.retry is Retry.YES)
# Throttling codes: the documentation asks for at least one second of sleep before retrying these.
THROTTLE_CODES: frozenset[int | str] = frozenset(
    {
        90002,
        90005,
        90006,
        90018,
        143103,
        143104,
        "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
        "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi",
        "Forbidden.AccessDenied.QpsLimitForApi",
    }
)

_SUBCODE_RE = re.compile(r"sub_?code\s*[=:]\s*\"?(-?\d+)", re.IGNORECASE)


_ENGLISH_GLOSS = re.compile(r"\s*\((?=[A-Z])[^()]*(?:\([^()]*\)[^()]*)*\)\s*$")


def chinese_only(text: str) -> str:
    """ "请核对 AgentId。 (Check the AgentId.)" -> "请核对 AgentId。"."""
    return _ENGLISH_GLOSS.sub("", text).strip()


def lookup(code: int | str | None) -> ErrorInfo | None:
    """Table entry for an errcode (int or numeric string) or a v1.0 code."""
    if code is None:
        return None
    if isinstance(code, str):
        if code.lstrip("-").isdigit():
            return ERROR_TABLE.get(int(code))
        return ERROR_TABLE.get(code)
    return ERROR_TABLE.get(code)


def _coerce_code(code: int | str) -> int | str:
    # Official samples sometimes show errcode as a string ("0"); normalise so comparisons with ints work.
    if isinstance(code, str) and code.strip().lstrip("-").isdigit():
        return int(code.strip())
    return code


class DingTalkError(Exception):
    """DingTalk answered with an error envelope.

    ``errcode`` is the raw code; for the topapi wrapper error 88 the wrapped ``sub_code`` (e.g. 60020, 40014) is
    parsed from ``sub_code`` or the ``errmsg`` text and drives ``effective_code``, ``meaning`` and the retry class.
    """

    def __init__(
        self,
        errcode: int | str,
        errmsg: str,
        request_id: str | None = None,
        *,
        sub_code: int | str | None = None,
        sub_msg: str | None = None,
        http_status: int | None = None,
        path: str | None = None,
    ) -> None:
        self.errcode: int | str = _coerce_code(errcode)
        self.errmsg = errmsg or ""
        self.request_id = request_id
        self.sub_msg = sub_msg
        self.http_status = http_status
        self.path = path
        if sub_code is None and self.errcode == 88:
            match = _SUBCODE_RE.search(self.errmsg)
            sub_code = int(match.group(1)) if match else None
        self.sub_code: int | str | None = _coerce_code(sub_code) if sub_code not in (None, "") else None
        super().__init__(str(self))

    @property
    def effective_code(self) -> int | str:
        """The code that describes the actual failure (the sub code of a wrapper error 88 when it is known)."""
        if self.errcode == 88 and self.sub_code is not None and lookup(self.sub_code) is not None:
            return self.sub_code
        return self.errcode

    @property
    def info(self) -> ErrorInfo | None:
        return lookup(self.effective_code)

    @property
    def meaning(self) -> str:
        info = self.info
        if info is None:
            return "未知错误 (unknown error)"
        return f"{info.zh} ({info.en})"

    @property
    def advice(self) -> str | None:
        """What admins read: the Chinese advice (the English gloss in the table is for maintainers)."""
        info = self.info
        return chinese_only(info.advice) if info and info.advice else None

    @property
    def is_token_invalid(self) -> bool:
        return self.effective_code in TOKEN_INVALID_CODES

    @property
    def is_throttled(self) -> bool:
        return self.effective_code in THROTTLE_CODES

    @property
    def is_transient(self) -> bool:
        code = self.effective_code
        if code in TRANSIENT_CODES:
            # An 88 that wraps a known non-transient cause (whitelist, permission) is not worth retrying.
            return not (code == 88 and self.sub_code is not None)
        return self.http_status is not None and self.http_status >= 500

    def __str__(self) -> str:
        text = f"DingTalk error {self.errcode}"
        if self.sub_code is not None:
            text += f" (sub code {self.sub_code})"
        text += f": {self.errmsg} [{self.meaning}]"
        if self.path:
            text += f" at {self.path}"
        if self.request_id:
            text += f" request_id={self.request_id}"
        return text

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_error,
            (self.errcode, self.errmsg, self.request_id, self.sub_code, self.sub_msg, self.http_status, self.path),
        )


def _rebuild_error(
    errcode: int | str,
    errmsg: str,
    request_id: str | None,
    sub_code: int | str | None,
    sub_msg: str | None,
    http_status: int | None,
    path: str | None,
) -> DingTalkError:
    return DingTalkError(
        errcode, errmsg, request_id, sub_code=sub_code, sub_msg=sub_msg, http_status=http_status, path=path
    )


class DingTalkTransportError(Exception):
    """The request did not produce a DingTalk envelope: network failure, timeout, HTTP error page, non-JSON body.

    ``url`` is always the redacted URL (no token or secret); ``retry_after`` is set when the server said how long
    to wait (the IP flood-ban body ``{"status":1111,"wait":5}``).
    """

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        url: str | None = None,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self.reason = reason
        self.status = status
        self.url = url
        self.is_transient = transient
        self.retry_after = retry_after
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = ["DingTalk transport error"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        parts.append(self.reason)
        if self.url:
            parts.append(f"at {self.url}")
        return ": ".join(parts[:1]) + ": " + " ".join(parts[1:])

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_transport, (self.reason, self.status, self.url, self.is_transient, self.retry_after))


def _rebuild_transport(
    reason: str, status: int | None, url: str | None, transient: bool, retry_after: float | None
) -> DingTalkTransportError:
    return DingTalkTransportError(reason, status=status, url=url, transient=transient, retry_after=retry_after)


def is_transient_status(status: int) -> bool:
    """HTTP statuses worth retrying: server errors and explicit "slow down"."""
    return status >= 500 or status == 429


def is_transient(exc: BaseException) -> bool:
    """Classify any exception raised while talking to DingTalk: True when retrying later may succeed."""
    if isinstance(exc, DingTalkError | DingTalkTransportError):
        return exc.is_transient
    if isinstance(exc, TimeoutError | ConnectionResetError):
        return True
    if isinstance(exc, aiohttp.ClientResponseError):
        return is_transient_status(exc.status)
    # Connection refused/reset, server disconnected, truncated payload: the network, not the request, failed.
    return isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError)
