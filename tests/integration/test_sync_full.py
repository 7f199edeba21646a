"""First full sync EKP -> LanDing -> DingTalk, then no-op and incremental runs, seen from both simulators."""

from __future__ import annotations

from app import runtime
from app.models.contacts import Department, Person
from app.models.sync import RunKind, RunResult, RunTrigger, SyncEntry, SyncSettings
from app.sync import runner
from tests.integration import sync_env
from tests.integration.sync_env import SyncEnv

env = sync_env.env


async def test_first_full_sync_reaches_dingtalk(env: SyncEnv) -> None:
    run = await runner.run(env.org.id, RunTrigger.MANUAL, rt=runtime.get())
    assert run.result == RunResult.SUCCESS, run.error
    assert run.kind == RunKind.FULL
    ekp_depts = [e for e in env.ekp.state.elements.values() if e.type.value == "dept" and e.is_available]
    ekp_people = [e for e in env.ekp.state.elements.values() if e.type.value == "person" and e.is_available]
    # DingTalk holds the tree (root + every EKP department) and every available EKP person, by name and parent.
    ding_depts = env.ding_depts()
    assert len(ding_depts) == len(ekp_depts) + 1
    by_source = {d.source_id: d for d in await Department.filter(org_id=env.org.id)}
    for e in ekp_depts:
        local = by_source[e.id]
        ding = ding_depts[local.ding_id]
        assert ding.name == e.name
        parent_local = by_source.get(e.parent)
        assert ding.parent_id == (parent_local.ding_id if parent_local else 1)
    mobiles = {u.mobile for u in env.ding_users().values()}
    assert {p.mobile_no for p in ekp_people} <= mobiles
    assert await Person.filter(org_id=env.org.id, ding_userid__isnull=True, is_active=True).count() == 0
    settings = await SyncSettings.get(org_id=env.org.id)
    assert {"dept", "person"} <= set(settings.cursors)
    assert "从EKP同步部门获取" in run.summary and "同步到钉钉部门获取" in run.summary
    assert await SyncEntry.filter(run_id=run.id, stage="push", action="add", object_type="person").count() == len(
        ekp_people
    )

    # A second run with no change costs no DingTalk write.
    await env.reset_counters()
    again = await runner.run(env.org.id, RunTrigger.AUTO, rt=runtime.get())
    assert again.result == RunResult.SUCCESS, again.error
    assert again.kind == RunKind.INCREMENTAL
    calls = await env.counters()
    writes = {k: v for k, v in calls.items() if any(w in k for w in ("create", "update", "delete"))}
    assert writes == {}
