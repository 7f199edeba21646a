"""The delete threshold (删除记录阈值): count what a stage would remove before removing anything.

Above ``SyncSettings.delete_threshold`` percent of the org's departments or people, the stage removes nothing, but
the run goes on: creates, renames and moves still reach DingTalk. The held-back removals are listed on the run
(``SyncRun.pending_removals``: names, ids, origin) and the run ends 警告. An org admin then decides on the run's
log page: 批准本次删除 (the next run performs them; the approval is used up by that run) or 拒绝 (the objects are
kept: ``SyncSettings.kept_removals``, and later runs leave them alone until an admin removes them by hand).
100 % means no limit.
"""

from __future__ import annotations

from typing import Any

from app.sync.context import RunContext

Removal = dict[str, Any]  # {kind, id, name, ding_id, source_id, why}


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else (100.0 if part else 0.0)


def exceeds(limit: int, part: int, whole: int) -> bool:
    return limit < 100 and part > 0 and _percent(part, whole) > limit


def removal(kind: str, obj: Any, why: str) -> Removal:
    ding_id = obj.ding_id if kind == "dept" else obj.ding_userid
    return {
        "kind": kind,
        "id": obj.id,
        "name": obj.name,
        "ding_id": "" if ding_id is None else str(ding_id),
        "source_id": obj.source_id or "",
        "why": why,
    }


def kept(ctx: RunContext, kind: str) -> set[int]:
    """Objects an admin refused to remove (拒绝 on a blocked run): no run removes them."""
    return {int(i) for i in (ctx.settings.kept_removals or {}).get(kind, [])}


def allow_removals(ctx: RunContext, stage: str, items: list[Removal], dept_total: int, people_total: int) -> bool:
    """True when the stage may perform ``items``; otherwise they are recorded on the run and nothing is removed."""
    depts = sum(1 for i in items if i["kind"] == "dept")
    people = len(items) - depts
    limit = int(ctx.settings.delete_threshold)
    if not (exceeds(limit, depts, dept_total) or exceeds(limit, people, people_total)):
        return True
    what = (
        f"部门{depts}条（共{dept_total}条，{_percent(depts, dept_total):.0f}%）、人员{people}条（共{people_total}条，"
        f"{_percent(people, people_total):.0f}%）"
    )
    if ctx.approved:
        ctx.notes.append(f"删除{what}超过删除记录阈值{limit}%，已由管理员批准执行。")
        return True
    message = (
        f"本次同步将删除{what}，超过删除记录阈值{limit}%，已暂停删除，未删除任何记录；其他变更照常同步。"
        "请核对数据源，并在同步日志中批准本次删除或拒绝。"
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
    ctx.block_removals(items, message)
    return False
