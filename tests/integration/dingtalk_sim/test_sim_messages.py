"""Work records, v1.0 todo tasks and work notifications, read back through the control API."""

from __future__ import annotations

import aiohttp
from sim_helpers import AGENTID, CORPID, Api

from app.dingtalk.simulator import SimulatorHandle


async def admin(api: Api) -> dict:
    userid = (await api.post("/topapi/user/listadmin"))["result"][0]["userid"]
    return (await api.post("/topapi/v2/user/get", {"userid": userid}))["result"]


async def test_workrecords(sim: SimulatorHandle, api: Api) -> None:
    user = await admin(api)
    record = {
        "userid": user["userid"],
        "create_time": 1700000000000,
        "title": "请审批报销单",
        "url": "https://example.com/r/1",
        "formItemList": [{"title": "金额", "content": "100元"}],
        "biz_id": "ekp-1",
    }
    added = await api.post("/topapi/workrecord/add", record)
    assert added["errcode"] == 0 and added["record_id"].startswith("record")
    assert (await api.post("/topapi/workrecord/add", record))["errcode"] == 854001
    bad_user = await api.post("/topapi/workrecord/add", {**record, "userid": "ghost", "biz_id": "x"})
    assert bad_user["errcode"] == 33012
    listing = await api.post(
        "/topapi/workrecord/getbyuserid", {"userid": user["userid"], "offset": 0, "limit": 50, "status": 0}
    )
    assert listing["records"]["has_more"] is False
    assert listing["records"]["list"][0]["forms"] == [{"title": "金额", "content": "100元"}]
    limit = {"userid": user["userid"], "offset": 0, "limit": 51, "status": 0}
    assert (await api.post("/topapi/workrecord/getbyuserid", limit))["errcode"] == 40069
    # The biz_id works as record id for update.
    done = await api.post("/topapi/workrecord/update", {"userid": user["userid"], "record_id": "ekp-1"})
    assert done == {**done, "errcode": 0, "result": True}
    seen = await api.control("GET", f"/corps/{CORPID}/workrecords?userid={user['userid']}")
    assert len(seen) == 1 and seen[0]["status"] == 1 and seen[0]["title"] == "请审批报销单"


async def test_v1_todo_crud(sim: SimulatorHandle, api: Api, http: aiohttp.ClientSession) -> None:
    user = await admin(api)
    headers = {"x-acs-dingtalk-access-token": await api.token()}
    base = f"{sim.base_url}/v1.0/todo/users/{user['unionid']}/tasks"
    task = {"sourceId": "ekp-42", "subject": "合同审批", "executorIds": [user["unionid"]], "dueTime": 1900000000000}
    async with http.post(base, params={"operatorId": user["unionid"]}, json=task, headers=headers) as r:
        assert r.status == 200
        created = await r.json()
    assert created["subject"] == "合同审批" and created["done"] is False and created["sourceId"] == "ekp-42"
    async with http.post(base, json=task, headers=headers) as r:
        assert r.status == 400
        err = await r.json()
    assert err["message"] == "task exist"
    async with http.put(f"{base}/{created['id']}", json={"done": True}, headers=headers) as r:
        assert r.status == 200 and (await r.json())["result"] is True
    todos = await api.control("GET", f"/corps/{CORPID}/todos?unionid={user['unionid']}")
    assert todos[0]["done"] is True
    async with http.delete(f"{base}/{created['id']}", headers=headers) as r:
        assert r.status == 200 and (await r.json())["result"] is True
    async with http.put(f"{base}/{created['id']}", json={"done": False}, headers=headers) as r:
        assert r.status == 400 and (await r.json())["message"] == "task not exist"
    async with http.post(f"{sim.base_url}/v1.0/todo/users/nobody/tasks", json=task, headers=headers) as r:
        assert r.status == 400


async def test_work_notifications(sim: SimulatorHandle, api: Api) -> None:
    user = await admin(api)
    msg = {"msgtype": "text", "text": {"content": "同步完成"}}
    sent = await api.post(
        "/topapi/message/corpconversation/asyncsend_v2",
        {"agent_id": AGENTID, "userid_list": f"{user['userid']},ghost", "msg": msg},
    )
    assert sent["errcode"] == 0 and isinstance(sent["task_id"], int)
    result = await api.post(
        "/topapi/message/corpconversation/getsendresult", {"agent_id": AGENTID, "task_id": sent["task_id"]}
    )
    send_result = result["send_result"]
    assert send_result["invalid_user_id_list"] == ["ghost"] and send_result["unread_user_id_list"] == [user["userid"]]
    # The same content to the same person on one day is dropped, but the send call still succeeds.
    again = {"agent_id": AGENTID, "userid_list": user["userid"], "msg": msg}
    dup = await api.post("/topapi/message/corpconversation/asyncsend_v2", again)
    assert dup["errcode"] == 0
    dup_result = await api.post(
        "/topapi/message/corpconversation/getsendresult", {"agent_id": AGENTID, "task_id": dup["task_id"]}
    )
    assert dup_result["send_result"]["forbidden_list"] == [{"code": "143106", "count": 1, "userid": user["userid"]}]
    wrong_agent = await api.post(
        "/topapi/message/corpconversation/asyncsend_v2", {"agent_id": 1, "userid_list": user["userid"], "msg": msg}
    )
    assert wrong_agent["errcode"] == 40056
    recalled = await api.post(
        "/topapi/message/corpconversation/recall", {"agent_id": AGENTID, "msg_task_id": sent["task_id"]}
    )
    assert recalled["errcode"] == 0
    inbox = await api.control("GET", f"/corps/{CORPID}/messages?userid={user['userid']}")
    assert len(inbox) == 1 and inbox[0]["msg"] == msg and inbox[0]["recalled"] is True
