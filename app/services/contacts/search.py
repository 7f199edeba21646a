"""The keyword search of the contacts page (请输入关键字): departments by name, people by name, mobile or login
account, always inside the searching admin's scope."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q

from app.models.contacts import Department, Person
from app.services.contacts.scope import person_scope_q, resolve
from app.services.permissions import Actor


@dataclass
class Hit:
    kind: str  # "dept" | "person"
    id: int
    name: str
    detail: str  # the parent department / main department and mobile


@dataclass
class SearchResult:
    depts: list[Hit]
    people: list[Hit]
    more_depts: bool
    more_people: bool


async def search(
    actor: Actor, org_id: int | None, keyword: str, *, limit: int = 20, depts: bool = True, people: bool = True
) -> SearchResult:
    scope = await resolve(actor, org_id)
    keyword = (keyword or "").strip()[:64]
    dept_hits: list[Hit] = []
    person_hits: list[Hit] = []
    more_d = more_p = False
    if not keyword:
        return SearchResult([], [], False, False)
    if depts:
        rows = await (
            Department.filter(scope.dept_q() & Q(name__icontains=keyword))
            .order_by("depth", "name_sort", "id")  # by pinyin (app/core/pinyin.py), in the database
            .limit(limit + 1)
            .select_related("parent")
        )
        more_d = len(rows) > limit
        rows = rows[:limit]
        dept_hits = [Hit("dept", d.id, d.name, d.parent.name if d.parent else "") for d in rows]
    if people:
        # Names are Chinese (no case) and mobiles digits: plain LIKE; only login accounts need case folding.
        match = Q(name__contains=keyword) | Q(mobile__contains=keyword) | Q(login_name__icontains=keyword)
        query = Person.filter(person_scope_q(scope) & Q(is_active=True) & match)
        if not scope.whole_org:
            query = query.distinct()
        # Ordered by id, the scan stops after limit + 1 matches; the few hits are then sorted by name.
        rows = await query.order_by("id").limit(limit + 1).select_related("main_dept")
        more_p = len(rows) > limit
        rows = sorted(rows[:limit], key=lambda p: (p.name_sort, p.id))
        person_hits = [
            Hit(
                "person", p.id, p.name, " ".join(x for x in (p.main_dept.name, p.mobile or "", p.login_name or "") if x)
            )
            for p in rows[:limit]
        ]
    return SearchResult(dept_hits, person_hits, more_d, more_p)
