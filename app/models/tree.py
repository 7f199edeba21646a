"""Materialised paths of the department tree ("/1/5/23/"): one indexed prefix query finds a whole subtree.

Kept in the models layer so that both services (admin edits) and the sync engine (DingTalk/EKP imports) maintain
paths the same way.
"""

from __future__ import annotations

from tortoise.expressions import Q

from app.models.contacts import Department


def child_path(parent: Department | None, dept_id: int) -> str:
    return f"{parent.path if parent else '/'}{dept_id}/"


async def assign_path(dept: Department, parent: Department | None) -> None:
    """Set path/depth of a department that was just created (its id is known only after the insert)."""
    dept.path = child_path(parent, dept.id)
    dept.depth = (parent.depth + 1) if parent else 0
    await dept.save(update_fields=["path", "depth"])


async def create_department(**values) -> Department:
    parent: Department | None = values.get("parent")
    dept = await Department.create(path="/", **values)
    await assign_path(dept, parent)
    return dept


def is_in_subtree(candidate: Department, root: Department) -> bool:
    return candidate.path.startswith(root.path)


async def move_subtree(dept: Department, new_parent: Department) -> None:
    """Re-parent ``dept`` and rewrite the paths of everything below it in one statement per level shift."""
    if is_in_subtree(new_parent, dept):
        raise ValueError("a department cannot move under itself or its own descendants")
    old_prefix = dept.path
    new_prefix = child_path(new_parent, dept.id)
    shift = (new_parent.depth + 1) - dept.depth
    dept.parent = new_parent
    dept.path = new_prefix
    dept.depth = new_parent.depth + 1
    await dept.save(update_fields=["parent_id", "path", "depth"])
    descendants = await Department.filter(org_id=dept.org_id, path__startswith=old_prefix).exclude(id=dept.id)
    for child in descendants:
        child.path = new_prefix + child.path[len(old_prefix) :]
        child.depth += shift
    if descendants:
        await Department.bulk_update(descendants, fields=["path", "depth"], batch_size=500)


def subtree_range_q(path: str, field: str = "path") -> Q:
    """Everything under ``path`` (itself included) as a range, which every database can answer from an index.

    Paths are digits and slashes; "/" sorts just before "0", so the subtree of "/1/5/" is ["/1/5/", "/1/50").
    LIKE 'prefix%' would need a case-sensitive collation (SQLite) or text_pattern_ops (PostgreSQL) to use one.
    """
    return Q(**{f"{field}__gte": path, f"{field}__lt": path[:-1] + "0"})


def path_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def subtree_q(paths: list[str]):
    """A Q matching every department under any of ``paths`` (themselves included)."""
    query = Q()
    for path in paths:
        query |= Q(path__startswith=path)
    return query


__all__ = [
    "assign_path",
    "child_path",
    "create_department",
    "is_in_subtree",
    "move_subtree",
    "path_ids",
    "subtree_q",
    "subtree_range_q",
]
