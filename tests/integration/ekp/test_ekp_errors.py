"""Every way EKP can refuse or garble an answer maps to one typed error the caller can act on."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from app.ekp.errors import (
    EkpAuthError,
    EkpConnectionError,
    EkpForbiddenError,
    EkpProtocolError,
    EkpServiceError,
)
from app.ekp.models import CursorKind, ElementType
from app.ekp.org_source import EkpOrgSource, EkpSourceConfig
from app.ekp.protocol import md5_hex
from app.ekp.simulator import EkpSimulatorHandle, start_simulator
from tests.integration.ekp.ekp_helpers import PASSWORD, USER, control, elements, read

TRANSPORTS = ["rest", "soap"]


@pytest.fixture
async def sim() -> AsyncIterator[EkpSimulatorHandle]:
    handle = await start_simulator(user=USER, password=PASSWORD, depts=20, persons=120, seed=2)
    yield handle
    await handle.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def _with(sim, session, transport="rest", **config) -> EkpOrgSource:
    defaults = {"base_url": sim.base_url, "user": USER, "password": PASSWORD, "transport": transport}
    return EkpOrgSource(session, EkpSourceConfig(**{**defaults, **config}))


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_wrong_password_is_an_auth_error(sim, session, transport) -> None:
    src = _with(sim, session, transport, password="wrong")
    with pytest.raises(EkpAuthError):
        await read(src, CursorKind.DEPT, None)
    check = await src.check_connection()
    assert not check.ok and isinstance(check.error, EkpAuthError) and "验权失败" in check.message


async def test_rest_401_carries_basic_challenge(sim, session) -> None:
    url = f"{sim.base_url}/api/sys-organization/sysSynchroGetOrg/getUpdatedElements"
    async with session.post(url, json={"count": 1}) as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"] == 'Basic realm="null"'


async def test_soap_plain_password_is_refused_unless_the_server_accepts_it(sim, session) -> None:
    plain = _with(sim, session, "soap", soap_password_md5=False)
    with pytest.raises(EkpAuthError):
        await plain.get_elements_base_info(CursorKind.GROUP)
    await control(session, sim, "PATCH", "/config", {"soapPlainPassword": True})
    assert await plain.get_elements_base_info(CursorKind.GROUP)
    log = (await control(session, sim, "GET", "/requests"))["requests"]
    assert [r["password_form"] for r in log] == ["plain", "plain"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_ip_not_in_policy_is_forbidden(sim, session, transport) -> None:
    await control(session, sim, "PATCH", "/config", {"allowedIps": ["10.20.*.*"]})
    with pytest.raises(EkpForbiddenError):
        await read(_with(sim, session, transport), CursorKind.PERSON, None)
    await control(session, sim, "PATCH", "/config", {"allowedIps": ["127.0.0.*"]})
    assert elements(await read(_with(sim, session, transport), CursorKind.GROUP, None))


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_return_state_1_is_a_service_error_with_ekp_message(sim, session, transport) -> None:
    await control(
        session, sim, "POST", "/faults", {"kind": "service_error", "message": "组织架构接出服务异常：数据库连接失败"}
    )
    with pytest.raises(EkpServiceError) as caught:
        await read(_with(sim, session, transport), CursorKind.PERSON, None)
    assert caught.value.message == "组织架构接出服务异常：数据库连接失败"

    src = _with(sim, session, transport)
    with pytest.raises(EkpServiceError, match="count"):
        await src.get_updated_elements(["person"], None, 0)
    with pytest.raises(EkpServiceError, match="beginTimeStamp"):
        await src.get_updated_elements(["person"], "yesterday", 10)

    await control(session, sim, "POST", "/faults", {"kind": "not_processed"})
    with pytest.raises(EkpServiceError):
        await src.get_elements_base_info(CursorKind.DEPT)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("kind", ["malformed", "bad_element"])
async def test_malformed_answers_are_protocol_errors(sim, session, transport, kind) -> None:
    await control(session, sim, "POST", "/faults", {"kind": kind})
    src = _with(sim, session, transport)
    with pytest.raises(EkpProtocolError):
        await read(src, CursorKind.PERSON, None)
    await control(session, sim, "POST", "/faults", {"kind": kind})
    check = await src.check_connection()
    assert not check.ok and isinstance(check.error, EkpProtocolError)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_http_errors_and_unregistered_service(sim, session, transport) -> None:
    await control(session, sim, "POST", "/faults", {"kind": "http_status", "status": 502})
    with pytest.raises(EkpServiceError) as caught:
        await read(_with(sim, session, transport), CursorKind.PERSON, None)
    assert caught.value.status == 502
    wrong_context = _with(sim, session, transport, base_url=sim.root_url + "/oa")
    with pytest.raises(EkpServiceError) as caught:
        await wrong_context.get_elements_base_info(CursorKind.DEPT)
    assert caught.value.status == 404


async def test_unreachable_and_slow_ekp_are_connection_errors(sim, session) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    down = _with(sim, session, base_url=f"http://127.0.0.1:{free_port}/ekp")
    with pytest.raises(EkpConnectionError):
        await read(down, CursorKind.DEPT, None)
    check = await down.check_connection()
    assert not check.ok and "无法连接" in check.message

    await control(session, sim, "POST", "/faults", {"kind": "delay", "seconds": 2})
    with pytest.raises(EkpConnectionError):
        await read(_with(sim, session, timeout_seconds=0.3), CursorKind.DEPT, None)


async def test_failure_mid_run_keeps_committed_cursor(sim, session) -> None:
    await control(session, sim, "POST", "/faults", {"kind": "http_status", "status": 500, "after": 2})
    committed: list[str | None] = []
    delivered: set[str] = set()
    src = _with(sim, session, page_size=20, overlap_seconds=0)
    with pytest.raises(EkpServiceError):
        async for page in src.iter_changes(CursorKind.PERSON, None):
            delivered |= {e.id for e in page.elements}
            committed.append(page.cursor)
    assert len(committed) == 2
    rest = {e.id for e in elements(await read(src, CursorKind.PERSON, committed[-1]))}
    assert not delivered & rest
    assert delivered | rest == {e.id for e in sim.state.of_type(ElementType.PERSON)}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_secrets_never_reach_the_log(sim, session, transport, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    await read(_with(sim, session, transport, page_size=50), CursorKind.PERSON, None)
    with pytest.raises(EkpAuthError):
        await read(_with(sim, session, transport, password="Wr0ng-pw"), CursorKind.PERSON, None)
    text = caplog.text
    assert "app.ekp" in {r.name for r in caplog.records}
    for secret in (PASSWORD, md5_hex(PASSWORD), "Wr0ng-pw", md5_hex("ekp123456")):
        assert secret not in text


async def test_connection_check_succeeds(sim, session) -> None:
    for transport in TRANSPORTS:
        check = await _with(sim, session, transport).check_connection()
        assert check.ok and check.error is None and "连接成功" in check.message
