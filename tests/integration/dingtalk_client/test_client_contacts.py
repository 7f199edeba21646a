"""Department and user wrappers against the simulator."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from dingtalk_client_helpers import SimFactory, make_client

from app.dingtalk.client import App, DingTalkClient
from app.dingtalk.errors import DingTalkAPIError


async def test_department_lifecycle_and_tree_walk(client: DingTalkClient, app: App) -> None:
    head = await client.contacts.create_department(app, "研发中心", 1, order=10, source_identifier="ekp-rd")
    platform = await client.contacts.create_department(
        app, "平台研发部", head, hide_dept=True, dept_permits=[head], user_permits=[]
    )
    backend = await client.contacts.create_department(app, "后端组", platform)
    sales = await client.contacts.create_department(app, "销售部", 1, order=20)

    top = await client.contacts.list_sub_departments(app, 1)
    assert {d.dept_id: d.name for d in top} == {head: "研发中心", sales: "销售部"}
    assert all(d.parent_id == 1 for d in top)
    assert await client.contacts.list_sub_department_ids(app, head) == [platform]

    detail = await client.contacts.get_department(app, platform)
    assert (detail.dept_id, detail.name, detail.parent_id, detail.hide_dept) == (platform, "平台研发部", head, True)
    assert detail.dept_permits == [head]
    assert (await client.contacts.get_department(app, head)).source_identifier == "ekp-rd"

    await client.contacts.update_department(app, backend, name="服务端组", order=5)
    assert (await client.contacts.get_department(app, backend)).name == "服务端组"

    walked = await client.contacts.list_all_departments(app)
    assert [d.dept_id for d in walked] == [head, sales, platform, backend]  # breadth-first, parents first
    with_root = [d async for d in client.contacts.iter_department_tree(app, include_root=True)]
    assert with_root[0].dept_id == 1 and len(with_root) == 5

    for dept_id in (backend, platform, head, sales):
        await client.contacts.delete_department(app, dept_id)
    with pytest.raises(DingTalkAPIError) as info:
        await client.contacts.get_department(app, head)
    assert info.value.errcode == 60003
    assert "部门不存在" in info.value.meaning and info.value.advice


async def test_user_lifecycle(client: DingTalkClient, app: App) -> None:
    dept = await client.contacts.create_department(app, "财务部", 1)
    created = await client.contacts.create_user(
        app,
        userid="zhangsan01",
        name="张三",
        mobile="13800000001",
        dept_id_list=[dept],
        title="会计",
        email="zhangsan@example.com",
        job_number="A001",
        hide_mobile=False,
    )
    assert created.userid == "zhangsan01" and created.unionid

    user = await client.contacts.get_user(app, "zhangsan01")
    assert (user.name, user.title, user.email, user.job_number) == ("张三", "会计", "zhangsan@example.com", "A001")
    assert user.dept_id_list == [dept] and user.unionid == created.unionid

    assert await client.contacts.get_userid_by_mobile(app, "13800000001") == "zhangsan01"
    by_union = await client.contacts.get_user_by_unionid(app, created.unionid or "")
    assert by_union.userid == "zhangsan01" and by_union.contact_type == 0
    assert await client.contacts.list_dept_user_ids(app, dept) == ["zhangsan01"]
    [listed] = await client.contacts.list_dept_users(app, dept)
    assert listed.userid == "zhangsan01" and listed.name == "张三"

    await client.contacts.update_user(app, "zhangsan01", title="财务经理", dept_id_list=[dept, 1])
    updated = await client.contacts.get_user(app, "zhangsan01")
    assert updated.title == "财务经理" and sorted(updated.dept_id_list) == sorted([dept, 1])

    await client.contacts.delete_user(app, "zhangsan01")
    with pytest.raises(DingTalkAPIError) as info:
        await client.contacts.get_user(app, "zhangsan01")
    assert info.value.errcode == 60121 and "找不到该用户" in info.value.meaning


async def test_list_admins(client: DingTalkClient, app: App) -> None:
    admins = await client.contacts.list_admins(app)
    assert admins and admins[0].sys_level == 1
    assert (await client.contacts.get_user(app, admins[0].userid)).userid == admins[0].userid


async def test_errors_surface_with_errcode_meaning_and_advice(client: DingTalkClient, app: App) -> None:
    await client.contacts.create_user(app, userid="u-a", name="甲", mobile="13900000001", dept_id_list=[1])
    with pytest.raises(DingTalkAPIError) as dup:
        await client.contacts.create_user(app, userid="u-b", name="乙", mobile="13900000001", dept_id_list=[1])
    assert dup.value.errcode == 60104
    assert "手机号码在公司中已存在" in dup.value.meaning and dup.value.advice
    with pytest.raises(DingTalkAPIError) as missing_parent:
        await client.contacts.create_department(app, "孤儿部门", 999999)
    assert missing_parent.value.errcode in (60004, 60003)
    with pytest.raises(DingTalkAPIError) as root:
        await client.contacts.delete_department(app, 1)
    assert root.value.errcode == 60007
    with pytest.raises(DingTalkAPIError) as bad_name:
        await client.contacts.create_department(app, "研发-中心", 1)
    assert bad_name.value.errcode in (60001, 60009)
    assert client.transport.stats["retries"] == 0  # none of these is transient


async def test_wrong_secret_is_40089(session: aiohttp.ClientSession, sim: Any, app: App) -> None:
    client = make_client(session, sim)
    wrong = App(app.corpid, app.appkey, "not-the-secret", app.agent_id)
    with pytest.raises(DingTalkAPIError) as info:
        await client.contacts.list_sub_departments(wrong)
    assert info.value.errcode == 40089 and info.value.advice


@pytest.mark.parametrize("members", [101, 250])
async def test_paging_returns_every_member(
    start_sim: SimFactory, session: aiohttp.ClientSession, app: App, members: int
) -> None:
    # A higher QPS only so that creating the members is quick; paging is what is under test.
    handle = await start_sim(qps=400)
    client = make_client(session, handle, qps=400)
    dept = await client.contacts.create_department(app, f"大部门{members}", 1)
    await asyncio.gather(
        *(
            client.contacts.create_user(
                app,
                userid=f"m{members}-{i:03d}",
                name=f"成员{i}",
                mobile=f"137{members:03d}{i:05d}",
                dept_id_list=[dept],
            )
            for i in range(members)
        )
    )
    users = await client.contacts.list_dept_users(app, dept)
    expected = {f"m{members}-{i:03d}" for i in range(members)}
    assert len(users) == members and {u.userid for u in users} == expected
    small_pages = await client.contacts.list_dept_users(app, dept, page_size=7)
    assert {u.userid for u in small_pages} == expected and len(small_pages) == members
    assert set(await client.contacts.list_dept_user_ids(app, dept)) == expected
