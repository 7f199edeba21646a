"""首页 as an org admin sees it: the run timeline, callback health and the tiles that say what needs fixing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nicegui import ui
from nicegui.testing import User

from app.models.access import AccessSystem, Notification
from app.models.accounts import Role
from app.models.contacts import Department, Person
from app.models.sync import CallbackEvent, RunKind, RunResult, RunTrigger, SyncRun
from tests import factories
from tests.ui.helpers import login


async def _seed(org) -> SyncRun:
    now = datetime.now(UTC)
    for days, result in ((2, RunResult.SUCCESS), (12, RunResult.FAILED)):
        run = await SyncRun.create(
            org=org,
            trigger=RunTrigger.AUTO,
            kind=RunKind.INCREMENTAL,
            result=result,
            summary="同步到钉钉人员获取3条, 增加3条;",
            counters={"push": {"person": {"fetched": 3, "added": 3}, "dept": {"fetched": 0}}},
        )
        run.started_at = now - timedelta(days=days)
        run.ended_at = run.started_at + timedelta(seconds=42)
        await run.save()
    blocked = await SyncRun.create(
        org=org, trigger=RunTrigger.AUTO, kind=RunKind.FULL, result=RunResult.FAILED, threshold_blocked=True
    )
    received = now - timedelta(minutes=10)
    for n in range(3):
        event = await CallbackEvent.create(
            org=org, event_type="user_add_org", payload={"n": n}, dedup_key=f"k{n}", attempts=1 if n < 2 else 5
        )
        event.received_at = received
        event.processed_at = received + timedelta(seconds=4) if n < 2 else None
        await event.save()
    system = await AccessSystem.create(
        org=org,
        name="EKP",
        identifier="ekp-home",
        auth_account="ekp-home",
        auth_password="pw",
        notify_url="http://127.0.0.1:9/notify",
    )
    await Notification.create(
        system=system,
        event_type="contacts",
        payload={},
        next_attempt_at=now,
        attempts=5,
        last_error="HTTP 500",
        failed_at=now,
    )
    root = await Department.get(org_id=org.id, parent=None)
    await Department.filter(id=root.id).update(needs_push=False)
    await Person.create(org=org, name="张三", main_dept=root, mobile="13800000001", needs_push=True)
    return blocked


async def test_org_admin_sees_runs_callbacks_and_what_to_fix(user: User) -> None:
    await user.open("/login")
    org = await factories.org("叮当科技", "dingcorp9", is_main=True)
    await factories.account("orgadmin", Role.ORG_ADMIN, org)
    blocked = await _seed(org)
    await login(user, "orgadmin", factories.PASSWORD)
    await user.should_see("组织概况")
    await user.should_see("收到 3 · 待处理 0 · 失败 1")
    await user.should_see("处理延迟 平均 4.0 秒，最长 4.0 秒")
    await user.should_see("待审批")
    await user.should_see(f"同步 #{blocked.id} 超过删除阈值")
    await user.should_see("1 条失败")
    await user.should_see(marker=f"api-use-{org.id}")

    chart = user.find(marker=f"run-chart-{org.id}").elements.pop()
    assert isinstance(chart, ui.echart)

    def plotted() -> dict[str, int]:
        return {s["name"]: len(s["data"]) for s in chart.options["series"]}

    # 7 days: the success two days ago and the blocked run just now; the failure 12 days ago only in 30 days.
    assert plotted() == {"成功": 1, "警告": 0, "失败": 1, "进行中": 0}
    user.find(marker=f"run-days-{org.id}").elements.pop().value = 30
    assert plotted() == {"成功": 1, "警告": 0, "失败": 2, "进行中": 0}
    success = next(s for s in chart.options["series"] if s["name"] == "成功")["data"][0]
    assert success["value"][1:] == [42.0, 3]  # duration in seconds, objects changed

    await user.should_see("人员 1，部门 0")
    user.find("去审批").click()
    await user.should_see(marker="approve")  # the detail page of the blocked run, where 批准本次删除 lives


async def test_department_admin_sees_no_org_health(user: User) -> None:
    await user.open("/login")
    org = await factories.org("叮当科技", "dingcorp9", is_main=True)
    await _seed(org)
    root = await Department.get(org_id=org.id, parent=None)
    await factories.account("deptadmin", Role.DEPT_ADMIN, org, [root.id])
    await login(user, "deptadmin", factories.PASSWORD)
    await user.should_see("欢迎")
    await user.should_not_see("组织概况")
