"""Shared helpers for the EKP integration tests (not collected: no test_ prefix)."""

from __future__ import annotations

from typing import Any

import aiohttp

from app.ekp.models import CURSOR_TYPES, CursorKind, EkpElement, EkpPage
from app.ekp.org_source import EkpOrgSource, EkpSourceConfig
from app.ekp.simulator import EkpSimulatorHandle
from app.ekp.simulator.serialize import element_json

USER, PASSWORD = "ekp-sync", "S3cret-pw!"


def source(
    session: aiohttp.ClientSession, handle: EkpSimulatorHandle, transport: str = "rest", **options: Any
) -> EkpOrgSource:
    settings: dict[str, Any] = {"base_url": handle.base_url, "user": USER, "password": PASSWORD, "transport": transport}
    config = EkpSourceConfig(**{**settings, **options})
    return EkpOrgSource(session, config)


async def read(src: EkpOrgSource, kind: CursorKind | str, cursor: str | None, **kw: Any) -> list[EkpPage]:
    return [page async for page in src.iter_changes(kind, cursor, **kw)]


def elements(pages: list[EkpPage]) -> list[EkpElement]:
    return [e for page in pages for e in page.elements]


def expected(handle: EkpSimulatorHandle, kind: CursorKind | str, business: bool | None = True) -> dict[str, dict]:
    """What EKP holds for a cursor kind, as the wire JSON EKP would send for each element."""
    state = handle.state
    types = CURSOR_TYPES[CursorKind(kind)]
    return {
        e.id: element_json(e, state.elements)
        for e in state.of_type(*types)
        if business is None or e.is_business == business
    }


async def control(
    session: aiohttp.ClientSession, handle: EkpSimulatorHandle, method: str, path: str, body: Any = None
) -> Any:
    async with session.request(method, f"{handle.control_url}{path}", json=body) as response:
        assert response.status < 300, f"{method} {path}: {response.status} {await response.text()}"
        return await response.json()
