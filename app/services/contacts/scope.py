"""What part of an org's contacts an admin may see and edit (guide 3.4).

Org admins, sub admins and the super admin see the whole org; a department admin sees the subtrees of their
departments and the people in them (main or other department). Every contacts service resolves a ``Scope`` first,
and every query and write goes through it, so the tree, lists, search, the picker and direct URLs agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from tortoise.expressions import Q

from app.models.contacts import Department, Person
from app.models.orgs import Org
from app.models.tree import subtree_range_q
from app.services.errors import NotFound, PermissionDenied
from app.services.permissions import Actor, Perm, authorize

T = TypeVar("T")
OUT_OF_SCOPE = "无权限：该部门或人员不在您管理的范围内"


@dataclass(frozen=True)
class Scope:
    org_id: int
    org_name: str
    paths: tuple[str, ...] | None  # None: the whole org; otherwise the subtrees a department admin manages

    @property
    def whole_org(self) -> bool:
        return self.paths is None

    def covers(self, path: str) -> bool:
        return self.paths is None or any(path.startswith(p) for p in self.paths)

    def dept_q(self, prefix: str = "") -> Q:
        """Live departments of the org inside the scope (``prefix`` for a related-field lookup, e.g. "main_dept__")."""
        query = Q(**{f"{prefix}org_id" if prefix else "org_id": self.org_id}, **{f"{prefix}is_deleted": False})
        if self.paths is not None:
            ranges = Q(id=-1) if not prefix else Q(**{f"{prefix}id": -1})
            for path in self.paths:
                ranges |= subtree_range_q(path, f"{prefix}path")
            query &= ranges
        return query


async def resolve(actor: Actor, org_id: int | None, perm: Perm = Perm.CONTACTS_VIEW) -> Scope:
    if org_id is None:
        raise NotFound("请先选择组织")
    actor = await authorize(actor, perm, org_id)
    org = await Org.get_or_none(id=org_id)
    if org is None:
        raise NotFound("组织不存在")
    dept_ids = actor.dept_scope(org_id)
    if dept_ids is None:
        return Scope(org_id, org.name, None)
    paths = await Department.filter(org_id=org_id, id__in=list(dept_ids), is_deleted=False).values_list(
        "path", flat=True
    )
    # Keep only the top-most paths: a department admin of both a node and its child sees the node's subtree once.
    minimal = sorted(set(paths), key=len)
    kept: list[str] = []
    for path in minimal:
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return Scope(org_id, org.name, tuple(sorted(kept)))


async def get_dept(scope: Scope, dept_id: int) -> Department:
    dept = await Department.get_or_none(id=dept_id, org_id=scope.org_id, is_deleted=False)
    if dept is None:
        raise NotFound("部门不存在或已删除")
    if not scope.covers(dept.path):
        raise PermissionDenied("contacts.scope", OUT_OF_SCOPE)
    return dept


async def other_dept_paths(person_id: int) -> list[tuple[int, str]]:
    rows = await Department.filter(other_people__id=person_id, is_deleted=False).values_list("id", "path")
    return [(int(i), str(p)) for i, p in rows]


async def get_person(scope: Scope, person_id: int) -> tuple[Person, list[tuple[int, str]]]:
    """The person with their other departments (id, path); refused when neither department is in scope."""
    person = await Person.get_or_none(id=person_id, org_id=scope.org_id).select_related("main_dept")
    if person is None:
        raise NotFound("人员不存在")
    others = await other_dept_paths(person_id)
    if not (scope.covers(person.main_dept.path) or any(scope.covers(p) for _, p in others)):
        raise PermissionDenied("contacts.scope", OUT_OF_SCOPE)
    return person, others


def person_scope_q(scope: Scope) -> Q:
    """People of the org whose main or one other department lies in the scope (joins: use .distinct())."""
    if scope.paths is None:
        return Q(org_id=scope.org_id)
    return Q(org_id=scope.org_id) & (scope.dept_q("main_dept__") | scope.dept_q("other_depts__"))


@dataclass
class Paged(Generic[T]):
    rows: list[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, (self.total + self.size - 1) // self.size)


def page_bounds(page: int, size: int, limit: int = 200) -> tuple[int, int]:
    size = max(1, min(size, limit))
    return (max(page, 1) - 1) * size, size
