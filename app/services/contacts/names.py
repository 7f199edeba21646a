"""Display names for the ids a contacts form or list shows, masked where they lie outside an admin's scope."""

from __future__ import annotations

from collections import defaultdict

from app.models.contacts import Department, Person
from app.services.contacts.scope import Scope


async def person_names(org_id: int, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await Person.filter(org_id=org_id, id__in=list(set(ids))).values_list("id", "name", "is_active")
    return {int(i): (n if a else f"{n}（无效）") for i, n, a in rows}


async def dept_names(org_id: int, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await Department.filter(org_id=org_id, id__in=list(set(ids)), is_deleted=False).values_list("id", "name")
    return {int(i): str(n) for i, n in rows}


async def scoped_names(scope: Scope, person_ids: list[int], dept_ids: list[int]) -> dict[str, str]:
    """Display names for ids a form shows; a department admin sees "（不在管理范围）" for what lies outside."""
    names: dict[str, str] = {}
    if person_ids:
        people = await Person.filter(org_id=scope.org_id, id__in=list(set(person_ids))).select_related("main_dept")
        other = await other_paths(list(set(person_ids)))
        for p in people:
            visible = scope.covers(p.main_dept.path) or any(scope.covers(x) for x in other.get(p.id, []))
            label = p.name if p.is_active else f"{p.name}（无效）"
            names[f"person:{p.id}"] = label if visible else "（不在管理范围）"
    if dept_ids:
        depts = await Department.filter(org_id=scope.org_id, id__in=list(set(dept_ids)), is_deleted=False)
        for d in depts:
            names[f"dept:{d.id}"] = d.name if scope.covers(d.path) else "（不在管理范围）"
    return names


async def other_paths(person_ids: list[int]) -> dict[int, list[str]]:
    rows = await Department.filter(other_people__id__in=person_ids, is_deleted=False).values_list(
        "other_people__id", "path"
    )
    result: dict[int, list[str]] = defaultdict(list)
    for pid, path in rows:
        result[int(pid)].append(str(path))
    return result
