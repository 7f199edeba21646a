"""The errcode table: for every code DingTalk answers, its meaning, its kind, how to retry it and what to fix.

Keys are ``int`` for oapi envelopes (``errcode``) and ``str`` for v1.0 APIs (``code``). The table follows the
reference's error table; ``advice`` is filled where the FAQ says what to fix, so an admin sees "add the server's
egress IP ..." instead of a bare number (Chinese first, an English gloss in parentheses for maintainers).

Each entry has a ``Kind``, which picks the exception class a caller catches (``app.dingtalk.errors``), and a
``Retry``, which the transport obeys. The two agree: ``TRANSIENT`` codes are retried, ``Retry.TOKEN`` codes are
``CONFIG`` (a token refresh first, the credentials if it persists), and only ``TRANSIENT`` / ``THROTTLED`` codes are
ever retried.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, StrEnum


class Kind(StrEnum):
    """What a failure means for the caller, whatever the code."""

    NOT_FOUND = "not_found"  # the department / user / callback / bucket is not there (any more)
    EXISTS = "exists"  # already there: map it instead of creating it again
    INVALID_INPUT = "invalid_input"  # DingTalk refuses the values sent: fix the data
    THROTTLED = "throttled"  # a rate limit or quota: slow down or wait
    PERMISSION = "permission"  # the app (or DingTalk's rules for this person) does not allow it
    CONFIG = "config"  # the app's credentials, agent id, whitelist, callback or clock need fixing
    TRANSIENT = "transient"  # DingTalk is busy: retrying later succeeds


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
    kind: Kind | None = None  # None only for 0 (success)


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
    -1: ErrorInfo("系统繁忙", "system busy, retry later", Retry.YES, kind=Kind.TRANSIENT),
    0: ErrorInfo("成功", "ok"),
    22: ErrorInfo("不合法的接口名称", "invalid method (unknown topapi name)", kind=Kind.INVALID_INPUT),
    88: ErrorInfo("鉴权异常，请查看子错误码", "auth/wrapper error, see sub code", Retry.YES, kind=Kind.TRANSIENT),
    33001: ErrorInfo("无效的企业ID", "invalid corp id (token)", Retry.TOKEN, _ADVICE_TOKEN, kind=Kind.CONFIG),
    33012: ErrorInfo("无效的userId", "invalid userid", kind=Kind.NOT_FOUND),
    40001: ErrorInfo(
        "获取access_token时Secret错误，或者access_token无效",
        "secret wrong or access_token invalid",
        Retry.TOKEN,
        _ADVICE_TOKEN,
        kind=Kind.CONFIG,
    ),
    40009: ErrorInfo("不合法的部门id", "invalid department id", kind=Kind.NOT_FOUND),
    40011: ErrorInfo("不合法的排序值", "invalid order value", kind=Kind.INVALID_INPUT),
    40014: ErrorInfo("不合法的access_token", "invalid access_token", Retry.TOKEN, _ADVICE_TOKEN, kind=Kind.CONFIG),
    40019: ErrorInfo(
        "该手机号码对应的用户最多可以加入5个非认证企业",
        "this mobile's user already joined 5 uncertified orgs",
        advice="该手机号已加入5个未认证组织：请该员工先退出其中一个，或完成本组织的企业认证。"
        " (The person must leave one of "
        "the uncertified orgs they joined, or this org must complete DingTalk certification.)",
        kind=Kind.PERMISSION,
    ),
    40022: ErrorInfo(
        "企业中的手机号码和登录钉钉的手机号码不一致，暂时不支持修改",
        "mobile differs from the DingTalk login mobile and cannot be changed",
        advice="手机号无法通过接口修改：请删除该员工后重新添加。 (A mobile number cannot be changed through the API; "
        "delete the user and add it again.)",
        kind=Kind.INVALID_INPUT,
    ),
    40031: ErrorInfo("不合法的员工列表", "invalid userid list", kind=Kind.INVALID_INPUT),
    40035: ErrorInfo("不合法的参数", "invalid parameter (often a missing POST body)", kind=Kind.INVALID_INPUT),
    40056: ErrorInfo(
        "不合法的agentid",
        "invalid agentid",
        advice="请核对组织配置中的 AgentId。 (Check the AgentId configured for this org.)",
        kind=Kind.CONFIG,
    ),
    40068: ErrorInfo("不合法的偏移量", "invalid offset", kind=Kind.INVALID_INPUT),
    40069: ErrorInfo("不合法的分页大小", "invalid page size", kind=Kind.INVALID_INPUT),
    40078: ErrorInfo(
        "不存在的临时授权码",
        "temporary auth code does not exist or was already used",
        advice="临时授权码只能使用一次且5分钟内有效，请重新登录。 (Auth codes are single-use and expire "
        "after 5 minutes; log in again.)",
        kind=Kind.INVALID_INPUT,
    ),
    40089: ErrorInfo(
        "不合法的corpId或corpSecret",
        "invalid corpId/corpSecret",
        advice="请核对该组织的 AppKey 和 AppSecret。",
        kind=Kind.CONFIG,
    ),
    40093: ErrorInfo("不合法的群主", "invalid group owner", kind=Kind.INVALID_INPUT),
    40103: ErrorInfo(
        "该用户需要其同意才可添加，已向对方发送邀请",
        "the user must consent; an invitation was sent",
        advice="该员工开启了账号保护、已在认证企业或开启了加入团队需验证："
        "钉钉已发出邀请，员工同意后才会加入，无法强制添加。 "
        "(Account protection: DingTalk sent an invitation and the user joins only after accepting it; this cannot "
        "be forced.)",
        kind=Kind.PERMISSION,
    ),
    40104: ErrorInfo("无效的手机号", "invalid mobile in org", kind=Kind.INVALID_INPUT),
    42001: ErrorInfo("access_token超时", "access_token expired", Retry.TOKEN, _ADVICE_TOKEN, kind=Kind.CONFIG),
    43001: ErrorInfo("需要使用GET请求", "GET required", kind=Kind.INVALID_INPUT),
    43002: ErrorInfo("需要使用POST请求", "POST required", kind=Kind.INVALID_INPUT),
    43004: ErrorInfo("无效的HTTP HEADER Content-Type", "invalid Content-Type", kind=Kind.INVALID_INPUT),
    43005: ErrorInfo(
        "需要Content-Type为application/json", "Content-Type must be application/json", kind=Kind.INVALID_INPUT
    ),
    43007: ErrorInfo("需要授权", "authorization required", advice=_ADVICE_CONTACTS_PERMISSION, kind=Kind.PERMISSION),
    43009: ErrorInfo("POST的数据不是合法的JSON", "request body must be JSON", kind=Kind.INVALID_INPUT),
    50002: ErrorInfo(
        "请求的员工userid不在授权范围内",
        "userid not in the app's data scope",
        advice=_ADVICE_SCOPE,
        kind=Kind.PERMISSION,
    ),
    50004: ErrorInfo(
        "请求的部门id不在授权范围内",
        "department not in the app's data scope",
        advice=_ADVICE_SCOPE,
        kind=Kind.PERMISSION,
    ),
    60001: ErrorInfo(
        "不合法的部门名称",
        "invalid department name",
        advice="部门名称长度1-64，且不能包含 - , ， 字符。 (Department names are 1-64 characters without "
        "'-', ',' or '，'.)",
        kind=Kind.INVALID_INPUT,
    ),
    60002: ErrorInfo("部门层级深度超过限制", "department depth limit exceeded", kind=Kind.INVALID_INPUT),
    60003: ErrorInfo(
        "部门不存在",
        "department not found",
        advice="钉钉中已不存在该部门：请执行一次全量同步以刷新部门映射。"
        " (The department no longer exists in DingTalk; run "
        "a full sync to refresh the department mapping.)",
        kind=Kind.NOT_FOUND,
    ),
    60004: ErrorInfo(
        "父部门不存在",
        "parent department not found",
        advice="请先同步父部门。 (Push the parent department first.)",
        kind=Kind.NOT_FOUND,
    ),
    60005: ErrorInfo(
        "不允许删除有成员的部门",
        "cannot delete a department that has members",
        advice="请先移出或删除部门成员。 (Move or delete its members first.)",
        kind=Kind.INVALID_INPUT,
    ),
    60006: ErrorInfo(
        "不允许删除有子部门的部门",
        "cannot delete a department that has sub-departments",
        advice="请先删除子部门。 (Delete the sub-departments first.)",
        kind=Kind.INVALID_INPUT,
    ),
    60007: ErrorInfo("不允许删除根部门", "the root department cannot be deleted", kind=Kind.INVALID_INPUT),
    60009: ErrorInfo(
        "部门名称含有非法字符",
        "department name contains illegal characters",
        advice="部门名称不能包含 - , ， 字符。 (Department names must not contain '-', ',' or '，'.)",
        kind=Kind.INVALID_INPUT,
    ),
    60010: ErrorInfo("部门层级关系存在循环", "department cycle", kind=Kind.INVALID_INPUT),
    60011: ErrorInfo(
        "没有调用该接口的权限", "no permission for this API", advice=_ADVICE_CONTACTS_PERMISSION, kind=Kind.PERMISSION
    ),
    60016: ErrorInfo("部门id已经存在", "department id already exists", kind=Kind.EXISTS),
    60018: ErrorInfo("根部门不允许更新", "the root department cannot be updated", kind=Kind.INVALID_INPUT),
    60019: ErrorInfo("从部门查询人员失败", "failed to query users of the department", kind=Kind.INVALID_INPUT),
    60020: ErrorInfo(
        "访问ip不在白名单之中", "request IP not in the app's whitelist", advice=_ADVICE_WHITELIST, kind=Kind.CONFIG
    ),
    60102: ErrorInfo("UserID在公司中已存在", "userid already exists in the org", kind=Kind.EXISTS),
    60103: ErrorInfo(
        "手机号码不合法",
        "invalid mobile number",
        advice="国际号码请使用 +xx-xxxxxx 格式。 (Use the +xx-xxxxxx format for non-mainland numbers.)",
        kind=Kind.INVALID_INPUT,
    ),
    60104: ErrorInfo(
        "手机号码在公司中已存在",
        "mobile number already exists in the org",
        advice="该手机号已属于组织内另一员工：请用手机号查询其userid并建立映射，而不是重复创建。 (The mobile already "
        "belongs to a user in this org; look the user up by mobile and map it instead of creating a duplicate.)",
        kind=Kind.EXISTS,
    ),
    60105: ErrorInfo("邮箱不合法", "invalid email", kind=Kind.INVALID_INPUT),
    60106: ErrorInfo("邮箱已存在", "email already exists", kind=Kind.EXISTS),
    60107: ErrorInfo(
        "使用该手机登录钉钉的用户已经在企业中",
        "a user logged in with this mobile is already in the org",
        kind=Kind.EXISTS,
    ),
    60109: ErrorInfo("可见范围设置不合法", "invalid visibility (permit) list", kind=Kind.INVALID_INPUT),
    60110: ErrorInfo("部门个数超出限制", "too many departments", kind=Kind.INVALID_INPUT),
    60111: ErrorInfo("UserID不存在", "userid does not exist", kind=Kind.NOT_FOUND),
    60112: ErrorInfo("用户名称不合法", "invalid user name", kind=Kind.INVALID_INPUT),
    60113: ErrorInfo("手机号和邮箱不能同时为空", "mobile and email are both empty", kind=Kind.INVALID_INPUT),
    60120: ErrorInfo("用户已经被禁用", "user is disabled", kind=Kind.INVALID_INPUT),
    60121: ErrorInfo(
        "找不到该用户",
        "user not found",
        advice="该员工不在本组织（已离职、未激活或尚未接受邀请）；若所有员工都报此错，说明应用缺少通讯录读权限或权限范围不足："
        + _ADVICE_CONTACTS_PERMISSION,
        kind=Kind.NOT_FOUND,
    ),
    60122: ErrorInfo("不合法的扩展属性", "invalid extension attributes", kind=Kind.INVALID_INPUT),
    60123: ErrorInfo("不合法的工号", "invalid job number", kind=Kind.INVALID_INPUT),
    60128: ErrorInfo("不合法的主管ID", "invalid manager userid", kind=Kind.INVALID_INPUT),
    600109: ErrorInfo("可见范围设置不合法", "invalid visibility (permit) list", kind=Kind.INVALID_INPUT),
    71006: ErrorInfo(
        "回调地址已经存在",
        "callback already registered",
        advice="已注册过回调，请改用更新回调接口。 (A callback is already registered; update it instead.)",
        kind=Kind.EXISTS,
    ),
    71007: ErrorInfo("回调地址已不存在", "callback no longer exists", kind=Kind.NOT_FOUND),
    71008: ErrorInfo("不允许注册该事件类型", "callback tag not allowed", kind=Kind.PERMISSION),
    71009: ErrorInfo(
        "返回文本非success",
        "callback URL did not answer an encrypted 'success'",
        advice="回调地址必须在1.5秒内返回加密的 success，请检查回调令牌和AES密钥是否一致。"
        " (The callback URL must answer an "
        "encrypted 'success' within 1.5 s; check that the token and AES key match.)",
        kind=Kind.CONFIG,
    ),
    71010: ErrorInfo(
        "POST的JSON数据不包含所需要的参数字段或包含的参数格式非法", "bad callback JSON fields", kind=Kind.INVALID_INPUT
    ),
    71011: ErrorInfo("传入的url参数不是合法的url格式", "malformed callback URL", kind=Kind.INVALID_INPUT),
    71012: ErrorInfo(
        "url地址访问异常",
        "callback URL unreachable",
        advice="钉钉无法访问回调地址：请确认回调域名可从公网访问（钉钉推送出口网段 203.119.0.0/16、140.205.0.0/16、"
        "106.11.0.0/16、198.11.0.0/16）。 (DingTalk cannot reach the callback URL; make it reachable from DingTalk's "
        "push ranges.)",
        kind=Kind.CONFIG,
    ),
    71013: ErrorInfo("此域名或IP不能注册或者接收回调事件", "domain/IP not allowed for callbacks", kind=Kind.CONFIG),
    90001: ErrorInfo(
        "您的服务器调用钉钉开放平台所有接口的请求都被暂时禁用了",
        "all APIs temporarily disabled for your server",
        advice=_ADVICE_THROTTLE,
        kind=Kind.THROTTLED,
    ),
    90002: ErrorInfo(
        "您的服务器调用钉钉开放平台当前接口的所有请求都被暂时禁用了",
        "this API temporarily disabled (global QPS)",
        Retry.YES,
        _ADVICE_THROTTLE,
        kind=Kind.THROTTLED,
    ),
    90003: ErrorInfo(
        "您的企业调用钉钉开放平台所有接口的请求都被暂时禁用了",
        "corp temporarily disabled",
        advice=_ADVICE_THROTTLE,
        kind=Kind.THROTTLED,
    ),
    90004: ErrorInfo(
        "您当前使用的CorpId及CorpSecret被暂时禁用了",
        "corp secret temporarily disabled",
        advice=_ADVICE_THROTTLE,
        kind=Kind.THROTTLED,
    ),
    90005: ErrorInfo(
        "您的企业调用当前接口次数过多，请求被暂时禁用了",
        "corp called this API too often (per minute)",
        Retry.YES,
        _ADVICE_THROTTLE,
        kind=Kind.THROTTLED,
    ),
    90006: ErrorInfo(
        "您当前使用的CorpId及CorpSecret调用当前接口次数过多",
        "app called this API too often (per minute)",
        Retry.YES,
        _ADVICE_THROTTLE,
        kind=Kind.THROTTLED,
    ),
    90017: ErrorInfo(
        "此IP使用CorpId及CorpSecret调用接口的CorpId过多", "too many corpIds from this IP", kind=Kind.THROTTLED
    ),
    90018: ErrorInfo(
        "当前应用调用该接口的并发数过高",
        "per-app per-API QPS exceeded",
        Retry.YES,
        _ADVICE_THROTTLE,
        kind=Kind.THROTTLED,
    ),
    90020: ErrorInfo(
        "本月接口调用次数已超出限额",
        "monthly API quota exceeded",
        advice="标准版组织每月调用次数已用完：请升级钉钉版本或等待下月。 (The standard edition's monthly quota "
        "is used up; upgrade the edition or wait for next month.)",
        kind=Kind.THROTTLED,
    ),
    400001: ErrorInfo("系统错误", "system error", Retry.YES, kind=Kind.TRANSIENT),
    400002: ErrorInfo("参数错误", "invalid parameter", kind=Kind.INVALID_INPUT),
    400040: ErrorInfo("回调不存在", "callback does not exist", kind=Kind.NOT_FOUND),
    400041: ErrorInfo("回调已经存在", "callback already exists", kind=Kind.EXISTS),
    143103: ErrorInfo("企业发送消息的QPM超限", "message QPM exceeded (org)", Retry.YES, kind=Kind.THROTTLED),
    143104: ErrorInfo("应用发送消息的QPM超限", "message QPM exceeded (app)", Retry.YES, kind=Kind.THROTTLED),
    143105: ErrorInfo("同一员工每天接收消息数超限", "per-user daily message cap reached", kind=Kind.THROTTLED),
    143106: ErrorInfo(
        "同一员工当天重复接收相同内容的消息", "duplicate message to the same user today", kind=Kind.EXISTS
    ),
    854001: ErrorInfo("待办重复", "duplicate work record", kind=Kind.EXISTS),
    854002: ErrorInfo("每人每天待办数超限", "daily work record cap reached", kind=Kind.THROTTLED),
    853001: ErrorInfo("时间戳不是毫秒", "timestamp is not in milliseconds", kind=Kind.INVALID_INPUT),
    853002: ErrorInfo(
        "时间戳与服务器时间相差超过1分钟",
        "timestamp off by more than 1 minute",
        advice="请校准本服务器时钟（NTP）。 (Synchronise this server's clock with NTP.)",
        kind=Kind.CONFIG,
    ),
    853003: ErrorInfo(
        "无效的accessKey",
        "unknown accessKey (scan-login appid)",
        advice="请核对接入系统的扫码登录 appId。 (Check the scan-login appId.)",
        kind=Kind.CONFIG,
    ),
    853004: ErrorInfo(
        "签名不匹配",
        "signature mismatch",
        advice="请核对扫码登录的 appSecret。 (Check the scan-login appSecret.)",
        kind=Kind.CONFIG,
    ),
    12150: ErrorInfo(
        "已开启智能人事岗位管理，不允许修改职位或部门",
        "title/department changes blocked by smart-HR",
        advice="请在钉钉智能人事中修改职位/部门，或关闭岗位管理。 (Change title/department in DingTalk's smart HR "
        "or disable position management there.)",
        kind=Kind.PERMISSION,
    ),
    # v1.0 API codes (HTTP status + {"code","message"}).
    "InvalidAuthentication": ErrorInfo(
        "不合法的access_token",
        "invalid or expired access token",
        Retry.TOKEN,
        _ADVICE_TOKEN,
        kind=Kind.CONFIG,
    ),
    "Forbidden.AccessDenied.AccessTokenPermissionDenied": ErrorInfo(
        "应用缺少该接口所需的权限点",
        "the app lacks a required permission scope",
        advice="请在开发者后台 → 权限管理 中开通错误信息 requiredScopes 列出的权限（如通讯录权限）。"
        " (Enable the scopes "
        "listed in requiredScopes, e.g. the 通讯录 permissions, in the developer console.)",
        kind=Kind.PERMISSION,
    ),
    "Forbidden.AccessDenied.IpNotInWhiteList": ErrorInfo(
        "访问ip不在白名单之中",
        "request IP not in the app's whitelist",
        advice=_ADVICE_WHITELIST,
        kind=Kind.CONFIG,
    ),
    "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi": ErrorInfo(
        "应用调用该接口QPS超限",
        "per-app per-API QPS exceeded",
        Retry.YES,
        _ADVICE_THROTTLE,
        kind=Kind.THROTTLED,
    ),
    "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi": ErrorInfo(
        "应用调用该接口QPM超限",
        "per-app per-API QPM exceeded",
        Retry.YES,
        _ADVICE_THROTTLE,
        kind=Kind.THROTTLED,
    ),
    "Forbidden.AccessDenied.QpsLimitForApi": ErrorInfo(
        "该接口全局QPS超限",
        "global per-API QPS exceeded",
        Retry.YES,
        _ADVICE_THROTTLE,
        kind=Kind.THROTTLED,
    ),
    "Forbidden.AccessDenied.ApiCountLimitForOrg": ErrorInfo(
        "本月接口调用次数已超出限额", "monthly API quota exceeded", kind=Kind.THROTTLED
    ),
    # The unified token API (/v1.0/oauth2/{corpId}/token) answers OAuth-style codes.
    "invalid.client": ErrorInfo("无效的 client_id 或 client_secret", "invalid client credentials", kind=Kind.CONFIG),
    "unauthorized.client": ErrorInfo(
        "应用未在该组织中安装或授权",
        "the app does not run in this corpId",
        advice="请核对 corpId 是否为该应用所属企业的 corpId（钉钉开发者后台首页可拷贝）。",
        kind=Kind.CONFIG,
    ),
    "unsupported.grant.type": ErrorInfo("不支持的授权类型", "unsupported grant type", kind=Kind.INVALID_INPUT),
    "invalidParameter": ErrorInfo("参数错误", "invalid parameter", kind=Kind.INVALID_INPUT),
    "invalidParameter.user.notFound": ErrorInfo("找不到该用户", "user not found", kind=Kind.NOT_FOUND),
    "systemError": ErrorInfo("系统错误", "system error", Retry.YES, kind=Kind.TRANSIENT),
    "service.timeout": ErrorInfo("服务超时", "service timeout", Retry.YES, kind=Kind.TRANSIENT),
    # 专属数据存储 (exclusive_1_0 fileStorages): codes chosen in app/dingtalk/exclusive_api.py (DingTalk does not
    # document them).
    "invalidParameter.oss.url": ErrorInfo(
        "OSS链接地址格式不正确",
        "not an OSS bucket domain",
        advice="请完整输入阿里云 OSS 的 bucket 域名，格式如 https://xxxx.oss-cn-hangzhou.aliyuncs.com。"
        " (Enter the bucket's full domain, e.g. https://xxxx.oss-cn-hangzhou.aliyuncs.com.)",
        kind=Kind.INVALID_INPUT,
    ),
    "fileStorage.oss.bucketNotFound": ErrorInfo(
        "OSS bucket 不存在",
        "no such bucket",
        advice="请在阿里云 OSS 控制台核对 bucket 名称和地域。 (Check the bucket name and region in the OSS console.)",
        kind=Kind.NOT_FOUND,
    ),
    "fileStorage.oss.invalidAccessKeyId": ErrorInfo(
        "AccessKey ID 不存在或已禁用",
        "AccessKey ID unknown or disabled",
        advice="请核对购买阿里云服务时提供的 AccessKey ID，并确认其未被禁用。 (Check the AccessKey ID.)",
        kind=Kind.CONFIG,
    ),
    "fileStorage.oss.signatureNotMatch": ErrorInfo(
        "AccessKey Secret 不正确",
        "AccessKey Secret does not match",
        advice="请重新输入与该 AccessKey ID 配对的 AccessKey Secret。 (Enter the secret that belongs to this key.)",
        kind=Kind.CONFIG,
    ),
    "fileStorage.oss.connectFailed": ErrorInfo(
        "无法连接 OSS bucket",
        "bucket unreachable",
        advice="钉钉无法访问该 bucket：请检查 bucket 的访问控制（Bucket Policy / 防盗链）是否拒绝了钉钉。"
        " (DingTalk cannot reach the bucket; check its bucket policy.)",
        kind=Kind.CONFIG,
    ),
    "fileStorage.notOpened": ErrorInfo("专属存储尚未开通", "exclusive storage not opened", kind=Kind.NOT_FOUND),
    "fileStorage.alreadyOpened": ErrorInfo(
        "专属存储已开通，不能更换 OSS",
        "storage already opened with another bucket",
        advice="已开通的专属存储只能更新 AccessKey。 (Once opened, only the AccessKey can change.)",
        kind=Kind.EXISTS,
    ),
    "invalidParameter.targetCorpId": ErrorInfo(
        "targetCorpId 与调用应用所在组织不一致", "targetCorpId not allowed", kind=Kind.INVALID_INPUT
    ),
}

TOKEN_INVALID_CODES: frozenset[int | str] = frozenset(k for k, v in ERROR_TABLE.items() if v.retry is Retry.TOKEN)
TRANSIENT_CODES: frozenset[int | str] = frozenset(k for k, v in ERROR_TABLE.items() if v.retry is Retry.YES)
# Throttling codes: the documentation asks for at least one second of sleep before retrying these (the throttled
# codes worth retrying; a ban such as 90001 or a used-up quota is not retried at all).
THROTTLE_CODES: frozenset[int | str] = frozenset(
    k for k, v in ERROR_TABLE.items() if v.kind is Kind.THROTTLED and v.retry is Retry.YES
)

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
