"""Errors the simulator answers with, in DingTalk's two envelopes (oapi errcode/errmsg and v1.0 HTTP + code)."""

from __future__ import annotations

from typing import Any

# errmsg texts as DingTalk words them (where the reference gives the wording) so clients can log them unchanged.
MESSAGES: dict[int, str] = {
    -1: "系统繁忙",
    22: "Invalid method",
    33012: "无效的USERID",
    40009: "不合法的部门id",
    40011: "不合法的排序值",
    40014: "不合法的access_token",
    40019: "该手机号码对应的用户最多可以加入5个非认证企业",
    40022: "企业中的手机号码和登录钉钉的手机号码不一致，暂时不支持修改用户信息，可以删除后重新添加",
    40031: "不合法的UserID列表",
    40035: "缺少参数",
    40056: "不合法的agentid",
    40068: "不合法的偏移量",
    40069: "不合法的分页大小",
    40078: "不存在的临时授权码",
    40089: "不合法的corpId或corpSecret",
    40093: "不合法的群主",
    40103: "该用户需要其同意才可添加，已向对方发送邀请",
    40104: "无效的手机号码",
    42001: "access_token超时",
    43001: "需要GET请求",
    43002: "需要POST请求",
    43009: "post的数据包不是合法的json",
    60001: "不合法的部门名称",
    60002: "部门层级深度超过限制",
    60003: "部门不存在",
    60004: "父部门不存在",
    60005: "不允许删除有成员的部门",
    60006: "不允许删除有子部门的部门",
    60007: "不允许删除根部门",
    60008: "父部门下该部门名称已存在",
    60009: "部门名称含有非法字符",
    60010: "部门存在循环关系",
    60018: "不允许更新根部门",
    60020: "访问ip不在白名单之中",
    60102: "UserID在公司中已存在",
    60103: "手机号码不合法，如果是国际号码，请使用+xx-xxxxxx的格式",
    60104: "手机号码在公司中已存在",
    60105: "邮箱不合法",
    60106: "邮箱已存在",
    60109: "不合法的可见范围列表",
    60110: "用户所属部门个数超出限制",
    60112: "用户姓名不合法",
    60113: "手机号码和邮箱不能同时为空",
    60121: "找不到该用户",
    60128: "不合法的主管ID",
    600109: "不合法的可见范围列表",
    71006: "回调地址已经存在",
    71007: "回调地址已不存在",
    71008: "不支持的回调事件类型",
    71009: "返回文本非success",
    71010: "回调参数不合法",
    71011: "回调地址不合法",
    71012: "url地址访问异常",
    90018: "当前应用调用该接口的请求频率超过限制，请稍后重试",
    400002: "参数错误",
    853001: "时间戳参数格式非法，需要毫秒级时间戳",
    853002: "时间戳参数已过期，与服务端时间相差超过1分钟",
    853003: "accessKey参数不存在",
    853004: "签名不匹配，请检查签名计算方法及是否进行了urlencode",
    854001: "待办重复，同一用户一天内只能有一条相同内容的待办",
    854002: "用户一天内的待办数量超过上限",
}


class ApiError(Exception):
    """An oapi failure: HTTP 200 with ``{"errcode": n, "errmsg": "..."}`` (plus any extra keys)."""

    def __init__(self, errcode: int, errmsg: str | None = None, **extra: Any) -> None:
        self.errcode = errcode
        self.errmsg = errmsg if errmsg is not None else MESSAGES.get(errcode, "error")
        self.extra = extra
        super().__init__(f"{errcode}: {self.errmsg}")

    def body(self) -> dict[str, Any]:
        return {"errcode": self.errcode, "errmsg": self.errmsg, **self.extra}


class V1Error(Exception):
    """A v1.0 failure: HTTP status plus ``{"code": "...", "message": "...", "requestid": "..."}``."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra
        super().__init__(f"{status} {code}: {message}")


class UpstreamFault(Exception):
    """An injected transport-level failure (e.g. HTTP 502 from DingTalk's gateway)."""

    def __init__(self, status: int) -> None:
        self.status = status
        super().__init__(f"HTTP {status}")


def missing(name: str) -> ApiError:
    return ApiError(40035, f"缺少参数 {name}")


def invalid(name: str) -> ApiError:
    return ApiError(40035, f"不合法的参数 {name}")
