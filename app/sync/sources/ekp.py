"""EKP's org export (组织架构接出服务) as a source: REST or SOAP, paged by ``alterTime`` with an overlap window."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from app.ekp.models import shift_timestamp
from app.ekp.org_source import (
    CursorKind,
    EkpAuthError,
    EkpConnectionError,
    EkpError,
    EkpForbiddenError,
    EkpOrgSource,
    EkpSourceConfig,
    ElementType,
)
from app.sync.sources import ConnectionResult, SourceConfig
from app.sync.sources.base import DEPT, SourceError

_KINDS = {DEPT: CursorKind.DEPT, "person": CursorKind.PERSON}


def describe(error: EkpError) -> str:
    if isinstance(error, EkpAuthError):
        return "EKP验权失败：请检查验权账号和验权密码"
    if isinstance(error, EkpForbiddenError):
        return "EKP拒绝访问：请检查组织架构接出服务的访问策略（账号、IP限制）"
    if isinstance(error, EkpConnectionError):
        return f"无法连接EKP：{error.message}"
    return f"EKP返回错误：{error.message}"


class EkpAdapter:
    def __init__(self, http: aiohttp.ClientSession, config: SourceConfig) -> None:
        options: dict[str, Any] = {}
        if config.timeout_seconds:
            options["timeout_seconds"] = config.timeout_seconds
        self.client = EkpOrgSource(
            http,
            EkpSourceConfig(
                base_url=config.url,
                user=config.user,
                password=config.password,
                transport="soap" if config.transport == "soap" else "rest",
                page_size=config.page_size,
                **options,
            ),
        )

    async def iter_changes(self, kind: str, cursor: str | None, *, known: dict[str, str] | None) -> AsyncIterator[Any]:
        try:
            async for page in self.client.iter_changes(_KINDS[kind], cursor, known=known):
                yield page
        except EkpError as exc:
            raise SourceError(describe(exc)) from exc

    async def present_ids(self, kind: str) -> set[str]:
        try:
            return {info.id for info in await self.client.get_elements_base_info(_KINDS[kind])}
        except EkpError as exc:
            raise SourceError(describe(exc)) from exc

    async def check(self) -> ConnectionResult:
        result = await self.client.check_connection()
        return ConnectionResult(result.ok, result.message)

    def is_top(self, element: Any) -> bool:
        return element.type == ElementType.ORG and not element.parent

    def cursor_floor(self, cursor: str) -> str:
        return shift_timestamp(cursor, -self.client.config.overlap_seconds)
