"""The delete threshold (删除记录阈值): count what a stage would remove before removing anything.

Above ``SyncSettings.delete_threshold`` percent of the org's departments or people, the stage removes nothing and the
run ends 失败 with the numbers; an org admin can approve that one run from its log entry, after which the next run
performs the removals (the approval is used up by that run).
"""

from __future__ import annotations

from app.sync.context import RunContext, ThresholdBlocked


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else (100.0 if part else 0.0)


def exceeds(limit: int, part: int, whole: int) -> bool:
    return limit < 100 and part > 0 and _percent(part, whole) > limit


async def check_removals(
    ctx: RunContext, stage: str, depts: int, dept_total: int, people: int, people_total: int
) -> None:
    limit = int(ctx.settings.delete_threshold)
    if not (exceeds(limit, depts, dept_total) or exceeds(limit, people, people_total)):
        return
    what = (
        f"部门{depts}条（共{dept_total}条，{_percent(depts, dept_total):.0f}%）、人员{people}条（共{people_total}条，"
        f"{_percent(people, people_total):.0f}%）"
    )
    if ctx.approved:
        ctx.notes.append(f"删除{what}超过删除记录阈值{limit}%，已由管理员批准执行。")
        return
    message = (
        f"本次同步将删除{what}，超过删除记录阈值{limit}%，已停止删除，未删除任何记录。"
        "请核对数据源；确认无误后可在同步日志中批准本次删除，下次同步时执行。"
    )
    ctx.entry(
        stage,
        "threshold",
        "dept" if exceeds(limit, depts, dept_total) else "person",
        "删除记录阈值",
        ok=False,
        code="threshold",
        message=message,
    )
    raise ThresholdBlocked(message)
