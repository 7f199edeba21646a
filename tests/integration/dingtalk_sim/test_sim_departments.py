"""Department tree rules and error codes, v2 and legacy shapes."""

from __future__ import annotations

from sim_helpers import CORPID, Api

from app.dingtalk.simulator import SimulatorHandle


async def create(api: Api, name: str, parent_id: int = 1, **extra: object) -> int:
    body = await api.post("/topapi/v2/department/create", {"name": name, "parent_id": parent_id, **extra})
    assert body["errcode"] == 0, body
    return body["result"]["dept_id"]


async def test_empty_corp_has_root_and_admin(sim: SimulatorHandle, api: Api) -> None:
    root = await api.post("/topapi/v2/department/get", {"dept_id": 1})
    assert root["errcode"] == 0 and root["result"]["dept_id"] == 1 and "parent_id" not in root["result"]
    assert (await api.post("/topapi/v2/department/listsub", {"dept_id": 1}))["result"] == []
    admins = (await api.post("/topapi/user/listadmin"))["result"]
    assert len(admins) == 1 and admins[0]["sys_level"] == 1
    admin = (await api.post("/topapi/v2/user/get", {"userid": admins[0]["userid"]}))["result"]
    assert admin["name"] and admin["mobile"] and admin["admin"] is True and admin["dept_id_list"] == [1]
    legacy = await api.get("/user/get_admin")
    assert legacy["admin_list"] == admins


async def test_create_list_get(sim: SimulatorHandle, api: Api) -> None:
    rd = await create(api, "研发中心", order=10, source_identifier="ekp-rd", create_dept_group=True)
    platform = await create(api, "平台部", rd)
    await create(api, "市场部", 1, order=5)
    subs = (await api.post("/topapi/v2/department/listsub", {"dept_id": 1}))["result"]
    assert [d["name"] for d in subs] == ["市场部", "研发中心"]  # smaller order first
    assert set(subs[0]) == {"dept_id", "name", "parent_id", "create_dept_group", "auto_add_user"}
    # Direct children only.
    ids = (await api.post("/topapi/v2/department/listsubid", {"dept_id": 1}))["result"]["dept_id_list"]
    assert platform not in ids and rd in ids
    got = (await api.post("/topapi/v2/department/get", {"dept_id": rd}))["result"]
    assert got["source_identifier"] == "ekp-rd" and got["order"] == 10 and got["parent_id"] == 1
    assert got["create_dept_group"] is True and got["dept_group_chat_id"].startswith("chat")
    assert "dept_permits" not in got  # omitted while hide_dept is off
    chain = (await api.post("/topapi/v2/department/listparentbydept", {"dept_id": platform}))["result"]
    assert chain["parent_id_list"] == [platform, rd, 1]
    assert (await api.post("/topapi/v2/department/get", {"dept_id": 999}))["errcode"] == 60003
    assert (await api.post("/topapi/v2/department/listsub", {"dept_id": 999}))["errcode"] == 60003


async def test_name_and_parent_rules(sim: SimulatorHandle, api: Api) -> None:
    await create(api, "财务部")
    dup = await api.post("/topapi/v2/department/create", {"name": "财务部", "parent_id": 1})
    assert dup["errcode"] == 60008
    assert (await api.post("/topapi/v2/department/create", {"name": "A-B", "parent_id": 1}))["errcode"] == 60009
    assert (await api.post("/topapi/v2/department/create", {"name": "x" * 65, "parent_id": 1}))["errcode"] == 60001
    assert (await api.post("/topapi/v2/department/create", {"name": "孤儿", "parent_id": 12345}))["errcode"] == 60004
    assert (await api.post("/topapi/v2/department/create", {"parent_id": 1}))["errcode"] == 40035
    # The same name under another parent is fine.
    other = await create(api, "分公司")
    await create(api, "财务部", other)


async def test_update_rules(sim: SimulatorHandle, api: Api) -> None:
    a = await create(api, "甲")
    b = await create(api, "乙", a)
    c = await create(api, "丙")
    assert (await api.post("/topapi/v2/department/update", {"dept_id": a, "parent_id": b}))["errcode"] == 60010
    assert (await api.post("/topapi/v2/department/update", {"dept_id": a, "parent_id": a}))["errcode"] == 60010
    assert (await api.post("/topapi/v2/department/update", {"dept_id": c, "name": "甲"}))["errcode"] == 60008
    assert (await api.post("/topapi/v2/department/update", {"dept_id": 1, "name": "新名字"}))["errcode"] == 60018
    assert (await api.post("/topapi/v2/department/update", {"dept_id": 777, "name": "x"}))["errcode"] == 60003
    ok = await api.post("/topapi/v2/department/update", {"dept_id": b, "parent_id": c, "order": 3})
    assert ok["errcode"] == 0
    got = (await api.post("/topapi/v2/department/get", {"dept_id": b}))["result"]
    assert got["parent_id"] == c and got["order"] == 3 and got["name"] == "乙"  # omitted fields unchanged


async def test_visibility_fields_write_csv_read_arrays(sim: SimulatorHandle, api: Api) -> None:
    a = await create(api, "可见部门")
    admin = (await api.post("/topapi/user/listadmin"))["result"][0]["userid"]
    hidden = await create(
        api, "隐藏部门", hide_dept=True, dept_permits=f"{a},1", user_permits=admin, outer_dept=True,
        outer_permit_depts=str(a), outer_permit_users=admin, outer_dept_only_self=True,
    )  # fmt: skip
    got = (await api.post("/topapi/v2/department/get", {"dept_id": hidden}))["result"]
    assert got["hide_dept"] is True and got["dept_permits"] == [a, 1] and got["user_permits"] == [admin]
    assert got["outer_dept"] is True and got["outer_permit_depts"] == [a] and got["outer_permit_users"] == [admin]
    bad = await api.post("/topapi/v2/department/create", {"name": "坏", "parent_id": 1, "dept_permits": "424242"})
    assert bad["errcode"] == 600109
    # Managers must be members of the department.
    res = await api.post("/topapi/v2/department/update", {"dept_id": a, "dept_manager_userid_list": admin})
    assert res["errcode"] == 40031
    legacy = await api.get("/department/get", {"id": hidden})
    assert legacy["deptHiding"] is True and legacy["deptPermits"] == f"{a}|1" and legacy["userPermits"] == admin


async def test_delete_rules(sim: SimulatorHandle, api: Api) -> None:
    parent = await create(api, "上级")
    child = await create(api, "下级", parent)
    assert (await api.post("/topapi/v2/department/delete", {"dept_id": 1}))["errcode"] == 60007
    assert (await api.post("/topapi/v2/department/delete", {"dept_id": parent}))["errcode"] == 60006
    user = await api.post(
        "/topapi/v2/user/create", {"name": "成员", "mobile": "13911112222", "dept_id_list": str(child)}
    )
    assert user["errcode"] == 0
    assert (await api.post("/topapi/v2/department/delete", {"dept_id": child}))["errcode"] == 60005
    await api.post("/topapi/v2/user/delete", {"userid": user["result"]["userid"]})
    assert (await api.post("/topapi/v2/department/delete", {"dept_id": child}))["errcode"] == 0
    assert (await api.post("/topapi/v2/department/delete", {"dept_id": parent}))["errcode"] == 0
    assert (await api.post("/topapi/v2/department/delete", {"dept_id": parent}))["errcode"] == 60003


async def test_legacy_department_endpoints(sim: SimulatorHandle, api: Api) -> None:
    created = await api.post(
        "/department/create", {"name": "旧接口部", "parentid": "1", "order": "7", "sourceIdentifier": "src-1"}
    )
    assert created["errcode"] == 0 and isinstance(created["id"], int)
    dept_id = created["id"]
    sub = await api.post("/department/create", {"name": "子部", "parentid": str(dept_id)})
    listed = await api.get("/department/list", {"id": 1, "fetch_child": "false"})
    assert [d["id"] for d in listed["department"]] == [dept_id]
    assert listed["department"][0]["parentid"] == 1 and listed["department"][0]["sourceIdentifier"] == "src-1"
    recursive = await api.get("/department/list", {"id": 1, "fetch_child": "true"})
    assert {d["id"] for d in recursive["department"]} == {dept_id, sub["id"]}
    assert (await api.get("/department/list_ids", {"id": 1}))["sub_dept_id_list"] == [dept_id]
    got = await api.get("/department/get", {"id": dept_id})
    assert got["name"] == "旧接口部" and got["order"] == 7 and got["parentid"] == 1 and got["errcode"] == 0
    updated = await api.post("/department/update", {"id": dept_id, "name": "改名部", "deptHiding": True})
    assert updated["errcode"] == 0 and updated["id"] == dept_id
    # The same object is visible through v2.
    v2 = (await api.post("/topapi/v2/department/get", {"dept_id": dept_id}))["result"]
    assert v2["name"] == "改名部" and v2["hide_dept"] is True
    assert (await api.get("/department/delete", {"id": dept_id}))["errcode"] == 60006
    assert (await api.get("/department/delete", {"id": sub["id"]}))["errcode"] == 0
    # Legacy write endpoints need POST.
    assert (await api.get("/department/create", {"name": "x", "parentid": 1}))["errcode"] == 43002


async def test_demo_company(api: Api) -> None:
    from app.dingtalk.simulator import start_simulator

    handle = await start_simulator(corps=[f"{CORPID}:k:s"], demo=True, seed=7)
    again = await start_simulator(corps=[f"{CORPID}:k:s"], demo=True, seed=7)
    try:
        corp = handle.corp()
        assert len(corp.users) >= 250 and len(corp.departments) >= 20
        mobiles = [u.mobile for u in corp.users.values()]
        assert len(set(mobiles)) == len(mobiles)
        assert all(len(m) == 11 and m[0] == "1" and m[1] in "3456789" for m in mobiles)
        assert all(u.title and u.name for u in corp.users.values())
        depth = {1: 0}
        for dept in sorted(corp.departments.values(), key=lambda d: d.seq):
            if dept.dept_id != 1:
                depth[dept.dept_id] = depth[dept.parent_id] + 1
        assert max(depth.values()) >= 3
        # Deterministic for a seed.
        assert sorted(mobiles) == sorted(u.mobile for u in again.corp().users.values())
        assert [u.name for u in corp.users.values()] == [u.name for u in again.corp().users.values()]
    finally:
        await handle.close()
        await again.close()
