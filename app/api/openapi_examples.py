"""Examples for the OpenAPI document: one per request body and per response of ``/api/v1`` and the mapping feed.

Values look like what a business system really sends and gets (EKP ids are 32 hex characters, DingTalk department
ids are numbers, userids are strings); secrets are obviously fake.
"""

from __future__ import annotations

from typing import Any

V1 = "/api/v1/access"
FEED = "/api/lding-console/ldingOrgRestService"

_CONFIG = {
    "errcode": 0,
    "errmsg": "ok",
    "orgName": "叮当科技",
    "corpId": "ding5a1f0c3e9b7d2e41",
    "appKey": "dingxk3vq8uyzs0h1abc",
    "appSecret": "Xy3_example-app-secret-not-real-0123456789abcdef",
    "agentId": "2871634051",
    "scanAppId": "dingoa5ngnbgh1p7example",
    "scanAppSecret": "scan-secret-example-not-real",
    "apiBase": "https://landing.example.com",
    "notifyUrl": "https://ekp.example.com/ekp/third/lding/notify",
}


def _error(errcode: int, errmsg: str) -> dict[str, Any]:
    return {"errcode": errcode, "errmsg": errmsg}


_BAD_REQUEST = _error(40001, "请求格式错误：identifier Field required")
_BAD_AUTH = _error(40101, "需要认证账号和认证密码（HTTP Basic）")
_IP_REFUSED = _error(40301, "来源地址 10.8.0.23 不在该接入系统的 IP 白名单内")
_TOO_MANY = _error(42901, "尝试过于频繁，请稍后再试")
_FEED_BAD = _error(40001, "timestamp 必须是毫秒时间戳（整数）")
RUNS = "/api/v1/orgs/{org_id}/sync-runs"
RUN = {
    "id": 42,
    "orgId": 1,
    "trigger": "手动同步",
    "kind": "增量",
    "full": False,
    "result": "success",
    "resultLabel": "成功",
    "stage": "已结束",
    "startedAt": "2026-12-01T02:00:00Z",
    "endedAt": "2026-12-01T02:00:05Z",
    "progressDone": 34,
    "progressTotal": 34,
    "summary": "从EKP同步部门获取9条, 更新9条, 人员获取34条, 更新2条; 同步到钉钉部门获取0条, 人员获取2条, 更新2条;",
    "error": "",
    "thresholdBlocked": False,
    "counters": {"source": {"person": {"fetched": 34, "updated": 2}}},
}
_RUN_ERRORS = {
    400: _error(40001, "请求格式错误：full 应为布尔值"),
    401: _error(40101, "需要有效的 API 令牌（Authorization: Bearer …）"),
    403: _error(40301, "令牌所属管理员没有该组织的「通讯录同步」权限"),
    404: _error(40401, "组织不存在"),
}

EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    (f"{V1}/bind", "post"): {
        "request": {"identifier": "EKP-PROD-7F3A", "notifyUrl": "https://ekp.example.com/ekp/third/lding/notify"},
        "responses": {
            200: {**_CONFIG, "authAccount": "ekp_prod", "authPassword": "k2V9-example-password-not-real"},
            400: _BAD_REQUEST,
            401: _BAD_AUTH,
            403: _IP_REFUSED,
            404: _error(40401, "接入标识不存在，请在「设置 > 接入系统」中核对"),
            409: _error(40901, "接入标识已被使用；如需重新绑定，请管理员在「设置 > 接入系统」中重新启用"),
            429: _TOO_MANY,
        },
    },
    (f"{V1}/org", "get"): {
        "responses": {
            200: {**_CONFIG, "isMain": True, "systemName": "EKP 生产环境"},
            400: _error(40001, "请求格式错误"),
            401: _BAD_AUTH,
            403: _IP_REFUSED,
            429: _TOO_MANY,
        },
    },
    (f"{V1}/notify-url", "post"): {
        "request": {"notifyUrl": "https://ekp.example.com/ekp/third/lding/notify"},
        "responses": {
            200: {"errcode": 0, "errmsg": "ok", "notifyUrl": "https://ekp.example.com/ekp/third/lding/notify"},
            400: _error(40001, "接收通知接口需以 http:// 或 https:// 开头"),
            401: _BAD_AUTH,
            403: _IP_REFUSED,
            429: _TOO_MANY,
        },
    },
    (f"{FEED}/dept", "post"): {
        "request": None,
        "responses": {
            200: {
                "errcode": 0,
                "datas": [
                    {
                        "dingId": "58412963",
                        "businessId": "17c9e2a4b5d34f0e8a1b2c3d4e5f6a7b",
                        "dingIsDel": False,
                        "time": 1764556800123,
                    },
                    {
                        "dingId": "58412970",
                        "businessId": "17c9e2a4b5d34f0e8a1b2c3d4e5f6a7c",
                        "dingIsDel": True,
                        "time": 1764556800456,
                    },
                ],
            },
            400: _FEED_BAD,
            401: _BAD_AUTH,
            403: _IP_REFUSED,
        },
    },
    (f"{FEED}/person", "post"): {
        "request": None,
        "responses": {
            200: {
                "errcode": 0,
                "datas": [
                    {
                        "dingId": "manager4821",
                        "businessId": "18a0b1c2d3e44f5a6b7c8d9e0f1a2b3c",
                        "dingIsDel": False,
                        "time": 1764556800789,
                        "loginName": "zhangsan",
                    },
                    {
                        "dingId": "0158234712345678",
                        "businessId": "13800138000",
                        "dingIsDel": False,
                        "time": 1764556801012,
                        "mobileNo": "13800138000",
                    },
                ],
            },
            400: _FEED_BAD,
            401: _BAD_AUTH,
            403: _IP_REFUSED,
        },
    },
    (RUNS, "post"): {
        "request": {"full": False},
        "responses": {
            202: {**RUN, "result": "running", "resultLabel": "进行中", "stage": "准备中", "endedAt": None},
            **_RUN_ERRORS,
            409: _error(40901, "同步正在进行中"),
        },
    },
    (RUNS, "get"): {"responses": {200: {"items": [RUN], "total": 1, "page": 1, "pageSize": 20}, **_RUN_ERRORS}},
    (f"{RUNS}/{{run_id}}", "get"): {"responses": {200: RUN, **_RUN_ERRORS}},
}
