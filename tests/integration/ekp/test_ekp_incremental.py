"""Incremental reads from a stored cursor: exactly the changes, the overlap window, disabled and moved elements."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from app.ekp.models import CursorKind, ElementType, shift_timestamp
from app.ekp.simulator import EkpSimulatorHandle, start_simulator
from tests.integration.ekp.ekp_helpers import PASSWORD, USER, control, elements, read, source

TRANSPORTS = ["rest", "soap"]


@pytest.fixture
async def sim() -> AsyncIterator[EkpSimulatorHandle]:
    handle = await start_simulator(user=USER, password=PASSWORD, depts=60, persons=800, seed=3)
    yield handle
    await handle.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def _baseline(session, sim, kind, transport="rest"):
    pages = await read(source(session, sim, transport, page_size=200), kind, None)
    return pages[-1].cursor, {e.id: e.alter_time for e in elements(pages)}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_incremental_returns_exactly_the_changed_items(sim, session, transport) -> None:
    cursor, seen = await _baseline(session, sim, CursorKind.PERSON, transport)
    changed = await control(session, sim, "POST", "/bulk/change", {"type": "person", "count": 57, "seed": 5})

    exact = await read(source(session, sim, transport, page_size=10, overlap_seconds=0), CursorKind.PERSON, cursor)
    assert sorted(e.id for e in elements(exact)) == sorted(changed["ids"])
    assert exact[-1].cursor == changed["maxAlterTime"]

    # With the overlap window the client re-reads a minute before the cursor; what we already applied is dropped.
    overlapped = await read(source(session, sim, transport, page_size=10), CursorKind.PERSON, cursor, known=seen)
    assert sorted(e.id for e in elements(overlapped)) == sorted(changed["ids"])
    assert sum(p.skipped_duplicates for p in overlapped) == sum(
        1 for t in seen.values() if t > shift_timestamp(cursor, -60)
    )


async def test_overlap_without_known_redelivers_each_change_once(sim, session) -> None:
    cursor, seen = await _baseline(session, sim, CursorKind.PERSON)
    changed = await control(session, sim, "POST", "/bulk/change", {"type": "person", "count": 20, "seed": 9})
    pages = await read(source(session, sim, page_size=7), CursorKind.PERSON, cursor)
    got = elements(pages)
    in_window = {i for i, t in seen.items() if t > shift_timestamp(cursor, -60)} - set(changed["ids"])
    assert sorted(e.id for e in got) == sorted(set(changed["ids"]) | in_window)
    assert len({e.key for e in got}) == len(got)
    # The cursor never moves backwards, even while the first pages replay the window.
    assert all(p.cursor >= cursor for p in pages)


async def test_overlap_window_catches_a_late_committed_change(sim, session) -> None:
    cursor, seen = await _baseline(session, sim, CursorKind.PERSON)
    late = sim.state.of_type(ElementType.PERSON)[3]
    # A transaction that committed after our read but carries an older alterTime than our cursor.
    await control(
        session, sim, "PATCH", f"/elements/{late.id}", {"name": "迟到的修改", "alterTime": shift_timestamp(cursor, -10)}
    )
    strict = elements(await read(source(session, sim, overlap_seconds=0), CursorKind.PERSON, cursor))
    assert strict == []  # EKP's strict ">" alone would lose it
    caught = elements(await read(source(session, sim, overlap_seconds=30), CursorKind.PERSON, cursor, known=seen))
    assert [(e.id, e.name) for e in caught] == [(late.id, "迟到的修改")]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_disabled_and_moved_elements_arrive_with_their_state(sim, session, transport) -> None:
    dept_cursor, _ = await _baseline(session, sim, CursorKind.DEPT, transport)
    person_cursor, _ = await _baseline(session, sim, CursorKind.PERSON, transport)
    depts = sim.state.of_type(ElementType.DEPT)
    person = sim.state.of_type(ElementType.PERSON)[0]
    await control(session, sim, "POST", f"/elements/{depts[5].id}/disable")
    await control(session, sim, "POST", f"/elements/{person.id}/disable")
    target = next(d for d in depts if d.id != person.parent)
    moved = sim.state.of_type(ElementType.PERSON)[1]
    await control(session, sim, "PATCH", f"/elements/{moved.id}", {"parent": target.id, "mobileNo": "13900000001"})

    src = source(session, sim, transport, overlap_seconds=0)
    dept_changes = elements(await read(src, CursorKind.DEPT, dept_cursor))
    assert [(e.id, e.is_available) for e in dept_changes] == [(depts[5].id, False)]
    person_changes = {e.id: e for e in elements(await read(src, CursorKind.PERSON, person_cursor))}
    assert set(person_changes) == {person.id, moved.id}
    assert person_changes[person.id].is_available is False
    assert person_changes[moved.id].parent == target.id
    assert person_changes[moved.id].mobile_no == "13900000001"
    assert person_changes[moved.id].hierarchy_id.endswith(f"x{target.id}x{moved.id}x")

    await control(session, sim, "POST", f"/elements/{person.id}/enable")
    again = elements(await read(src, CursorKind.PERSON, max(p.alter_time for p in person_changes.values())))
    assert [(e.id, e.is_available) for e in again] == [(person.id, True)]


async def test_no_changes_keeps_the_cursor(sim, session) -> None:
    cursor, _ = await _baseline(session, sim, CursorKind.GROUP)
    pages = await read(source(session, sim), CursorKind.GROUP, cursor)
    assert len(pages) == 1 and pages[0].is_last and pages[0].cursor == cursor


async def test_per_type_paging_variant_is_read_completely(sim, session) -> None:
    # EKP's newer implementation forces count >= 10000 and pages each type separately; per-kind cursors and
    # accepting long pages keep the read complete.
    await control(session, sim, "PATCH", "/config", {"perTypePaging": True})
    for kind in CursorKind:
        pages = await read(source(session, sim, page_size=50), kind, None)
        got = elements(pages)
        types = {ElementType.ORG, ElementType.DEPT} if kind == CursorKind.DEPT else {ElementType(kind.value)}
        assert {e.id for e in got} == {e.id for e in sim.state.of_type(*types)}
        assert len(got) == len({e.id for e in got})
