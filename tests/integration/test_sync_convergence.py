"""The three copies of the directory (EKP, LanDing, DingTalk) and the mapping feed converge, or say why not.

Each test is one way they used to drift apart silently: removals that never reached the feed, a refused mobile
change reported as 更新成功 and reverted later, a full run that could not see changes made in DingTalk, a schema
problem taken for a login clash, and conflicts where LanDing won without a word in the log.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tortoise import Tortoise

from app import runtime
from app.models.contacts import Department, Person
from app.models.sync import RunResult, RunTrigger, SyncEntry, SyncSettings
from app.services import mapping_feed
from app.services.contacts import people
from app.sync import bulk, runner
from tests.integration import sync_env
from tests.integration.sync_env import CORPID, SyncEnv

env = sync_env.env


def ekp_people(env: SyncEnv) -> list:
    return sorted(
        (e for e in env.ekp.state.elements.values() if e.type.value == "person" and e.is_available), key=lambda e: e.id
    )


def ekp_depts(env: SyncEnv) -> list:
    return sorted(
        (e for e in env.ekp.state.elements.values() if e.type.value == "dept" and e.is_available), key=lambda e: e.id
    )


async def feed_until(org_id: int, kind: str, since: int, want) -> list[dict[str, Any]]:
    """The feed as EKP would read it with cursor ``since``, once ``want(items)`` holds (changes settle first)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        items = await mapping_feed.changes(org_id, kind, since)
        if want(items):
            return items
        assert loop.time() < deadline, f"feed never showed the change: {items}"
        await asyncio.sleep(0.1)


async def test_removals_from_ekp_and_from_landing_reach_the_mapping_feed(env: SyncEnv) -> None:
    assert (await runner.run(env.org.id, rt=runtime.get())).result == RunResult.SUCCESS
    items = await feed_until(env.org.id, "person", 0, lambda i: len(i) >= 40)
    cursor = max(i["time"] for i in items)
    leaver = ekp_people(env)[0]
    person = await Person.get(org_id=env.org.id, source_id=leaver.id)
    old_userid = person.ding_userid
    await env.ekp_sim("POST", f"/elements/{leaver.id}/disable")
    # A removal that starts in LanDing: an admin sets another person invalid.
    other = await Person.get(org_id=env.org.id, source_id=ekp_people(env)[1].id)
    other_userid = other.ding_userid
    admin = await sync_env.org_admin(env.org)
    await people.disable_person(admin, env.org.id, other.id)
    # A department emptied and deleted in EKP.
    parents = {e.parent for e in ekp_depts(env)}
    dept_el = next(e for e in reversed(ekp_depts(env)) if e.id not in parents)  # a leaf
    dept = await Department.get(org_id=env.org.id, source_id=dept_el.id)
    for member in [e for e in ekp_people(env) if e.parent == dept_el.id]:
        await env.ekp_sim("PATCH", f"/elements/{member.id}", {"parent": ekp_depts(env)[0].id})
    await env.ekp_sim("POST", f"/elements/{dept_el.id}/disable")
    old_dept_ding = dept.ding_id

    run = await runner.run(env.org.id, RunTrigger.AUTO, rt=runtime.get())
    assert run.result == RunResult.SUCCESS, run.summary
    assert old_userid not in env.ding_users() and other_userid not in env.ding_users()
    assert (await Person.get(id=person.id)).ding_userid is None

    def removed(i: list) -> bool:
        return {old_userid, other_userid} <= {x["dingId"] for x in i if x["dingIsDel"]}

    items = await feed_until(env.org.id, "person", cursor, removed)
    gone = next(x for x in items if x["dingId"] == old_userid and x["dingIsDel"])
    assert gone["businessId"] == leaver.id and gone["time"] > cursor
    lines = [(e.stage, e.action, e.object_name, e.message) for e in await SyncEntry.filter(run_id=run.id)]
    assert (await Department.get(id=dept.id)).is_deleted and old_dept_ding not in env.ding_depts(), lines
    depts = await feed_until(
        env.org.id, "dept", 0, lambda i: any(x["dingId"] == str(old_dept_ding) and x["dingIsDel"] for x in i)
    )
    assert any(x["businessId"] == dept_el.id for x in depts if x["dingIsDel"])


async def test_refused_mobile_change_is_reported_kept_and_never_reverted(env: SyncEnv) -> None:
    assert (await runner.run(env.org.id, rt=runtime.get())).result == RunResult.SUCCESS
    person = await Person.filter(org_id=env.org.id, is_active=True, source_id__isnull=False).order_by("id").first()
    old_mobile = env.ding_users()[person.ding_userid].mobile
    admin = await sync_env.org_admin(env.org)
    detail = await people.get_person_detail(admin, env.org.id, person.id)
    detail.data.mobile = "13800138009"
    detail.data.title = "新职位"
    await people.update_person(admin, env.org.id, person.id, detail.data)

    run = await runner.run(env.org.id, RunTrigger.AUTO, rt=runtime.get())
    assert run.result == RunResult.WARNING
    line = await SyncEntry.get(run_id=run.id, ok=False)
    assert line.error_code == "40022" and person.name == line.object_name and "删除后重新添加" in line.message
    ding = env.ding_users()[person.ding_userid]
    assert ding.mobile == old_mobile and ding.title == "新职位"  # the rest of the update arrived
    stored = await Person.get(id=person.id)
    assert stored.mobile == "13800138009" and stored.sync_conflicts["mobile"]["ding"] == old_mobile

    # DingTalk changes the person later: the callback path applies the name but keeps LanDing's refused mobile.
    await env.sim("PATCH", f"/_sim/corps/{CORPID}/users/{person.ding_userid}", {"name": "钉钉里改的名"})
    from app.sync import callbacks

    await callbacks.apply_user(runtime.get().dingtalk, env.org, person.ding_userid)
    stored = await Person.get(id=person.id)
    assert stored.name == "钉钉里改的名" and stored.mobile == "13800138009"
    # A later run does not ask again (nothing changed) and still does not revert.
    quiet = await runner.run(env.org.id, RunTrigger.AUTO, rt=runtime.get())
    assert (await Person.get(id=person.id)).mobile == "13800138009"
    assert await SyncEntry.filter(run_id=quiet.id, error_code="40022").count() == 0


async def test_full_run_repairs_what_was_changed_directly_in_dingtalk(env: SyncEnv) -> None:
    assert (await runner.run(env.org.id, rt=runtime.get())).result == RunResult.SUCCESS
    person = await Person.filter(org_id=env.org.id, is_active=True, source_id__isnull=False).order_by("id").first()
    dept = await Department.filter(org_id=env.org.id, source_id__isnull=False).exclude(parent_id=None).first()
    vanished = await Person.filter(org_id=env.org.id, is_active=True, source_id__isnull=False).order_by("-id").first()
    # Changed in DingTalk while no callback reached us (nothing is registered in this environment).
    await env.sim("PATCH", f"/_sim/corps/{CORPID}/users/{person.ding_userid}", {"name": "钉钉里手改", "title": "X"})
    await env.sim("PATCH", f"/_sim/corps/{CORPID}/departments/{dept.ding_id}", {"name": "钉钉里改的部门"})
    await env.sim("DELETE", f"/_sim/corps/{CORPID}/users/{vanished.ding_userid}")
    # An incremental run cannot see it, and costs DingTalk nothing but the failed-callback read.
    await env.reset_counters()
    quiet = await runner.run(env.org.id, RunTrigger.AUTO, rt=runtime.get())
    assert quiet.result == RunResult.SUCCESS
    calls = {api: n for api, n in (await env.counters()).items() if not api.startswith("/gettoken")}
    assert sum(calls.values()) <= 1, calls
    assert env.ding_users()[person.ding_userid].name == "钉钉里手改"

    await SyncSettings.filter(org_id=env.org.id).update(cursors={runner.FULL_MARK: "1"})  # 清空同步时间戳
    full = await runner.run(env.org.id, RunTrigger.MANUAL, rt=runtime.get())
    assert full.result == RunResult.SUCCESS, full.summary
    assert env.ding_users()[person.ding_userid].name == person.name
    assert env.ding_users()[person.ding_userid].title == ""
    assert env.ding_depts()[dept.ding_id].name == dept.name
    again = await Person.get(id=vanished.id)
    assert again.ding_userid and again.ding_userid in env.ding_users()
    repairs = [e.message for e in await SyncEntry.filter(run_id=full.id, stage="reconcile", action="repair")]
    assert any("姓名：钉钉为「钉钉里手改」" in m and person.name in m for m in repairs), repairs
    assert any("钉钉里改的部门" in m for m in repairs), repairs
    # Once repaired, the next full run finds nothing to repair and writes nothing.
    await SyncSettings.filter(org_id=env.org.id).update(cursors={runner.FULL_MARK: "1"})
    await env.reset_counters()
    calm = await runner.run(env.org.id, RunTrigger.MANUAL, rt=runtime.get())
    assert await SyncEntry.filter(run_id=calm.id, action="repair").count() == 0
    writes = {a: n for a, n in (await env.counters()).items() if any(w in a for w in ("create", "update", "delete"))}
    assert writes == {}, writes


async def test_a_schema_problem_is_a_failed_run_not_a_silent_retry(env: SyncEnv) -> None:
    conn = Tortoise.get_connection("default")
    if conn.capabilities.dialect != "sqlite":
        return  # the trigger below is SQLite's; the code path is the same on PostgreSQL
    await conn.execute_script(
        "CREATE TRIGGER person_probe BEFORE INSERT ON person "
        "BEGIN SELECT RAISE(ABORT, 'NOT NULL constraint failed: person.probe'); END;"
    )
    run = await runner.run(env.org.id, rt=runtime.get())
    assert run.result == RunResult.FAILED and "NOT NULL constraint failed" in run.error
    assert await Person.filter(org_id=env.org.id).count() == 0
    await conn.execute_script("DROP TRIGGER person_probe;")
    assert (await runner.run(env.org.id, rt=runtime.get())).result == RunResult.SUCCESS


async def test_bulk_inserts_fill_every_column_the_model_has(orm: str) -> None:
    # With the ORM started: foreign-key columns (org_id, main_dept_id) are known to the model only then.
    named = ("org_id", "name", "main_dept_id")
    extra, values = bulk.defaults(Person, named)
    derived = set(Person.DERIVED)  # name_sort: computed from name by the insert itself
    assert set(named) | set(extra) | derived | {"id"} == set(Person._meta.fields_db_projection)
    assert dict(zip(extra, values, strict=True))["sync_conflicts"] == {}


async def _refused_mobile(env: SyncEnv) -> tuple[Person, str, Any]:
    assert (await runner.run(env.org.id, rt=runtime.get())).result == RunResult.SUCCESS
    person = await Person.filter(org_id=env.org.id, is_active=True, source_id__isnull=False).order_by("id").first()
    old_mobile = env.ding_users()[person.ding_userid].mobile
    admin = await sync_env.org_admin(env.org)
    detail = await people.get_person_detail(admin, env.org.id, person.id)
    detail.data.mobile = "13900139009"
    await people.update_person(admin, env.org.id, person.id, detail.data)
    assert (await runner.run(env.org.id, RunTrigger.AUTO, rt=runtime.get())).result == RunResult.WARNING
    detail = await people.get_person_detail(admin, env.org.id, person.id)
    assert detail.conflicts["mobile"]["local"] == "13900139009"
    return person, old_mobile, admin


async def test_recreate_gives_the_dingtalk_user_the_new_mobile_with_the_same_userid(env: SyncEnv) -> None:
    from app.models.audit import AuditLog
    from app.services import person_conflicts

    person, _, admin = await _refused_mobile(env)
    await person_conflicts.recreate_in_dingtalk(admin, env.org.id, person.id, client=runtime.get().dingtalk)
    user = env.ding_users()[person.ding_userid]
    stored = await Person.get(id=person.id)
    assert user.mobile == "13900139009" and stored.ding_userid == person.ding_userid and stored.sync_conflicts == {}
    dept = await Department.get(id=stored.main_dept_id)
    assert user.dept_id_list == [dept.ding_id]
    assert await AuditLog.filter(action="contacts.person.recreate", object_id=str(person.id)).count() == 1
    run = await runner.run(env.org.id, RunTrigger.AUTO, rt=runtime.get())
    assert run.result == RunResult.SUCCESS and (await Person.get(id=person.id)).is_active


async def test_keep_dingtalk_number_resolves_the_difference(env: SyncEnv) -> None:
    from app.services import person_conflicts
    from app.services.errors import ValidationFailed

    person, old_mobile, admin = await _refused_mobile(env)
    await person_conflicts.keep_dingtalk_value(admin, env.org.id, person.id, "mobile")
    stored = await Person.get(id=person.id)
    assert stored.mobile == old_mobile and stored.sync_conflicts == {}
    assert (await runner.run(env.org.id, RunTrigger.AUTO, rt=runtime.get())).result == RunResult.SUCCESS
    try:
        await person_conflicts.keep_dingtalk_value(admin, env.org.id, person.id, "mobile")
    except ValidationFailed as exc:
        assert "没有待处理" in exc.message
    else:
        raise AssertionError("a second resolution must be refused")


async def test_a_field_declared_in_the_table_flows_everywhere_and_empty_values_change_no_hash(env: SyncEnv) -> None:
    """分机号 (telephone) is one line in ``app/sync/fields.py``: EKP workPhone -> LanDing -> DingTalk and back."""
    from pathlib import Path

    from app.sync import callbacks, fields, hashing

    sync_dir = Path(fields.__file__).parent
    mentions = [p.name for p in sync_dir.rglob("*.py") if "telephone" in p.read_text() and p.name != "fields.py"]
    assert mentions == [], f"the field leaks into other sync modules: {mentions}"
    assert (await runner.run(env.org.id, rt=runtime.get())).result == RunResult.SUCCESS
    element = ekp_people(env)[3]
    await env.ekp_sim("PATCH", f"/elements/{element.id}", {"workPhone": "0571-88886666"})
    assert (await runner.run(env.org.id, RunTrigger.AUTO, rt=runtime.get())).result == RunResult.SUCCESS
    person = await Person.get(org_id=env.org.id, source_id=element.id)
    assert person.telephone == "0571-88886666"
    assert env.ding_users()[person.ding_userid].telephone == "0571-88886666"
    await env.sim("PATCH", f"/_sim/corps/{CORPID}/users/{person.ding_userid}", {"telephone": "8001"})
    await callbacks.apply_user(runtime.get().dingtalk, env.org, person.ding_userid)
    assert (await Person.get(id=person.id)).telephone == "8001"
    # A field at its default is left out of the view, so adding one re-pushes nobody.
    plain = await Person.filter(org_id=env.org.id, telephone="", is_active=True).first()
    view = fields.person_view(plain, [1])
    assert "telephone" not in view
    without = tuple(f for f in fields.PERSON_PUSHED if f.local != "telephone")
    older = {f.local: f.normalise(getattr(plain, f.local)) for f in without if getattr(plain, f.local) != f.default}
    assert hashing.person_hash({**older, "dept_id_list": [1]}) == hashing.person_hash(view)
