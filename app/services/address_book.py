"""The address book (地址本) behind the picker dialog: everything it shows is cut to the admin's scope.

The dialog itself is ``app.components.address_book.pick``; the services that store what was picked still check
scope themselves (a picker is a convenience, not a permission).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.services.contacts import departments, names, people
from app.services.contacts import search as contacts_search
from app.services.contacts.departments import DeptNode
from app.services.contacts.scope import Paged, resolve
from app.services.permissions import Actor

Kind = Literal["person", "dept"]


@dataclass(frozen=True)
class PickedItem:
    kind: Kind
    id: int
    name: str
    detail: str = ""  # department: its parent; person: main department and mobile

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


async def roots(actor: Actor, org_id: int | None) -> list[DeptNode]:
    return await departments.tree_children(actor, org_id, None, with_counts=False)


async def children(actor: Actor, org_id: int | None, dept_id: int) -> list[DeptNode]:
    return await departments.tree_children(actor, org_id, dept_id, with_counts=False)


async def members(
    actor: Actor, org_id: int | None, dept_id: int, *, page: int = 1, size: int = 50
) -> Paged[PickedItem]:
    result = await people.list_members(actor, org_id, dept_id, page=page, size=size)
    items = [
        PickedItem("person", r.id, r.name, " ".join(x for x in (r.main_dept_name, r.mobile) if x)) for r in result.rows
    ]
    return Paged(items, result.total, result.page, result.size)


async def search(
    actor: Actor, org_id: int | None, keyword: str, mode: str = "both", limit: int = 30
) -> list[PickedItem]:
    found = await contacts_search.search(
        actor, org_id, keyword, limit=limit, depts=mode in ("dept", "both"), people=mode in ("person", "both")
    )
    return [PickedItem(h.kind, h.id, h.name, h.detail) for h in found.depts + found.people]  # type: ignore[arg-type]


async def resolve_items(actor: Actor, org_id: int | None, keys: list[tuple[str, int]]) -> list[PickedItem]:
    """Names for ids chosen earlier (the picker's initial 已选 list); items outside the scope stay masked."""
    scope = await resolve(actor, org_id)
    person_ids = [i for k, i in keys if k == "person"]
    dept_ids = [i for k, i in keys if k == "dept"]
    labels = await names.scoped_names(scope, person_ids, dept_ids)
    found = {key: PickedItem(key.split(":")[0], int(key.split(":")[1]), name) for key, name in labels.items()}  # type: ignore[arg-type]
    return [found[f"{k}:{i}"] for k, i in keys if f"{k}:{i}" in found]


__all__ = ["PickedItem", "children", "members", "resolve_items", "roots", "search"]
