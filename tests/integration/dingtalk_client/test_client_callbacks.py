"""Callback registration, pushed events and the failed-event list."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from dingtalk_client_helpers import APP, CORPID, Receiver, SimFactory, control, make_client

from app.dingtalk.client import App, DingTalkClient
from app.dingtalk.errors import DingTalkAPIError
from app.dingtalk.events import CONTACT_EVENT_TAGS, EventKind


async def _wait(session: aiohttp.ClientSession, sim: Any) -> None:
    assert (await control(session, sim, "POST", "callbacks/wait", {"timeout": 20}))["pending"] == 0


async def test_register_get_update_delete(
    client: DingTalkClient, app: App, receiver: Receiver, session: aiohttp.ClientSession, sim: Any
) -> None:
    tags = list(CONTACT_EVENT_TAGS)
    await client.contacts.register_callback(
        app, url=receiver.url, token=receiver.token, aes_key=receiver.aes_key, tags=tags
    )
    assert receiver.events and receiver.events[0].kind is EventKind.CHECK_URL
    config = await client.contacts.get_callback(app)
    assert config.url == receiver.url and set(config.call_back_tag) == set(tags)
    assert config.aes_key == receiver.aes_key and receiver.aes_key not in repr(config)

    with pytest.raises(DingTalkAPIError) as again:
        await client.contacts.register_callback(
            app, url=receiver.url, token=receiver.token, aes_key=receiver.aes_key, tags=tags
        )
    assert again.value.errcode == 71006 and again.value.advice
    await client.contacts.register_or_update_callback(
        app, url=receiver.url, token=receiver.token, aes_key=receiver.aes_key, tags=["user_add_org"]
    )
    assert (await client.contacts.get_callback(app)).call_back_tag == ["user_add_org"]

    # A pushed event reaches the receiver and parses into a typed event.
    await client.contacts.create_user(app, userid="cb1", name="回调", mobile="13833330000", dept_id_list=[1])
    await _wait(session, sim)
    added = [e for e in receiver.events if e.kind is EventKind.USER_ADD_ORG]
    assert [e.user_ids for e in added] == [("cb1",)] and added[0].corp_id == CORPID

    await client.contacts.delete_callback(app)
    with pytest.raises(DingTalkAPIError) as gone:
        await client.contacts.get_callback(app)
    assert gone.value.errcode == 71007


async def test_handshake_failure_is_reported(client: DingTalkClient, app: App, receiver: Receiver) -> None:
    receiver.fail = True
    with pytest.raises(DingTalkAPIError) as info:
        await client.contacts.register_callback(
            app, url=receiver.url, token=receiver.token, aes_key=receiver.aes_key, tags=["user_add_org"]
        )
    assert info.value.errcode in (71009, 71012) and info.value.advice


async def test_console_style_events(
    client: DingTalkClient, app: App, receiver: Receiver, session: aiohttp.ClientSession, sim: Any
) -> None:
    await client.contacts.register_callback(
        app, url=receiver.url, token=receiver.token, aes_key=receiver.aes_key, tags=["org_dept_create"]
    )
    await control(session, sim, "PUT", f"corps/{CORPID}/callbacks/style", {"style": "console"})
    receiver.key_id = app.appkey  # console pushes encrypt with the appKey as key id
    dept = await client.contacts.create_department(app, "控制台推送", 1)
    await _wait(session, sim)
    [event] = [e for e in receiver.events if e.kind is EventKind.ORG_DEPT_CREATE]
    assert event.dept_ids == (dept,) and event.event_id and event.dedup_key == f"event:{event.event_id}"


async def test_failed_events_are_fetched_across_pages(
    start_sim: SimFactory, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    # time_scale shrinks DingTalk's +10 s / +30 s retry schedule; the high QPS only speeds up creating 230 users.
    sim = await start_sim(qps=400, time_scale=0.001)
    client = make_client(session, sim, qps=400)
    await client.contacts.register_callback(
        APP,
        url=receiver.url,
        token=receiver.token,
        aes_key=receiver.aes_key,
        tags=["user_add_org", "org_dept_create"],
    )
    receiver.fail = True
    dept = await client.contacts.create_department(APP, "失败推送", 1)
    await asyncio.gather(
        *(
            client.contacts.create_user(
                APP, userid=f"f{i:03d}", name=f"失败{i}", mobile=f"1360000{i:04d}", dept_id_list=[dept]
            )
            for i in range(230)
        )
    )
    await _wait(session, sim)
    events = await client.contacts.get_callback_failed_events(APP)
    users = {uid for e in events if e.kind is EventKind.USER_ADD_ORG for uid in e.user_ids}
    assert users == {f"f{i:03d}" for i in range(230)}  # more than one page of 200
    [dept_event] = [e for e in events if e.kind is EventKind.ORG_DEPT_CREATE]
    assert dept_event.dept_ids == (dept,) and dept_event.corp_id == CORPID
    assert await client.contacts.get_callback_failed_events(APP) == []  # consumed by the read
