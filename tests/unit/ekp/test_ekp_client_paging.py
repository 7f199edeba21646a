"""Client paging rules against a scripted EKP (answers fixed in advance), for cases the simulator never produces."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from app.ekp.errors import EkpProtocolError
from app.ekp.org_source import EkpOrgSource, EkpSourceConfig


def _row(i: str, at: str) -> dict[str, Any]:
    return {"id": i, "lunid": i, "name": i, "type": "person", "alterTime": at, "isAvailable": True, "isBusiness": True}


class Scripted:
    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.answers = answers
        self.seen: list[tuple[dict[str, Any], str | None]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append((await request.json(), request.headers.get("Authorization")))
        return web.json_response(self.answers.pop(0))


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[Scripted, str]]:
    script = Scripted([])
    app = web.Application()
    app.router.add_post("/ekp/api/sys-organization/sysSynchroGetOrg/{method}", script.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield script, str(server.make_url("/ekp"))
    await server.close()


async def _pages(base: str, cursor: str | None, **config: Any) -> list:
    async with aiohttp.ClientSession() as session:
        src = EkpOrgSource(session, EkpSourceConfig(base_url=base, **config))
        return [page async for page in src.iter_changes("person", cursor)]


async def test_message_as_array_and_missing_timestamp(scripted) -> None:
    script, base = scripted
    script.answers = [
        {
            "returnState": 2,
            "count": 2,
            "message": [_row("a", "2024-01-01 00:00:01.000"), _row("b", "2024-01-01 00:00:02.000")],
        },
        {"returnState": 2, "count": 0, "message": "[]", "timeStamp": "2024-01-01 00:00:02.000"},
    ]
    pages = await _pages(base, None, page_size=2, user="")
    assert [e.id for p in pages for e in p.elements] == ["a", "b"]
    assert pages[0].cursor == pages[1].cursor == "2024-01-01 00:00:02.000"
    assert script.seen[1][0]["beginTimeStamp"] == "2024-01-01 00:00:02.000"
    assert all(auth is None for _, auth in script.seen)  # anonymous policy: no credentials sent


async def test_timestamp_that_does_not_advance_is_refused(scripted) -> None:
    script, base = scripted
    stuck = {"returnState": 2, "count": 1, "timeStamp": "2024-01-01 00:00:00.000"}
    stuck["message"] = json.dumps([_row("a", "2024-01-01 00:00:00.000")])
    script.answers = [stuck]
    with pytest.raises(EkpProtocolError):
        await _pages(base, "2024-01-01 00:00:00.000", page_size=1, overlap_seconds=0)


async def test_overlap_page_never_moves_the_cursor_back(scripted) -> None:
    script, base = scripted
    older = json.dumps([_row("x", "2024-01-01 00:00:50.000")])
    script.answers = [{"returnState": 2, "count": 1, "message": older, "timeStamp": "2024-01-01 00:00:50.000"}]
    pages = await _pages(base, "2024-01-01 00:01:00.000", page_size=5, user="u", password="p")
    assert pages[0].cursor == "2024-01-01 00:01:00.000" and [e.id for e in pages[0].elements] == ["x"]
    body, auth = script.seen[0]
    assert body["beginTimeStamp"] == "2024-01-01 00:00:00.000" and auth == aiohttp.encode_basic_auth("u", "p")
