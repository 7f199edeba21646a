"""User rules, error codes and paging (departments of 101 and 250 people)."""

from __future__ import annotations

import pytest
from sim_helpers import CORPID, Api

from app.dingtalk.simulator import SimulatorHandle


async def make_dept(api: Api, name: str) -> int:
    body = await api.post("/topapi/v2/department/create", {"name": name, "parent_id": 1})
    return body["result"]["dept_id"]


async def test_create_get_update_delete(sim: SimulatorHandle, api: Api) -> None:
    dept = await make_dept(api, "销售部")
    created = await api.post(
        "/topapi/v2/user/create",
        {
            "userid": "zhangsan",
            "name": "张三",
            "mobile": "13800001111",
            "dept_id_list": f"{dept},1",
            "title": "销售经理",
            "job_number": "E001",
            "email": "zs@example.com",
            "dept_order_list": [{"dept_id": dept, "order": 5}],
            "extension": {"爱好": "旅游"},
        },
    )
    assert created["errcode"] == 0 and created["result"]["userid"] == "zhangsan"
    unionid = created["result"]["unionId"]
    user = (await api.post("/topapi/v2/user/get", {"userid": "zhangsan"}))["result"]
    assert user["unionid"] == unionid and user["mobile"] == "13800001111" and user["dept_id_list"] == [dept, 1]
    assert user["title"] == "销售经理" and user["job_number"] == "E001" and user["state_code"] == "86"
    assert {"dept_id": dept, "order": 5} in user["dept_order_list"] and "manager_userid" not in user
    assert '"爱好"' in user["extension"]
    assert (await api.post("/topapi/v2/user/update", {"userid": "zhangsan", "title": "总监"}))["errcode"] == 0
    assert (await api.post("/topapi/v2/user/get", {"userid": "zhangsan"}))["result"]["title"] == "总监"
    # Mobile cannot be changed through the API.
    changed = await api.post("/topapi/v2/user/update", {"userid": "zhangsan", "mobile": "13800002222"})
    assert changed["errcode"] == 40022
    assert (await api.post("/topapi/v2/user/getbymobile", {"mobile": "13800001111"}))["result"]["userid"] == "zhangsan"
    by_union = await api.post("/topapi/user/getbyunionid", {"unionid": unionid})
    assert by_union["result"] == {"contact_type": 0, "userid": "zhangsan"}
    assert (await api.post("/topapi/v2/user/delete", {"userid": "zhangsan"}))["errcode"] == 0
    assert (await api.post("/topapi/v2/user/get", {"userid": "zhangsan"}))["errcode"] == 60121
    assert (await api.post("/topapi/v2/user/delete", {"userid": "zhangsan"}))["errcode"] == 60121
    assert (await api.post("/topapi/v2/user/getbymobile", {"mobile": "13800001111"}))["errcode"] == 60121


async def test_uniqueness_and_validation(sim: SimulatorHandle, api: Api) -> None:
    first = await api.post("/topapi/v2/user/create", {"name": "甲", "mobile": "13900000001", "dept_id_list": "1"})
    assert first["errcode"] == 0 and first["result"]["userid"]  # generated when not given
    cases = [
        ({"userid": first["result"]["userid"], "mobile": "13900000002"}, 60102),
        ({"mobile": "13900000001"}, 60104),
        ({"mobile": "12345"}, 60103),
        ({"mobile": "13900000003", "dept_id_list": "424242"}, 60003),
        ({"mobile": "13900000004", "dept_id_list": ",".join(str(i) for i in range(2, 103))}, 60110),
        ({"mobile": "13900000005", "email": "not-an-email"}, 60105),
    ]
    for extra, errcode in cases:
        body = await api.post("/topapi/v2/user/create", {"name": "乙", "dept_id_list": "1", **extra})
        assert body["errcode"] == errcode, (extra, body)
    assert (await api.post("/topapi/v2/user/create", {"name": "丙", "dept_id_list": "1"}))["errcode"] == 60113
    # International numbers use +xx-xxxx.
    intl = await api.post("/topapi/v2/user/create", {"name": "Tom", "mobile": "+1-4155550100", "dept_id_list": "1"})
    assert intl["errcode"] == 0


async def test_injected_create_faults_create_nothing(sim: SimulatorHandle, api: Api) -> None:
    await api.control("POST", "/faults/mobile", {"mobile": "13700000001", "errcode": 40103})
    await api.control("POST", "/faults/mobile", {"corpid": CORPID, "mobile": "13700000002", "errcode": 40019})
    protected = await api.post("/topapi/v2/user/create", {"name": "甲", "mobile": "13700000001", "dept_id_list": "1"})
    assert protected["errcode"] == 40103 and "邀请" in protected["errmsg"]
    capped = await api.post("/topapi/v2/user/create", {"name": "乙", "mobile": "13700000002", "dept_id_list": "1"})
    assert capped["errcode"] == 40019
    assert (await api.post("/topapi/v2/user/getbymobile", {"mobile": "13700000001"}))["errcode"] == 60121
    assert len(sim.corp(CORPID).users) == 1


async def page_through(api: Api, dept_id: int, size: int) -> list[str]:
    seen: list[str] = []
    cursor = 0
    calls = 0
    while True:
        body = await api.post("/topapi/v2/user/list", {"dept_id": dept_id, "cursor": cursor, "size": size})
        assert body["errcode"] == 0, body
        result = body["result"]
        calls += 1
        seen.extend(item["userid"] for item in result["list"])
        if not result["has_more"]:
            assert "next_cursor" not in result
            break
        cursor = result["next_cursor"]
    assert calls == -(-len(seen) // size) or len(seen) == 0
    return seen


@pytest.mark.parametrize("count", [101, 250])
async def test_cursor_paging(sim: SimulatorHandle, api: Api, count: int) -> None:
    dept = await make_dept(api, f"大部门{count}")
    added = await api.control(
        "POST", f"/corps/{CORPID}/users", {"count": count, "dept_id_list": [dept], "mobile": "15000000000"}
    )
    assert len(added["userids"]) == count
    seen = await page_through(api, dept, 100)
    assert seen == added["userids"]  # entry order, no duplicates, nothing lost at page boundaries
    first = (await api.post("/topapi/v2/user/list", {"dept_id": dept, "cursor": 0, "size": 100}))["result"]
    assert first["has_more"] is True and first["next_cursor"] == 100 and len(first["list"]) == 100
    item = first["list"][0]
    assert item["dept_order"] is not None and item["leader"] is False and "dept_order_list" not in item
    ids = (await api.post("/topapi/user/listid", {"dept_id": dept}))["result"]["userid_list"]
    assert ids == added["userids"]
    # Direct members only: the root does not list them.
    root_ids = (await api.post("/topapi/user/listid", {"dept_id": 1}))["result"]["userid_list"]
    assert not set(root_ids) & set(ids)
    # Legacy offset paging agrees.
    legacy: list[str] = []
    offset = 0
    while True:
        page = await api.get("/user/simplelist", {"department_id": dept, "offset": offset, "size": 100})
        legacy.extend(u["userid"] for u in page["userlist"])
        if not page["hasMore"]:
            break
        offset += 100
    assert legacy == added["userids"]


async def test_paging_limits(sim: SimulatorHandle, api: Api) -> None:
    assert (await api.post("/topapi/v2/user/list", {"dept_id": 1, "cursor": 0, "size": 101}))["errcode"] == 40035
    assert (await api.post("/topapi/v2/user/list", {"dept_id": 1, "cursor": 0}))["errcode"] == 40035
    bad_order = {"dept_id": 1, "cursor": 0, "size": 10, "order_field": "by_name"}
    assert (await api.post("/topapi/v2/user/list", bad_order))["errcode"] == 40035
    assert (await api.post("/topapi/v2/user/list", {"dept_id": 99, "cursor": 0, "size": 10}))["errcode"] == 60003
    assert (await api.get("/user/listbypage", {"department_id": 1, "offset": 0, "size": 101}))["errcode"] == 40035


async def test_legacy_user_endpoints(sim: SimulatorHandle, api: Api) -> None:
    dept = await make_dept(api, "旧部门")
    created = await api.post(
        "/user/create",
        {
            "userid": "lisi",
            "name": "李四",
            "mobile": "13600001234",
            "department": [dept],
            "position": "工程师",
            "jobnumber": "J9",
            "isHide": "true",
        },
    )
    assert created["errcode"] == 0 and created["userid"] == "lisi" and created["unionId"]
    got = await api.get("/user/get", {"userid": "lisi"})
    assert got["position"] == "工程师" and got["jobnumber"] == "J9" and got["department"] == [dept]
    assert got["isHide"] is True and got["errcode"] == 0 and got["isLeaderInDepts"] == f"{{{dept}:false}}"
    assert (await api.post("/user/update", {"userid": "lisi", "position": "架构师"}))["errcode"] == 0
    page = await api.get("/user/listbypage", {"department_id": dept, "offset": 0, "size": 10})
    assert page["hasMore"] is False and page["userlist"][0]["position"] == "架构师"
    assert (await api.get("/user/getDeptMember", {"deptId": dept}))["userIds"] == ["lisi"]
    assert (await api.get("/user/get_by_mobile", {"mobile": "13600001234"}))["userid"] == "lisi"
    assert (await api.get("/user/delete", {"userid": "lisi"}))["errcode"] == 0
    assert (await api.get("/user/get", {"userid": "lisi"}))["errcode"] == 60121


async def test_control_changes_and_admins(sim: SimulatorHandle, api: Api) -> None:
    user = await api.control("POST", f"/corps/{CORPID}/users", {"name": "王五", "mobile": "13512345678"})
    # An admin in the console may change the mobile, unlike the API.
    changed = await api.control("PATCH", f"/corps/{CORPID}/users/{user['userid']}", {"mobile": "13512345679"})
    assert changed["mobile"] == "13512345679"
    await api.control("POST", f"/corps/{CORPID}/users/{user['userid']}/admin", {"sys_level": 2})
    admins = (await api.post("/topapi/user/listadmin"))["result"]
    assert {"sys_level": 2, "userid": user["userid"]} in admins
    async with api.http.post(f"{sim.base_url}/_sim/corps/{CORPID}/users", json={"name": "x", "mobile": "1"}) as r:
        assert r.status == 400 and (await r.json())["errcode"] == 60103
