"""Hard deletes and scope changes only show up in the getElementsBaseInfo diff."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from app.ekp.models import CursorKind, ElementType
from app.ekp.simulator import EkpSimulatorHandle, start_simulator
from tests.integration.ekp.ekp_helpers import PASSWORD, USER, control, elements, read, source


@pytest.fixture
async def sim() -> AsyncIterator[EkpSimulatorHandle]:
    handle = await start_simulator(user=USER, password=PASSWORD, depts=30, persons=200, seed=11)
    yield handle
    await handle.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.mark.parametrize("transport", ["rest", "soap"])
async def test_hard_deleted_items_are_found_missing(sim, session, transport) -> None:
    src = source(session, sim, transport, overlap_seconds=0)
    pages = await read(src, CursorKind.PERSON, None)
    known = {e.id for e in elements(pages)}
    persons = sim.state.of_type(ElementType.PERSON)
    gone, disabled = persons[10], persons[11]
    await control(session, sim, "DELETE", f"/elements/{gone.id}")
    await control(session, sim, "POST", f"/elements/{disabled.id}/disable")

    changes = elements(await read(src, CursorKind.PERSON, pages[-1].cursor))
    assert [e.id for e in changes] == [disabled.id]  # the hard delete never appears in the feed

    assert await src.find_missing(CursorKind.PERSON, known) == {gone.id}
    infos = {i.id: i for i in await src.get_elements_base_info(CursorKind.PERSON, extra=["no", "order"])}
    assert disabled.id in infos and gone.id not in infos  # base info has no isAvailable filter
    assert infos[disabled.id].no == disabled.no and infos[disabled.id].name == disabled.name
    assert len(infos) == len(persons) - 1


async def test_element_leaving_business_scope_disappears_from_plain_methods(sim, session) -> None:
    dept = sim.state.of_type(ElementType.DEPT)[4]
    await control(session, sim, "PATCH", f"/elements/{dept.id}", {"isBusiness": False})
    plain = source(session, sim)
    all_ids = {e.id for e in sim.state.of_type(ElementType.ORG, ElementType.DEPT)}
    assert await plain.find_missing(CursorKind.DEPT, all_ids) == {dept.id}
    assert dept.id not in {e.id for e in elements(await read(plain, CursorKind.DEPT, None))}

    v2 = source(session, sim, include_non_business=True)
    element = next(e for e in elements(await read(v2, CursorKind.DEPT, None)) if e.id == dept.id)
    assert element.is_business is False
    assert await v2.find_missing(CursorKind.DEPT, all_ids) == set()
