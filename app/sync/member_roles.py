"""部门主管 and 群主 are places only members hold: DingTalk refuses a manager or group owner who is not a member of
the department ("不存在的userId"). When the source system moves people to another main department or disables them,
the departments they held such a place in let them go here, so the push carries lists DingTalk accepts.

Only the people the run moved or disabled are looked at: a place someone holds for reasons this run did not touch
stays as it is. A group that includes sub-departments keeps an owner who is still a member somewhere below.
"""

from __future__ import annotations

from collections import defaultdict

from app.models.contacts import Department, Person
from app.sync.context import RunContext


async def release(ctx: RunContext, stage: str, person_ids: set[int], stamp: int) -> int:
    """Drop ``person_ids`` from the 部门主管 lists and 群主 places they may no longer hold; returns the number of
    departments changed (each marked for the push and logged)."""
    if not person_ids:
        return 0
    rows = await Department.filter(org_id=ctx.org.id, is_deleted=False).values_list(
        "id", "name", "path", "manager_ids", "group_owner_id", "group_include_sub", "ding_id", "source_id"
    )
    held = [
        r for r in rows if person_ids & {int(i) for i in r[3] or []} or (r[4] is not None and int(r[4]) in person_ids)
    ]
    if not held:
        return 0
    involved = {int(i) for r in held for i in [*(r[3] or []), r[4]] if i is not None} & person_ids
    people = {
        int(pid): (name, bool(active), int(main_id), str(main_path))
        for pid, name, active, main_id, main_path in await Person.filter(id__in=list(involved)).values_list(
            "id", "name", "is_active", "main_dept_id", "main_dept__path"
        )
    }
    other_ids: dict[int, set[int]] = defaultdict(set)
    other_paths: dict[int, list[str]] = defaultdict(list)
    links = Department.filter(other_people__id__in=list(involved), is_deleted=False)
    for pid, dept_id, path in await links.values_list("other_people__id", "id", "path"):
        other_ids[int(pid)].add(int(dept_id))
        other_paths[int(pid)].append(str(path))

    def direct(pid: int, dept_id: int) -> bool:
        _, active, main_id, _ = people[pid]
        return active and (main_id == dept_id or dept_id in other_ids[pid])

    def below(pid: int, path: str) -> bool:
        _, active, _, main_path = people[pid]
        return active and any(p.startswith(path) for p in [main_path, *other_paths[pid]])

    changed = 0
    for dept_id, name, path, managers, owner, include_sub, ding_id, source_id in held:
        managers = [int(m) for m in managers or []]
        kept = [m for m in managers if m not in involved or m not in people or direct(m, dept_id)]
        owner = int(owner) if owner is not None else None
        keeps_owner = owner is not None and (direct(owner, dept_id) or (include_sub and below(owner, path)))
        new_owner = None if owner in involved and owner in people and not keeps_owner else owner
        if kept == managers and new_owner == owner:
            continue
        await Department.filter(id=dept_id).update(
            manager_ids=kept, group_owner_id=new_owner, needs_push=True, feed_time=stamp
        )
        changed += 1
        gone = [people[m][0] for m in managers if m not in kept]
        places = []
        if gone:
            places.append(f"部门主管「{'」「'.join(gone)}」")
        if new_owner != owner and owner is not None:
            places.append(f"群主「{people[owner][0]}」")
        ctx.entry(
            stage,
            "update",
            "dept",
            name,
            local_id=dept_id,
            ding_id=ding_id or "",
            source_id=source_id,
            message=f"已不是本部门的人员（调动或置为无效），移除{'、'.join(places)}",
        )
    return changed
