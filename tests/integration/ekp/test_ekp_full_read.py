"""Full and paged reads through the real client against the simulator over loopback HTTP, REST and SOAP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from app.ekp.models import CursorKind, ElementType
from app.ekp.simulator import EkpSimulatorHandle, start_simulator
from tests.integration.ekp.ekp_helpers import PASSWORD, USER, control, elements, expected, read, source

TRANSPORTS = ["rest", "soap"]


@pytest.fixture
async def sim() -> AsyncIterator[EkpSimulatorHandle]:
    handle = await start_simulator(user=USER, password=PASSWORD, depts=120, persons=1100, seed=7)
    yield handle
    await handle.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_full_read_with_small_pages_equals_ekp_content(sim, session, transport) -> None:
    src = source(session, sim, transport, page_size=37)
    for kind in CursorKind:
        pages = await read(src, kind, None)
        got = elements(pages)
        want = expected(sim, kind)
        assert len(got) == len(want), f"{kind}: lost or duplicated elements at page boundaries"
        assert {e.id for e in got} == set(want)
        for element in got:
            wire = want[element.id]
            assert element.alter_time == wire["alterTime"]
            assert element.name == wire["name"]
            assert element.parent == wire.get("parent")
            assert element.is_available is True
            if element.type == ElementType.PERSON:
                assert element.login_name == wire["loginName"]
                assert element.mobile_no == wire["mobileNo"]
                assert element.email == wire["email"]
                assert element.no == wire["no"]
                assert element.posts == wire["posts"]
        assert pages[-1].is_last and pages[-1].cursor == max(w["alterTime"] for w in want.values())
    assert sum(len(expected(sim, k)) for k in CursorKind) > 1000


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_many_items_in_one_millisecond_across_a_page_boundary(sim, session, transport) -> None:
    persons = sim.state.of_type(ElementType.PERSON)
    # Put 80 persons into one millisecond right where page 3 of size 25 ends.
    ordered = sorted(persons, key=lambda e: (e.alter_ms, e.id))
    cluster = [e.id for e in ordered[60:140]]
    stamp = await control(
        session, sim, "POST", "/same-millisecond", {"ids": cluster, "alterTime": ordered[60].alter_time}
    )
    assert stamp["alterTime"] == ordered[60].alter_time

    pages = await read(source(session, sim, transport, page_size=25), CursorKind.PERSON, None)
    got = elements(pages)
    assert len(got) == len(persons) == len({e.id for e in got})
    # EKP continued past count rather than cutting the millisecond in two.
    long_page = next(page for page in pages if cluster[0] in {e.id for e in page.elements})
    assert long_page.received >= 80
    assert long_page.cursor == ordered[60].alter_time
    assert set(cluster) <= {e.id for e in long_page.elements}


async def test_cursor_after_each_page_is_monotonic_and_resumable(sim, session) -> None:
    src = source(session, sim, page_size=100)
    pages = await read(src, CursorKind.PERSON, None)
    cursors = [p.cursor for p in pages]
    assert cursors == sorted(cursors) and len(pages) > 5
    # A run that committed three pages and died resumes from the third page's cursor: nothing lost.
    resumed = await read(source(session, sim, page_size=100, overlap_seconds=0), CursorKind.PERSON, cursors[2])
    first_three = {e.id for p in pages[:3] for e in p.elements}
    assert first_three | {e.id for e in elements(resumed)} == set(expected(sim, CursorKind.PERSON))
    assert not first_three & {e.id for e in elements(resumed)}


async def test_peer_sees_ekp_shaped_requests(sim, session) -> None:
    await control(session, sim, "DELETE", "/requests")
    await read(source(session, sim, "rest", page_size=500), CursorKind.DEPT, None)
    await read(source(session, sim, "soap", page_size=500), CursorKind.PERSON, "2024-01-02 09:30:00.000")
    log = (await control(session, sim, "GET", "/requests"))["requests"]
    rest = [r for r in log if r["transport"] == "rest"]
    soap = [r for r in log if r["transport"] == "soap"]
    assert rest[0]["method"] == "getUpdatedElements" and rest[0]["user"] == USER
    assert rest[0]["args"] == {"returnOrgType": '[{"type": "org"}, {"type": "dept"}]', "count": 500}
    assert soap[0]["password_form"] == "md5"
    assert soap[0]["args"] == {
        "returnOrgType": '[{"type": "person"}]',
        "count": "500",
        # default overlap window: one minute before the stored cursor
        "beginTimeStamp": "2024-01-02 09:29:00.000",
    }
