"""EKP changes arriving in LanDing and DingTalk; the delete threshold; per-object DingTalk failures; interruption."""

from __future__ import annotations

import asyncio

from app import runtime
from app.models.contacts import Department, Person
from app.models.sync import RunResult, RunTrigger, SyncEntry, SyncRun, SyncSettings
from app.services import sync_runs
from app.sync import runner
from tests.integration import sync_env
from tests.integration.sync_env import SyncEnv

env = sync_env.env


def ekp_people(env: SyncEnv) -> list:
    return [e for e in env.ekp.state.elements.values() if e.type.value == "person" and e.is_available]


def ekp_depts(env: SyncEnv) -> list:
    return [e for e in env.ekp.state.elements.values() if e.type.value == "dept" and e.is_available]


async def test_renames_moves_disables_and_hard_deletes_reach_both(env: SyncEnv) -> None:
    assert (await runner.run(env.org.id, rt=runtime.get())).result == RunResult.SUCCESS
    people = sorted(ekp_people(env), key=lambda e: e.id)
    depts = sorted(ekp_depts(env), key=lambda e: e.id)
    renamed, target = depts[0], depts[1]
    mover, leaver, deleted = people[0], people[1], people[2]
    await env.ekp_sim("PATCH", f"/elements/{renamed.id}", {"name": "改名后的部门"})
    await env.ekp_sim("PATCH", f"/elements/{mover.id}", {"parent": target.id, "name": "调岗的人"})
    await env.ekp_sim("POST", f"/elements/{leaver.id}/disable")
    await env.ekp_sim("DELETE", f"/elements/{deleted.id}")

    run = await runner.run(env.org.id, RunTrigger.AUTO, rt=runtime.get())
    assert run.result == RunResult.SUCCESS, run.error
    dept = await Department.get(org_id=env.org.id, source_id=renamed.id)
    assert env.ding_depts()[dept.ding_id].name == "改名后的部门"
    moved = await Person.get(org_id=env.org.id, source_id=mover.id)
    target_dept = await Department.get(org_id=env.org.id, source_id=target.id)
    ding_user = env.ding_users()[moved.ding_userid]
    assert ding_user.name == "调岗的人" and ding_user.dept_id_list[0] == target_dept.ding_id
    gone = await Person.get(org_id=env.org.id, source_id=leaver.id)
    assert not gone.is_active and gone.ding_userid is None
    assert leaver.mobile_no not in {u.mobile for u in env.ding_users().values()}
    # A hard delete never shows up in the incremental feed: it is found by the next full sync.
    assert (await Person.get(org_id=env.org.id, source_id=deleted.id)).is_active
    await SyncSettings.filter(org_id=env.org.id).update(cursors={})
    full = await runner.run(env.org.id, RunTrigger.MANUAL, rt=runtime.get())
    assert full.result == RunResult.SUCCESS, full.error
    assert full.kind == "full"
    assert not (await Person.get(org_id=env.org.id, source_id=deleted.id)).is_active
    assert deleted.mobile_no not in {u.mobile for u in env.ding_users().values()}
    assert await SyncEntry.filter(run_id=full.id, stage="source", action="disable", ok=True).count() == 1
    # Identity continuity: the full sync kept every DingTalk id.
    assert len(env.ding_users()) == len(ekp_people(env)) + 1  # + the simulator's own admin
    details = await SyncEntry.filter(run_id=full.id, stage="push", action="add").count()
    assert details == 0


async def test_threshold_holds_removals_only_until_approved(env: SyncEnv) -> None:
    assert (await runner.run(env.org.id, rt=runtime.get())).result == RunResult.SUCCESS
    await SyncSettings.filter(org_id=env.org.id).update(delete_threshold=10)
    result = await env.ekp_sim("POST", "/bulk/change", {"type": "person", "count": 8, "field": "disable", "seed": 3})
    renamed = sorted(ekp_depts(env), key=lambda e: e.id)[0]
    await env.ekp_sim("PATCH", f"/elements/{renamed.id}", {"name": "阈值期间改名"})
    blocked = await runner.run(env.org.id, RunTrigger.AUTO, rt=runtime.get())
    # The removals wait for an admin; everything else still reaches DingTalk, and the run says so (警告, not 失败).
    assert blocked.result == RunResult.WARNING and blocked.threshold_blocked
    assert "超过删除记录阈值10%" in blocked.summary and "人员8条" in blocked.summary
    assert sorted(r["source_id"] for r in blocked.pending_removals) == sorted(result["ids"])
    assert all(r["name"] and r["ding_id"] and r["why"] == "EKP中已禁用" for r in blocked.pending_removals)
    assert await Person.filter(org_id=env.org.id, source_id__in=result["ids"], is_active=True).count() == 8
    dept = await Department.get(org_id=env.org.id, source_id=renamed.id)
    assert env.ding_depts()[dept.ding_id].name == "阈值期间改名"
    ding_before = len(env.ding_users())

    # Still held on the next (scheduled) run: nothing was consumed, and the run does not fail.
    again = await runner.run(env.org.id, RunTrigger.AUTO, rt=runtime.get())
    assert again.threshold_blocked and again.result == RunResult.WARNING
    admin = await sync_env.org_admin(env.org)
    await sync_runs.approve_removals(admin, again.id)
    done = await runner.run(env.org.id, RunTrigger.AUTO, rt=runtime.get())
    assert done.result == RunResult.SUCCESS, done.error
    assert await Person.filter(org_id=env.org.id, source_id__in=result["ids"], is_active=True).count() == 0
    assert len(env.ding_users()) == ding_before - 8
    assert (await SyncSettings.get(org_id=env.org.id)).approved_run_id is None


async def test_rejected_removals_are_kept_by_later_runs(env: SyncEnv) -> None:
    assert (await runner.run(env.org.id, rt=runtime.get())).result == RunResult.SUCCESS
    await SyncSettings.filter(org_id=env.org.id).update(delete_threshold=10)
    result = await env.ekp_sim("POST", "/bulk/change", {"type": "person", "count": 8, "field": "disable", "seed": 5})
    blocked = await runner.run(env.org.id, RunTrigger.AUTO, rt=runtime.get())
    assert blocked.threshold_blocked
    admin = await sync_env.org_admin(env.org)
    assert await sync_runs.reject_removals(admin, blocked.id) == 8
    later = await runner.run(env.org.id, RunTrigger.AUTO, rt=runtime.get())
    assert later.result == RunResult.SUCCESS and not later.threshold_blocked
    assert await Person.filter(org_id=env.org.id, source_id__in=result["ids"], is_active=True).count() == 8
    kept = await SyncEntry.filter(run_id=later.id, action="keep").count()
    assert kept == 8


async def test_source_that_suddenly_returns_far_fewer_people_is_treated_as_broken(env: SyncEnv) -> None:
    assert (await runner.run(env.org.id, rt=runtime.get())).result == RunResult.SUCCESS
    ids = [e.id for e in sorted(ekp_people(env), key=lambda e: e.id)[:15]]
    for element_id in ids:  # hard deletes: gone from the export altogether, as when EKP answers a partial list
        await env.ekp_sim("DELETE", f"/elements/{element_id}")
    await SyncSettings.filter(org_id=env.org.id).update(cursors={}, delete_threshold=100)
    run = await runner.run(env.org.id, RunTrigger.MANUAL, rt=runtime.get())
    assert run.result == RunResult.FAILED
    assert "源系统数据异常" in run.error and "本次同步未做任何修改" in run.error
    assert await Person.filter(org_id=env.org.id, source_id__in=ids, is_active=True).count() == 15
    assert len(env.ding_users()) == len(ekp_people(env)) + 15 + 1


async def test_dingtalk_refusals_are_reported_as_warnings(env: SyncEnv) -> None:
    people = sorted(ekp_people(env), key=lambda e: e.id)
    await env.sim("POST", "/_sim/faults/mobile", {"mobile": people[0].mobile_no, "errcode": 40103})
    await env.sim("POST", "/_sim/faults/mobile", {"mobile": people[1].mobile_no, "errcode": 40019})
    run = await runner.run(env.org.id, rt=runtime.get())
    assert run.result == RunResult.WARNING
    assert "新增异常2条" in run.summary
    errors = await SyncEntry.filter(run_id=run.id, ok=False).order_by("error_code")
    assert [e.error_code for e in errors] == ["40019", "40103"]
    assert all(e.object_name in {people[0].name, people[1].name} for e in errors)
    assert "该手机号码对应的用户最多可以加入5个非认证企业" in errors[0].message or "40019" in errors[0].message
    text = await sync_runs.error_log_text(await sync_env.org_admin(env.org), run.id)
    assert "40103" in text and people[0].name in text


async def test_interrupted_push_converges_without_duplicates(env: SyncEnv) -> None:
    await env.sim("POST", "/_sim/faults/latency", {"apis": ["/topapi/v2/user/create"], "ms": 60})
    started = await runner.start(env.org.id, RunTrigger.MANUAL, rt=runtime.get())
    task = runner.task_of(env.org.id)
    for _ in range(500):  # until DingTalk holds some of the people
        if len(env.ding_users()) >= 10:
            break
        await asyncio.sleep(0.02)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    first = await SyncRun.get(id=started.id)
    assert first.result == RunResult.FAILED and "中断" in first.error
    await env.sim("DELETE", "/_sim/faults")
    second = await runner.run(env.org.id, rt=runtime.get())
    assert second.result == RunResult.SUCCESS, second.error
    active = await Person.filter(org_id=env.org.id, is_active=True)
    assert all(p.ding_userid for p in active)
    assert len({p.ding_userid for p in active}) == len(active) == len(ekp_people(env))
    assert len(env.ding_users()) == len(active) + 1
    # and the tree is in DingTalk exactly once
    assert len(env.ding_depts()) == len(ekp_depts(env)) + 1


async def test_people_moved_or_disabled_in_ekp_leave_their_old_department_s_managers(env: SyncEnv) -> None:
    assert (await runner.run(env.org.id, rt=runtime.get())).result == RunResult.SUCCESS
    by_parent: dict[str, list] = {}
    for e in sorted(ekp_people(env), key=lambda e: e.id):
        by_parent.setdefault(e.parent, []).append(e)
    parent, (mover, leaver, stayer, *_) = next((k, v) for k, v in by_parent.items() if len(v) >= 3)
    target = next(d for d in ekp_depts(env) if d.id != parent)
    dept = await Department.get(org_id=env.org.id, source_id=parent)
    ids = {e.id: (await Person.get(org_id=env.org.id, source_id=e.id)) for e in (mover, leaver, stayer)}
    managers = [ids[mover.id].id, ids[leaver.id].id, ids[stayer.id].id]
    await Department.filter(id=dept.id).update(manager_ids=managers, group_owner_id=ids[mover.id].id, needs_push=True)
    assert (await runner.run(env.org.id, rt=runtime.get())).result == RunResult.SUCCESS
    assert set(env.ding_depts()[dept.ding_id].dept_manager_userid_list) == {p.ding_userid for p in ids.values()}

    await env.ekp_sim("PATCH", f"/elements/{mover.id}", {"parent": target.id})
    await env.ekp_sim("POST", f"/elements/{leaver.id}/disable")
    run = await runner.run(env.org.id, RunTrigger.AUTO, rt=runtime.get())

    # No DingTalk refusal ("不存在的userId"): the old department let them go before the push.
    assert run.result == RunResult.SUCCESS, run.error
    dept = await Department.get(id=dept.id)
    assert dept.manager_ids == [ids[stayer.id].id]
    assert dept.group_owner_id is None
    assert env.ding_depts()[dept.ding_id].dept_manager_userid_list == [ids[stayer.id].ding_userid]
    entry = await SyncEntry.get(run_id=run.id, stage="source", action="update", object_type="dept")
    assert mover.name in entry.message and leaver.name in entry.message and "部门主管" in entry.message
