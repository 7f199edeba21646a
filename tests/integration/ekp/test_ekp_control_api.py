"""The simulator's /_sim control API, observed through the real client like a sync run would."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from app.ekp.models import CursorKind, ElementType
from app.ekp.simulator import EkpSimulatorHandle, start_simulator
from tests.integration.ekp.ekp_helpers import PASSWORD, USER, control, elements, read, source


@pytest.fixture
async def sim() -> AsyncIterator[EkpSimulatorHandle]:
    handle = await start_simulator(user=USER, password=PASSWORD, depts=25, persons=100, seed=8)
    yield handle
    await handle.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def test_add_rename_move_and_counts(sim, session) -> None:
    before = await control(session, sim, "GET", "/counts")
    src = source(session, sim, overlap_seconds=0)
    dept_cursor = (await read(src, CursorKind.DEPT, None))[-1].cursor
    person_cursor = (await read(src, CursorKind.PERSON, None))[-1].cursor
    root = sim.state.of_type(ElementType.ORG)[0]
    dept = await control(session, sim, "POST", "/elements", {"type": "dept", "name": "新成立事业部", "parent": root.id})
    person = await control(
        session,
        sim,
        "POST",
        "/elements",
        {
            "type": "person",
            "name": "新员工",
            "parent": dept["id"],
            "loginName": "xinyuangong",
            "mobileNo": "13700000000",
        },
    )
    await control(session, sim, "PATCH", f"/elements/{dept['id']}", {"name": "创新事业部", "order": 3})
    other = sim.state.of_type(ElementType.DEPT)[0]
    await control(session, sim, "PATCH", f"/elements/{dept['id']}", {"parent": other.id})

    dept_changes = elements(await read(src, CursorKind.DEPT, dept_cursor))
    assert [(e.id, e.name, e.parent, e.order) for e in dept_changes] == [(dept["id"], "创新事业部", other.id, 3)]
    (new_person,) = elements(await read(src, CursorKind.PERSON, person_cursor))
    assert (new_person.login_name, new_person.mobile_no, new_person.parent) == (
        "xinyuangong",
        "13700000000",
        dept["id"],
    )
    assert person["lunid"] == person["id"] and "password" in person  # EKP leaks a hash; the client drops it

    after = await control(session, sim, "GET", "/counts")
    assert after["byType"]["dept"] == before["byType"]["dept"] + 1
    assert after["byType"]["person"] == before["byType"]["person"] + 1


async def test_invalid_changes_are_refused(sim, session) -> None:
    depts = sim.state.of_type(ElementType.DEPT)
    child = next(d for d in depts if d.parent in {x.id for x in depts})
    async with session.patch(f"{sim.control_url}/elements/{child.parent}", json={"parent": child.id}) as response:
        assert response.status == 400  # a department cannot move under its own child
    taken = sim.state.of_type(ElementType.PERSON)[0].login_name
    body = {"type": "person", "name": "重名", "parent": depts[0].id, "loginName": taken}
    async with session.post(f"{sim.control_url}/elements", json=body) as response:
        assert response.status == 400
    async with session.get(f"{sim.control_url}/elements/does-not-exist") as response:
        assert response.status == 404


async def test_bulk_disable_and_same_millisecond(sim, session) -> None:
    src = source(session, sim, overlap_seconds=0, page_size=5)
    cursor = (await read(src, CursorKind.PERSON, None))[-1].cursor
    disabled = await control(session, sim, "POST", "/bulk/change", {"type": "person", "count": 12, "field": "disable"})
    same = await control(session, sim, "POST", "/same-millisecond", {"type": "person", "count": 9})
    pages = await read(src, CursorKind.PERSON, cursor)
    got = {e.id: e for e in elements(pages)}
    assert set(got) == set(disabled["ids"]) | set(same["ids"])
    assert all(not got[i].is_available for i in disabled["ids"])
    assert {got[i].alter_time for i in same["ids"]} == {same["alterTime"]}
    counts = await control(session, sim, "GET", "/counts")
    assert counts["disabled"]["person"] == 12
    listed = await control(session, sim, "GET", "/elements?type=person&available=false&limit=50")
    assert {e["id"] for e in listed["items"]} == set(disabled["ids"])


async def test_deterministic_data_for_a_seed(sim) -> None:
    other = await start_simulator(depts=25, persons=100, seed=8)
    try:
        mine = sorted((e.id, e.name, e.parent, e.alter_ms) for e in sim.state.elements.values())
        theirs = sorted((e.id, e.name, e.parent, e.alter_ms) for e in other.state.elements.values())
        assert mine == theirs
    finally:
        await other.close()
