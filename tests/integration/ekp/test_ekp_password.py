"""Domain-account login: EKP checks a person's password (simulator endpoint, see app.ekp.protocol)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from app.ekp.errors import EkpAuthError
from app.ekp.models import ElementType
from app.ekp.simulator import EkpSimulatorHandle, start_simulator
from tests.integration.ekp.ekp_helpers import PASSWORD, USER, control, source


@pytest.fixture
async def sim() -> AsyncIterator[EkpSimulatorHandle]:
    handle = await start_simulator(
        user=USER, password=PASSWORD, depts=10, persons=40, seed=4, person_password="Pw-2024"
    )
    yield handle
    await handle.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.mark.parametrize("transport", ["rest", "soap"])
async def test_right_and_wrong_passwords(sim, session, transport) -> None:
    src = source(session, sim, transport)
    person = sim.state.of_type(ElementType.PERSON)[0]
    assert await src.verify_password(person.login_name, "Pw-2024") is True
    assert await src.verify_password(person.login_name.upper(), "Pw-2024") is True  # EKP logins ignore case
    assert await src.verify_password(person.login_name, "pw-2024") is False
    assert await src.verify_password(person.login_name, "") is False
    assert await src.verify_password("nobody-here", "Pw-2024") is False


async def test_changed_and_disabled_accounts(sim, session) -> None:
    src = source(session, sim)
    first, second = sim.state.of_type(ElementType.PERSON)[:2]
    await control(session, sim, "PATCH", f"/elements/{first.id}", {"password": "Neu-2025"})
    assert await src.verify_password(first.login_name, "Neu-2025") is True
    assert await src.verify_password(first.login_name, "Pw-2024") is False
    await control(session, sim, "POST", f"/elements/{second.id}/disable")
    assert await src.verify_password(second.login_name, "Pw-2024") is False


async def test_broken_service_account_raises_instead_of_saying_wrong_password(sim, session) -> None:
    person = sim.state.of_type(ElementType.PERSON)[0]
    with pytest.raises(EkpAuthError):
        await source(session, sim, password="nope").verify_password(person.login_name, "Pw-2024")
