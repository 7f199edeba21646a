"""The EKP source stage on its own (no push): linking people LanDing already holds, clashes, the detailed log.

The stage reads and writes plain rows rather than ORM objects; these are the paths the bigger sync tests do not
reach: a person known only from DingTalk being linked by mobile (DingTalk id kept), and a login-name clash that
rolls back a page's batch and falls back to one-by-one writes.
"""

from __future__ import annotations

from app import runtime
from app.core import pinyin
from app.models.contacts import Department, Person
from app.models.sync import RunKind, RunTrigger, SyncEntry, SyncRun, SyncSettings
from app.sync import source
from app.sync.context import RunContext
from tests.integration import sync_env
from tests.integration.sync_env import SyncEnv

env = sync_env.env


async def run_source(env: SyncEnv, *, full: bool = False) -> RunContext:
    settings = await SyncSettings.get(org_id=env.org.id)
    kind = RunKind.FULL if full else RunKind.INCREMENTAL
    run = await SyncRun.create(org=env.org, trigger=RunTrigger.MANUAL, kind=kind)
    ctx = RunContext(
        org=env.org, run=run, settings=settings, rt=runtime.get(), client=runtime.get().dingtalk, full=full
    )
    await source.run(ctx)
    return ctx


def ekp_dept_id(env: SyncEnv) -> str:
    return next(e.id for e in env.ekp.state.elements.values() if e.type.value == "dept" and e.is_available)


async def test_full_import_logs_every_object_with_its_local_id(env: SyncEnv) -> None:
    ctx = await run_source(env, full=True)
    depts = await Department.filter(org_id=env.org.id, source_id__not_isnull=True, parent_id__not_isnull=True)
    people = await Person.filter(org_id=env.org.id)
    assert people and depts
    entries = await SyncEntry.filter(run_id=ctx.run.id, action="add", ok=True)
    logged = {(e.object_type, e.local_id, e.source_id) for e in entries}
    assert logged == {("dept", d.id, d.source_id) for d in depts} | {("person", p.id, p.source_id) for p in people}
    for dept in depts:
        parent = await Department.get(id=dept.parent_id)
        assert dept.path == f"{parent.path}{dept.id}/" and dept.depth == parent.depth + 1
    assert all(p.needs_push and p.is_active for p in people)
    assert ctx.counters["source"]["person"]["added"] == len(people)


async def test_person_known_from_dingtalk_is_linked_by_mobile_and_keeps_its_dingtalk_id(env: SyncEnv) -> None:
    await run_source(env, full=True)
    root = await Department.get(org_id=env.org.id, parent_id=None)
    local = await Person.create(
        org_id=env.org.id, name="钉钉导入的人", main_dept=root, mobile="13900000001", ding_userid="ding-keep"
    )
    dept = ekp_dept_id(env)
    body = {"type": "person", "name": "王小明", "loginName": "wangxm", "mobileNo": "13900000001", "parent": dept}
    added = await env.ekp_sim("POST", "/elements", body)

    ctx = await run_source(env)
    person = await Person.get(id=local.id)
    assert (person.source_id, person.name, person.login_name) == (added["id"], "王小明", "wangxm")
    assert person.ding_userid == "ding-keep" and person.needs_push
    assert person.main_dept_id == (await Department.get(org_id=env.org.id, source_id=dept)).id
    assert await Person.filter(org_id=env.org.id, mobile="13900000001").count() == 1
    entry = await SyncEntry.get(run_id=ctx.run.id, object_type="person", source_id=added["id"])
    assert (entry.action, entry.ok, entry.local_id, entry.ding_id) == ("update", True, local.id, "ding-keep")


async def test_login_name_clash_is_reported_and_the_rest_of_the_page_still_arrives(env: SyncEnv) -> None:
    await run_source(env, full=True)
    root = await Department.get(org_id=env.org.id, parent_id=None)
    await Person.create(org_id=env.org.id, name="别处的人", main_dept=root, login_name="clash", source_id="elsewhere")
    dept = ekp_dept_id(env)
    clash = await env.ekp_sim(
        "POST", "/elements", {"type": "person", "name": "重名", "loginName": "clash", "parent": dept}
    )
    fine = await env.ekp_sim(
        "POST", "/elements", {"type": "person", "name": "正常", "loginName": "fine", "parent": dept}
    )

    ctx = await run_source(env)
    assert not await Person.filter(org_id=env.org.id, source_id=clash["id"]).exists()
    arrived = await Person.get(org_id=env.org.id, source_id=fine["id"])
    failed = await SyncEntry.get(run_id=ctx.run.id, source_id=clash["id"])
    assert (failed.action, failed.ok) == ("add", False) and "重复" in failed.message
    ok = await SyncEntry.get(run_id=ctx.run.id, source_id=fine["id"])
    assert (ok.action, ok.ok, ok.local_id) == ("add", True, arrived.id)
    assert ctx.counters["source"]["person"]["ignored"] == 1


async def _keys_match(env: SyncEnv) -> int:
    """Every person and department of the org carries the pinyin key of its current name; returns how many."""
    rows = [
        *await Person.filter(org_id=env.org.id).values_list("name", "name_sort"),
        *await Department.filter(org_id=env.org.id).values_list("name", "name_sort"),
    ]
    assert [key for _, key in rows] == [pinyin.sort_key(name) for name, _ in rows]
    return len(rows)


async def test_every_write_path_keeps_the_pinyin_key_of_the_name(env: SyncEnv) -> None:
    """Lists order by ``name_sort`` in the database: the sync's plain-SQL inserts and updates, the DingTalk pull's
    bulk writes and the ORM's own writes must all keep it right."""
    assert await _keys_match(env)  # the org's tree as pulled from DingTalk when it was bound
    await run_source(env, full=True)
    assert await _keys_match(env) > 10
    person = next(e for e in env.ekp.state.elements.values() if e.type.value == "person" and e.is_available)
    await env.ekp_sim("PATCH", f"/elements/{person.id}", {"name": "曾小贤"})
    await env.ekp_sim("PATCH", f"/elements/{ekp_dept_id(env)}", {"name": "北京办事处"})
    await run_source(env)
    renamed = await Person.get(org_id=env.org.id, source_id=person.id)
    assert renamed.name_sort.startswith("zeng1xiao1xian")  # 曾 read as the surname zeng
    assert await _keys_match(env)

    renamed.name = "阿明"
    await renamed.save(update_fields=["name"])
    dept = await Department.get(org_id=env.org.id, source_id=ekp_dept_id(env))
    dept.name = "重庆办事处"
    await Department.bulk_update([dept], fields=["name"])
    await Person.create(org=env.org, name="李四", main_dept_id=dept.id, mobile="13900000042")
    assert await _keys_match(env)
    names = await Person.filter(org_id=env.org.id, name__in=["阿明", "李四"]).order_by("name_sort")
    assert [p.name for p in names] == ["阿明", "李四"]
