"""Callback registration handshake, event delivery, retries and the failed-event list."""

from __future__ import annotations

from sim_helpers import APPKEY, CORPID, Api, Receiver

from app.dingtalk.simulator import SimulatorHandle

TAGS = ["user_add_org", "user_modify_org", "user_leave_org", "org_dept_create", "org_dept_modify", "org_dept_remove"]


async def register(api: Api, receiver: Receiver, path: str = "/call_back/register_call_back") -> dict:
    return await api.post(
        path, {"call_back_tag": TAGS, "token": receiver.token, "aes_key": receiver.aes_key, "url": receiver.url}
    )


async def test_register_runs_check_url_handshake(sim: SimulatorHandle, api: Api, receiver: Receiver) -> None:
    body = await register(api, receiver)
    assert body == {"errcode": 0, "errmsg": "ok"}
    assert receiver.events == [{"EventType": "check_url"}]
    query = receiver.requests[0]
    # Legacy register_call_back push: "signature" (not msg_signature), ms timestamp, nonce; the URL's own query kept.
    assert set(query) == {"corpid", "signature", "timestamp", "nonce"} and query["corpid"] == CORPID
    assert len(query["timestamp"]) == 13
    got = await api.get("/call_back/get_call_back")
    assert got["errcode"] == 0 and got["url"] == receiver.url and got["call_back_tag"] == TAGS
    assert got["token"] == receiver.token and got["aes_key"] == receiver.aes_key
    assert (await register(api, receiver))["errcode"] == 71006
    assert (await register(api, receiver, "/call_back/update_call_back"))["errcode"] == 0
    assert (await api.get("/call_back/delete_call_back"))["errcode"] == 0
    assert (await api.get("/call_back/get_call_back"))["errcode"] == 71007
    assert (await register(api, receiver, "/call_back/update_call_back"))["errcode"] == 71007


async def test_failed_handshakes(sim: SimulatorHandle, api: Api, receiver: Receiver) -> None:
    receiver.mode = "plain"
    assert (await register(api, receiver))["errcode"] == 71009
    receiver.mode = "wrong_key"
    assert (await register(api, receiver))["errcode"] == 71009
    receiver.mode = "http500"
    failed = await register(api, receiver)
    assert failed["errcode"] == 71012 and "500" in failed["errmsg"]
    receiver.mode = "ok"
    unreachable = await api.post(
        "/call_back/register_call_back",
        {"call_back_tag": TAGS, "token": receiver.token, "aes_key": receiver.aes_key, "url": "http://127.0.0.1:9/cb"},
    )
    assert unreachable["errcode"] == 71012
    bad = {"call_back_tag": TAGS, "token": receiver.token, "url": receiver.url}
    assert (await api.post("/call_back/register_call_back", {**bad, "aes_key": "short"}))["errcode"] == 71010
    wrong_tag = {**bad, "aes_key": receiver.aes_key, "call_back_tag": ["no_such_event"]}
    assert (await api.post("/call_back/register_call_back", wrong_tag))["errcode"] == 71008
    assert (await api.get("/call_back/get_call_back"))["errcode"] == 71007  # nothing was stored


async def test_contact_changes_deliver_events(sim: SimulatorHandle, api: Api, receiver: Receiver) -> None:
    assert (await register(api, receiver))["errcode"] == 0
    created = await api.post("/topapi/v2/user/create", {"name": "赵六", "mobile": "13811112222", "dept_id_list": "1"})
    userid = created["result"]["userid"]
    dept = await api.control("POST", f"/corps/{CORPID}/departments", {"name": "新部门"})
    await api.post("/topapi/v2/user/update", {"userid": userid, "title": "经理"})
    await api.post("/topapi/v2/user/delete", {"userid": userid})
    await api.control("DELETE", f"/corps/{CORPID}/departments/{dept['dept_id']}")
    assert await sim.wait_deliveries(5) == 0
    events = receiver.events[1:]
    by_type = {e["EventType"]: e for e in events}
    assert set(by_type) == {"user_add_org", "org_dept_create", "user_modify_org", "user_leave_org", "org_dept_remove"}
    assert by_type["user_add_org"]["UserId"] == [userid] and by_type["user_add_org"]["CorpId"] == CORPID
    assert by_type["org_dept_create"]["DeptId"] == [dept["dept_id"]]
    assert isinstance(by_type["user_leave_org"]["TimeStamp"], str) and by_type["user_leave_org"]["TimeStamp"].isdigit()
    # The control API acts as the main admin in the console.
    assert by_type["org_dept_create"]["OptStaffId"]
    log = await api.control("GET", f"/corps/{CORPID}/callbacks/log")
    assert len(log) == 5 and all(entry["ok"] for entry in log)


async def test_unsubscribed_tags_are_not_pushed(sim: SimulatorHandle, api: Api, receiver: Receiver) -> None:
    body = {"call_back_tag": ["org_dept_create"], "token": receiver.token, "aes_key": receiver.aes_key}
    assert (await api.post("/call_back/register_call_back", {**body, "url": receiver.url}))["errcode"] == 0
    await api.post("/topapi/v2/user/create", {"name": "甲", "mobile": "13811113333", "dept_id_list": "1"})
    await sim.wait_deliveries(5)
    assert [e["EventType"] for e in receiver.events] == ["check_url"]


async def test_dropped_delivery_is_retried_then_parked(sim: SimulatorHandle, api: Api, receiver: Receiver) -> None:
    assert (await register(api, receiver))["errcode"] == 0
    # Drop the first attempt only: the +10 s retry (scaled) succeeds.
    await api.control("POST", f"/corps/{CORPID}/callbacks/drop", {"count": 1})
    await api.control("POST", f"/corps/{CORPID}/departments", {"name": "重试部"})
    assert await sim.wait_deliveries(5) == 0
    attempts = [(e["attempt"], e["ok"]) for e in await api.control("GET", f"/corps/{CORPID}/callbacks/log")]
    assert attempts == [(0, False), (1, True)]
    assert [e["EventType"] for e in receiver.events] == ["check_url", "org_dept_create"]

    # Drop all three attempts (first try, +10 s, +30 s): the event lands in the failed list.
    await api.control("POST", f"/corps/{CORPID}/callbacks/drop", {"count": 3})
    user = await api.control("POST", f"/corps/{CORPID}/users", {"name": "丢失", "mobile": "13822223333"})
    assert await sim.wait_deliveries(5) == 0
    assert [e["EventType"] for e in receiver.events] == ["check_url", "org_dept_create"]
    failed = await api.get("/call_back/get_call_back_failed_result")
    assert failed["errcode"] == 0 and failed["has_more"] is False
    assert len(failed["failed_list"]) == 1
    item = failed["failed_list"][0]
    assert item["call_back_tag"] == "user_add_org" and isinstance(item["event_time"], int)
    assert item["user_add_org"] == {"userid": [user["userid"]], "corpid": CORPID}
    # Reading consumes.
    assert (await api.get("/call_back/get_call_back_failed_result"))["failed_list"] == []


async def test_failing_receiver_and_failed_list_paging(sim: SimulatorHandle, api: Api, receiver: Receiver) -> None:
    assert (await register(api, receiver))["errcode"] == 0
    receiver.mode = "http500"
    for index in range(205):
        await api.control("POST", f"/corps/{CORPID}/departments", {"name": f"部门{index}"})
    assert await sim.wait_deliveries(10) == 0
    assert len(receiver.requests) == 1 + 205 * 3  # handshake + first try and two retries each
    first = await api.get("/call_back/get_call_back_failed_result")
    assert first["has_more"] is True and len(first["failed_list"]) == 200
    assert set(first["failed_list"][0]["org_dept_create"]) == {"deptid", "corpid"}
    second = await api.get("/call_back/get_call_back_failed_result")
    assert second["has_more"] is False and len(second["failed_list"]) == 5


async def test_console_style_push(sim: SimulatorHandle, api: Api, receiver: Receiver) -> None:
    await api.control("PUT", f"/corps/{CORPID}/callbacks/style", {"style": "console"})
    receiver.key_id = APPKEY  # console push encrypts with the app key
    assert (await register(api, receiver))["errcode"] == 0
    assert "msg_signature" in receiver.requests[0] and "signature" not in receiver.requests[0]
    await api.control("POST", f"/corps/{CORPID}/users", {"name": "钱七", "mobile": "13833334444"})
    await sim.wait_deliveries(5)
    event = receiver.events[-1]
    assert event["EventType"] == "user_add_org" and event["userId"] and event["eventId"] and event["timeStamp"]


async def test_slow_receiver_times_out(sim: SimulatorHandle, api: Api, receiver: Receiver) -> None:
    receiver.mode = "slow"
    await api.control("POST", "/config", {"callback_timeout": 0.2})
    body = await register(api, receiver)
    assert body["errcode"] == 71012 and "超时" in body["errmsg"]
