"""通讯录 > 同步设置 and 同步日志 as an org admin sees them."""

from __future__ import annotations

from datetime import UTC, datetime

from nicegui.testing import User

from app.models.accounts import Role
from app.models.audit import AuditLog
from app.models.sync import RunKind, RunResult, RunTrigger, SyncEntry, SyncRun, SyncSettings
from tests import factories
from tests.ui.helpers import eventually, login


async def _org_admin(user: User):
    await user.open("/login")
    org = await factories.org("叮当科技", "dingcorp9", is_main=True)
    await factories.account("orgadmin", Role.ORG_ADMIN, org)
    await login(user, "orgadmin", factories.PASSWORD)
    await user.should_see("欢迎")
    return org


async def test_settings_validate_cron_and_save(user: User) -> None:
    org = await _org_admin(user)
    await user.open("/sync/settings")
    await user.should_see("Cron表达式")
    await user.should_see("接下来5次执行时间")
    user.find(marker="cron").clear().type("61 * * * *")
    user.find(marker="save").click()
    await user.should_see("Cron表达式无效")
    assert await SyncSettings.filter(org_id=org.id, cron="61 * * * *").count() == 0
    user.find(marker="cron").clear().type("30 1 * * *")
    user.find(marker="source-enabled").click()
    user.find(marker="save").click()
    await user.should_see("请填写本系统名称")
    user.find(marker="source-name").type("EKP")
    user.find(marker="source-url").type("http://127.0.0.1:9/ekp")
    user.find(marker="source-user").type("ekp")
    user.find(marker="source-password").type("secret-pass")
    user.find(marker="save").click()
    await user.should_see("同步设置已保存")
    await user.should_see("01:30")
    saved = await SyncSettings.get(org_id=org.id)
    assert (saved.cron, saved.source_enabled, saved.source_password) == ("30 1 * * *", True, "secret-pass")
    audit_row = await AuditLog.filter(action="sync.settings.update").first()
    assert audit_row is not None and "secret-pass" not in str(audit_row.after)
    user.find(marker="check-connection").click()
    await user.should_see("无法连接")
    user.find(marker="clear-cursors").click()
    user.find(marker="confirm-clear").click()
    await user.should_see("下次同步将执行全量同步")


async def test_delete_threshold_from_the_number_field_saves(user: User) -> None:
    """The browser's number field hands over floats (10.0): every whole value 0-100 saves, with the rest."""
    org = await _org_admin(user)
    await user.open("/sync/settings")
    await user.should_see("删除记录阈值")
    field = user.find(marker="threshold").elements.pop()
    for value in (10.0, 50.0, 100.0):
        field.value = value
        user.find(marker="cron").clear().type("15 3 * * *")
        user.find(marker="save").click()

        async def saved(expected: int = int(value)) -> bool:
            row = await SyncSettings.get(org_id=org.id)
            return (row.delete_threshold, row.cron) == (expected, "15 3 * * *")

        await eventually(saved)
    field.value = 12.5
    user.find(marker="save").click()
    await user.should_see("删除记录阈值应为0到100之间的整数")
    assert (await SyncSettings.get(org_id=org.id)).delete_threshold == 100
    user.find(marker="reconcile-days").elements.pop().value = 14.0
    field.value = 30.0
    user.find(marker="save").click()

    async def both() -> bool:
        row = await SyncSettings.get(org_id=org.id)
        return (row.reconcile_days, row.delete_threshold) == (14, 30)

    await eventually(both)


async def _run(org, number: int, **values) -> SyncRun:
    defaults = dict(
        org=org,
        trigger=RunTrigger.AUTO,
        kind=RunKind.INCREMENTAL,
        result=RunResult.SUCCESS,
        summary=f"从钉钉同步部门获取0条, 人员获取{number}条;",
        ended_at=datetime.now(UTC),
    )
    return await SyncRun.create(**{**defaults, **values})


async def test_logs_list_detail_delete_and_approve(user: User) -> None:
    org = await _org_admin(user)
    for n in range(23):
        await _run(org, n)
    warned = await _run(
        org,
        99,
        result=RunResult.WARNING,
        kind=RunKind.FULL,
        trigger=RunTrigger.MANUAL,
        summary="同步到钉钉部门获取8条, 人员获取36条, 增加2条, 新增异常2条;",
    )
    await SyncEntry.create(
        run=warned,
        stage="push",
        action="add",
        object_type="person",
        object_name="郑毅",
        ok=False,
        error_code="40103",
        message="新增失败: 40103 用户开启了账号保护",
    )
    await user.open("/sync/logs")
    await user.should_see("第 1 / 2 页，共 24 条")
    user.find(marker="keyword").type("新增异常")
    user.find(marker="search").click()
    await user.should_see("第 1 / 1 页，共 1 条")
    await user.open(f"/sync/logs/{warned.id}")
    await user.should_see("警告")
    await user.should_see("全量")
    await user.should_see("手动同步")
    await user.should_see("郑毅")
    await user.should_see("40103")

    blocked = await _run(
        org,
        5,
        result=RunResult.FAILED,
        threshold_blocked=True,
        error="本次同步将删除部门0条、人员8条，超过删除记录阈值10%",
    )
    await user.open(f"/sync/logs/{blocked.id}")
    user.find(marker="approve").click()
    user.find(marker="confirm-approve").click()
    await user.should_see("已批准")
    assert (await SyncSettings.get(org_id=org.id)).approved_run_id == blocked.id
    assert await AuditLog.filter(action="sync.threshold.approve").count() == 1

    await user.open("/sync/logs")
    await user.should_see("共 25 条")
    table = user.find(marker="runs-table").elements.pop()
    table.selected = table.rows[:3]
    user.find(marker="bulk-delete").click()
    await user.should_see("删除选中的 3 条同步日志？")
    user.find(marker="confirm-delete").click()
    await user.should_see("已删除 3 条同步日志")
    assert await SyncRun.filter(org_id=org.id).count() == 22


async def test_blocked_removals_page_and_sort_like_every_list(user: User) -> None:
    org = await _org_admin(user)
    removals = [
        dict(kind="person", id=n, name=f"人员{n:02d}", ding_id=f"u{n}", source_id=f"s{n}", why="EKP中已禁用")
        for n in range(1, 26)
    ]
    blocked = await _run(org, 1, result=RunResult.WARNING, threshold_blocked=True, pending_removals=removals)
    await user.open(f"/sync/logs/{blocked.id}")
    await user.should_see("暂停执行的删除（25 条）")
    await user.should_see("第 1 / 2 页，共 25 条")
    table = user.find(marker="pending-removals").elements.pop()
    assert [r["name"] for r in table.rows] == [f"人员{n:02d}" for n in range(1, 21)]
    user.find(marker="pending-removals-next").click()
    await user.should_see("第 2 / 2 页，共 25 条")
    assert [r["name"] for r in table.rows] == [f"人员{n:02d}" for n in range(21, 26)]
    # Sorting by 名称 (descending) sorts all 25, not only the page shown, and starts again at page 1.
    user.find(marker="pending-removals").trigger("request", {"pagination": {"sortBy": "name", "descending": True}})
    await user.should_see("第 1 / 2 页，共 25 条")
    assert [r["name"] for r in table.rows][:3] == ["人员25", "人员24", "人员23"]
