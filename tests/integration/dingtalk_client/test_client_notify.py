"""Work records, v1.0 todo tasks and work notifications."""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp
import pytest
from dingtalk_client_helpers import CORPID, control

from app.dingtalk.client import App, DingTalkClient
from app.dingtalk.errors import DingTalkAPIError


async def test_work_records(client: DingTalkClient, app: App, session: aiohttp.ClientSession, sim: Any) -> None:
    await client.contacts.create_user(app, userid="wr1", name="待办人", mobile="13822220000", dept_id_list=[1])
    ids = [
        await client.notify.add_work_record(
            app,
            userid="wr1",
            title=f"请审批 {i}",
            url="https://example.com/r",
            form_items=[("申请人", f"员工{i}")],
            biz_id=f"biz-{i}",
            source_name="蓝钉",
        )
        for i in range(60)  # more than one page of 50
    ]
    assert len(set(ids)) == 60
    open_records = await client.notify.list_work_records(app, "wr1")
    assert {r.record_id for r in open_records} == set(ids)
    assert open_records[0].forms and open_records[0].title

    assert await client.notify.update_work_record(app, "wr1", ids[0]) is True
    assert await client.notify.update_work_record(app, "wr1", "biz-1") is True  # biz_id works too
    assert len(await client.notify.list_work_records(app, "wr1", status=1)) == 2
    assert len(await client.notify.list_work_records(app, "wr1")) == 58
    assert len(await control(session, sim, "GET", f"corps/{CORPID}/workrecords?userid=wr1")) == 60


async def test_todo_tasks(client: DingTalkClient, app: App) -> None:
    owner = await client.contacts.create_user(app, userid="td1", name="负责人", mobile="13822221111", dept_id_list=[1])
    executor = await client.contacts.create_user(
        app, userid="td2", name="执行人", mobile="13822222222", dept_id_list=[1]
    )
    assert owner.unionid and executor.unionid
    task = await client.notify.create_todo(
        app,
        owner.unionid,
        subject="审批报销单",
        source_id="ekp-1",
        description="请尽快处理",
        executor_ids=[executor.unionid],
        detail_url={"appUrl": "https://e/x", "pcUrl": "https://e/x"},
        priority=20,
    )
    assert task.id and task.subject == "审批报销单" and task.source_id == "ekp-1"
    assert task.executor_ids == [executor.unionid]
    with pytest.raises(DingTalkAPIError) as dup:
        await client.notify.create_todo(app, owner.unionid, subject="again", source_id="ekp-1")
    assert dup.value.http_status == 400 and "task exist" in dup.value.errmsg

    assert await client.notify.update_todo(app, owner.unionid, task.id, subject="审批报销单(加急)", done=True) is True
    assert await client.notify.delete_todo(app, owner.unionid, task.id) is True
    with pytest.raises(DingTalkAPIError):
        await client.notify.update_todo(app, owner.unionid, task.id, done=False)


async def test_work_notifications(client: DingTalkClient, app: App) -> None:
    await client.contacts.create_user(app, userid="msg1", name="收件人", mobile="13822223333", dept_id_list=[1])
    msg = {"msgtype": "text", "text": {"content": "您有一条新的待办"}}
    task_id = await client.notify.send_work_notification(app, msg, userid_list=["msg1"])
    assert task_id > 0
    result = await client.notify.get_send_result(app, task_id)
    assert "msg1" in result.read_user_id_list + result.unread_user_id_list
    # The same content to the same person on the same day is refused by DingTalk (reported, not raised).
    again = await client.notify.send_work_notification(app, msg, userid_list=["msg1"])
    refused = await client.notify.get_send_result(app, again)
    assert "msg1" in refused.forbidden_user_id_list or refused.forbidden_list
    await client.notify.recall_work_notification(app, task_id)

    with pytest.raises(ValueError):
        await client.notify.send_work_notification(dataclasses.replace(app, agent_id=None), msg, userid_list=["msg1"])
    with pytest.raises(ValueError):
        await client.notify.send_work_notification(app, msg)
