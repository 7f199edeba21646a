"""The mapping feed that EKP's DingTalk component already calls (ekp.md 5.1), byte-compatible.

``POST /api/lding-console/ldingOrgRestService/{dept|person}?timestamp=<ms>`` with HTTP Basic (认证账号/认证密码) and
the JSON body ``null``; answer ``{"errcode":0,"datas":[...]}``. EKP keeps the largest ``time`` as its next cursor.
"""

from __future__ import annotations

import json
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from app.api.v1_access import ErrorAnswer, JsonErrorRoute, current_system
from app.services import access_systems, mapping_feed
from app.services.access_systems import AccessError


class FeedItem(BaseModel):
    dingId: str = Field(description="钉钉部门 ID 或钉钉人员 userid")  # noqa: N815
    businessId: str = Field(description="EKP 组织元素 fdId（人员无 EKP ID 时为登录名或手机号）")  # noqa: N815
    dingIsDel: bool = Field(description="true：删除此映射（已删除或已禁用）")  # noqa: N815
    time: int = Field(description="变更时间（毫秒），调用方以最大值作为下次的 timestamp")
    loginName: str | None = Field(default=None, description="仅人员：登录名（有值时才出现）")  # noqa: N815
    mobileNo: str | None = Field(default=None, description="仅人员：手机号（仅在没有 loginName 时出现）")  # noqa: N815


class FeedAnswer(BaseModel):
    errcode: int = 0
    datas: list[FeedItem]


router = APIRouter(prefix="/api/lding-console/ldingOrgRestService", tags=["通讯录映射"], route_class=JsonErrorRoute)

_DESCRIPTION = (
    "EKP 钉钉集成组件（同步方式「从蓝钉管理台获取人员对应关系」）调用的映射接口。HTTP Basic（认证账号/认证密码），"
    "请求体为 JSON `null`。返回 timestamp 之后的全部映射变化，按 time 升序；timestamp 为 0 时返回全部。"
    f"刚发生（{mapping_feed.SETTLE_MS} 毫秒内）的变化在下一次拉取时返回。可选 limit 分页：一页只在毫秒边界处截断，"
    "以上一页最大的 time 继续拉取不会遗漏。"
)
_RESPONSES = {
    200: {"model": FeedAnswer},
    400: {"model": ErrorAnswer, "description": "timestamp 不是毫秒数"},
    401: {"model": ErrorAnswer, "description": "认证失败（带 WWW-Authenticate）"},
    403: {"model": ErrorAnswer, "description": "来源地址不在 IP 白名单内"},
}


def _cursor(timestamp: str | None) -> int:
    text = (timestamp or "").strip()
    if not text or text == "null":
        return 0
    # Digits only and at most 15 of them (the year 33658): "1e999", "inf" or 26 digits are not a cursor.
    if not text.isdigit() or len(text) > 15:
        raise AccessError(access_systems.BAD_REQUEST, 400, "timestamp 必须是毫秒时间戳（整数）")
    return int(text)


async def _answer(kind: Literal["dept", "person"], system, timestamp: str | None, limit: int | None) -> Response:
    items = await mapping_feed.changes(system.org_id, kind, _cursor(timestamp), limit=limit)
    await mapping_feed.record_pull(system.id)
    body = json.dumps({"errcode": 0, "datas": items}, ensure_ascii=False, separators=(",", ":"))
    return Response(content=body.encode("utf-8"), media_type="application/json;charset=UTF-8")


_TIMESTAMP = Query(None, description="上次拉取得到的最大 time（毫秒）；0 或不传为全量")
_LIMIT = Query(None, ge=1, le=100_000, description="可选：每页条数（EKP 不分页）")


@router.post(
    "/dept",
    summary="部门映射（EKP 部门 ID ↔ 钉钉部门 ID）",
    description=_DESCRIPTION,
    responses=_RESPONSES,
)
async def dept_feed(timestamp: str | None = _TIMESTAMP, limit: int | None = _LIMIT, system=Depends(current_system)):
    return await _answer("dept", system, timestamp, limit)


@router.post(
    "/person",
    summary="人员映射（EKP 人员 ID ↔ 钉钉 userid）",
    description=_DESCRIPTION,
    responses=_RESPONSES,
)
async def person_feed(timestamp: str | None = _TIMESTAMP, limit: int | None = _LIMIT, system=Depends(current_system)):
    return await _answer("person", system, timestamp, limit)
