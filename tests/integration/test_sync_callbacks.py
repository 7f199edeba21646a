"""DingTalk -> LanDing: callbacks over real HTTP, echo suppression, LanDing-wins conflicts, the failed list, and the
endpoint's refusals."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from app import runtime
from app.api import dingtalk_callback
from app.dingtalk.crypto import DingTalkCrypto
from app.dingtalk.events import CONTACT_EVENT_TAGS
from app.models.contacts import Person
from app.models.sync import CallbackEvent, RunResult, RunTrigger, SyncEntry
from app.sync import runner, scheduler
from tests.integration import sync_env
from tests.integration.sync_env import CORPID, SyncEnv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def live(orm: str) -> AsyncIterator[SyncEnv]:
    """Both simulators, our callback endpoint on a real port, registered with DingTalk, and a first full sync."""
    env = await sync_env.make_env(depts=6, persons=15)
    api = FastAPI()
    api.include_router(dingtalk_callback.router)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.02)
    org = env.org
    url = f"http://127.0.0.1:{port}/api/ding_console/contacts/callback?corpid={CORPID}"
    await runtime.get().dingtalk.contacts.register_callback(
        sync_env.app_of(org), url=url, token=org.callback_token, aes_key=org.aes_key, tags=CONTACT_EVENT_TAGS
    )
    run = await runner.run(org.id, rt=runtime.get())
    assert run.result == RunResult.SUCCESS, run.error
    await env.sim("POST", "/_sim/callbacks/wait", {"timeout": 10})
    try:
        yield env
    finally:
        server.should_exit = True
        await task
        await sync_env.close_env(env)


async def _deliveries(env: SyncEnv) -> None:
    await env.sim("POST", "/_sim/callbacks/wait", {"timeout": 10})


async def test_our_own_pushes_echo_back_and_change_nothing(live: SyncEnv) -> None:
    stored = await CallbackEvent.filter(org_id=live.org.id).count()
    assert stored > 0  # DingTalk told us about every department and user we created
    before = {p.id: (p.name, p.pushed_hash, p.main_dept_id) for p in await Person.filter(org_id=live.org.id)}
    await scheduler.process_callbacks_once(runtime.get().dingtalk)
    assert await CallbackEvent.filter(org_id=live.org.id, processed_at__isnull=True).count() == 0
    after = {p.id: (p.name, p.pushed_hash, p.main_dept_id) for p in await Person.filter(org_id=live.org.id)}
    assert after == before
    await live.reset_counters()
    again = await runner.run(live.org.id, RunTrigger.AUTO, rt=runtime.get())
    calls = await live.counters()
    assert again.result == RunResult.SUCCESS
    assert not [k for k in calls if any(w in k for w in ("create", "update", "delete"))]


async def test_change_in_dingtalk_arrives_by_callback(live: SyncEnv) -> None:
    await scheduler.process_callbacks_once(runtime.get().dingtalk)
    person = await Person.filter(org_id=live.org.id, is_active=True).order_by("id").first()
    await live.sim(
        "PATCH", f"/_sim/corps/{CORPID}/users/{person.ding_userid}", {"name": "钉钉里改的名", "title": "架构师"}
    )
    await _deliveries(live)
    await scheduler.process_callbacks_once(runtime.get().dingtalk)
    fresh = await Person.get(id=person.id)
    assert (fresh.name, fresh.title, fresh.needs_push) == ("钉钉里改的名", "架构师", False)
    # The next push has nothing to send back.
    await live.reset_counters()
    await runner.run(live.org.id, RunTrigger.AUTO, rt=runtime.get())
    assert "/topapi/v2/user/update" not in await live.counters()

    # Leaving the org in DingTalk disables the person here.
    await live.sim("DELETE", f"/_sim/corps/{CORPID}/users/{person.ding_userid}")
    await _deliveries(live)
    await scheduler.process_callbacks_once(runtime.get().dingtalk)
    assert not (await Person.get(id=person.id)).is_active


async def test_landing_wins_over_a_concurrent_dingtalk_change(live: SyncEnv) -> None:
    await scheduler.process_callbacks_once(runtime.get().dingtalk)
    person = await Person.filter(org_id=live.org.id, is_active=True).order_by("id").first()
    await Person.filter(id=person.id).update(name="蓝钉里改的名", needs_push=True)
    await live.sim("PATCH", f"/_sim/corps/{CORPID}/users/{person.ding_userid}", {"name": "钉钉里改的名"})
    await _deliveries(live)
    await scheduler.process_callbacks_once(runtime.get().dingtalk)
    assert (await Person.get(id=person.id)).name == "蓝钉里改的名"
    # Scheduled runs process callbacks first, and the push then overwrites DingTalk.
    run = await runner.run(live.org.id, RunTrigger.AUTO, rt=runtime.get())
    assert run.result == RunResult.SUCCESS
    assert live.ding_users()[person.ding_userid].name == "蓝钉里改的名"


async def test_a_conflict_where_landing_wins_is_named_in_the_run_log(live: SyncEnv) -> None:
    await scheduler.process_callbacks_once(runtime.get().dingtalk)
    person = await Person.filter(org_id=live.org.id, is_active=True).order_by("id").first()
    await Person.filter(id=person.id).update(name="蓝钉里改的名", needs_push=True)
    await live.sim("PATCH", f"/_sim/corps/{CORPID}/users/{person.ding_userid}", {"name": "钉钉里改的名"})
    await _deliveries(live)
    run = await runner.run(
        live.org.id, RunTrigger.AUTO, rt=runtime.get()
    )  # applies the stored callback first, then pushes
    assert run.result == RunResult.SUCCESS
    kept = await SyncEntry.filter(run_id=run.id, stage="ding_in", local_id=person.id).first()
    assert kept is not None and "以蓝钉为准" in kept.message
    assert "姓名：钉钉为「钉钉里改的名」，保留本系统的「蓝钉里改的名」" in kept.message
    assert live.ding_users()[person.ding_userid].name == "蓝钉里改的名"


async def test_dropped_callback_is_recovered_from_the_failed_list(live: SyncEnv) -> None:
    await scheduler.process_callbacks_once(runtime.get().dingtalk)
    person = await Person.filter(org_id=live.org.id, is_active=True).order_by("-id").first()
    await live.sim("POST", f"/_sim/corps/{CORPID}/callbacks/drop", {"count": 3})
    await live.sim("PATCH", f"/_sim/corps/{CORPID}/users/{person.ding_userid}", {"name": "丢失回调的人"})
    await _deliveries(live)
    failed = await live.sim("GET", f"/_sim/corps/{CORPID}/callbacks/failed")
    assert sum(len(v) for v in failed.values()) == 1
    assert (await Person.get(id=person.id)).name != "丢失回调的人"
    run = await runner.run(live.org.id, RunTrigger.AUTO, rt=runtime.get())
    assert run.result == RunResult.SUCCESS, run.error
    assert (await Person.get(id=person.id)).name == "丢失回调的人"
    assert "从钉钉同步部门获取0条, 人员获取1条, 更新1条;" in run.summary
    failed = await live.sim("GET", f"/_sim/corps/{CORPID}/callbacks/failed")
    assert sum(len(v) for v in failed.values()) == 0


def _signed(org, payload: dict, *, timestamp: str | None = None) -> tuple[dict, dict]:
    crypto = DingTalkCrypto(org.callback_token, org.aes_key, org.corpid)
    ts = timestamp or str(int(time.time() * 1000))
    encrypt = crypto.encrypt(json.dumps(payload))
    query = {
        "corpid": org.corpid,
        "signature": crypto.signature(ts, "nonce123", encrypt),
        "timestamp": ts,
        "nonce": "nonce123",
    }
    return query, {"encrypt": encrypt}


async def test_endpoint_refuses_bad_requests(orm: str) -> None:
    from tests import factories

    org = await factories.org("叮当科技", CORPID)
    api = FastAPI()
    api.include_router(dingtalk_callback.router)
    path = "/api/ding_console/contacts/callback"
    event = {"EventType": "user_modify_org", "CorpId": CORPID, "UserId": ["u1"], "TimeStamp": str(int(time.time()))}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://t") as client:
        query, body = _signed(org, event)
        ok = await client.post(path, params=query, json=body)
        assert ok.status_code == 200 and "msg_signature" in ok.json()
        assert await CallbackEvent.filter(org_id=org.id).count() == 1
        unknown = await client.post(path, params={**query, "corpid": "nobody"}, json=body)
        assert unknown.status_code == 404
        forged = await client.post(path, params={**query, "signature": "0" * 40}, json=body)
        assert forged.status_code == 403
        old = str(int((time.time() - 7200) * 1000))
        query_old, body_old = _signed(org, event, timestamp=old)
        assert (await client.post(path, params=query_old, json=body_old)).status_code == 403
        huge = await client.post(path, params=query, content=b'{"encrypt":"' + b"a" * 70_000 + b'"}')
        assert huge.status_code == 413
    assert await CallbackEvent.filter(org_id=org.id).count() == 1
