"""Member counts of departments and who belongs to one, without N+1 queries.

Counts take one scan of (id, path) over the covered subtree, one GROUP BY main_dept_id over the active people and one
join for other-department memberships; Python folds them onto the requested nodes. A person counts once per node
even when both their main and an other department lie below it. The reads are plain SQL because they touch every
person of an org, and building 100,000 ORM rows would cost more than the query itself.
"""

from __future__ import annotations

import time
from collections import defaultdict

from tortoise import Tortoise
from tortoise.expressions import Q

from app.models.contacts import Department, Person
from app.models.tree import path_ids, subtree_range_q


def _conn():
    return Tortoise.get_connection("default")


async def _fetch(sql: str, values: list) -> list:
    """A read in plain SQL ("?" placeholders, numbered for PostgreSQL): the count queries touch every person of an
    org, and building 100,000 ORM rows would cost more than the query itself."""
    conn = _conn()
    if conn.capabilities.dialect == "postgres":
        parts = sql.split("?")
        sql = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))
    _, rows = await conn.execute_query(sql, values)
    return rows  # sqlite3.Row / asyncpg Record: both unpack like tuples


def _ranges(column: str, cover: list[str]) -> tuple[str, list[str]]:
    sql = " OR ".join(f"({column} >= ? AND {column} < ?)" for _ in cover)
    values = [v for path in cover for v in (path, path[:-1] + "0")]
    return f"({sql})", values


_MEMO_SECONDS = 5.0
_memo: dict[tuple, tuple[float, tuple]] = {}


def invalidate_counts(org_id: int | None = None) -> None:
    """Forget cached count inputs (every contacts write calls this; sync writes age out within seconds)."""
    for key in [k for k in _memo if org_id is None or k[0] == org_id]:
        _memo.pop(key, None)


async def _count_inputs(org_id: int, cover: list[str]) -> tuple[list, list, list]:
    """The covered departments, active people per main department, and other-department memberships.

    One page view asks for the same whole-org numbers several times (tree, sub-department list, detail): they
    are kept for a few seconds, per org and cover.
    """
    conn = _conn()
    database = str(getattr(conn, "filename", "") or getattr(conn, "database", ""))  # one process, several DBs (tests)
    key = (org_id, tuple(sorted(cover)), database)
    hit = _memo.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    in_cover, cover_values = _ranges("path", cover)
    rows = await _fetch(
        f"SELECT id, path FROM department WHERE org_id = ? AND is_deleted = ? AND {in_cover}",
        [org_id, False, *cover_values],
    )
    whole_org = any(p.count("/") == 2 for p in cover)
    if whole_org:
        per_dept = await _fetch(
            "SELECT main_dept_id, COUNT(*) FROM person WHERE org_id = ? AND is_active = ? GROUP BY main_dept_id",
            [org_id, True],
        )
        others = await _fetch(
            "SELECT pod.department_id, pod.person_id, p.main_dept_id FROM person_other_dept pod "
            "JOIN person p ON p.id = pod.person_id WHERE p.org_id = ? AND p.is_active = ?",
            [org_id, True],
        )
    else:
        d_cover, d_values = _ranges("d.path", cover)
        per_dept = await _fetch(
            "SELECT p.main_dept_id, COUNT(*) FROM person p JOIN department d ON d.id = p.main_dept_id "
            f"WHERE p.org_id = ? AND p.is_active = ? AND {d_cover} GROUP BY p.main_dept_id",
            [org_id, True, *d_values],
        )
        others = await _fetch(
            "SELECT pod.department_id, pod.person_id, p.main_dept_id FROM person_other_dept pod "
            "JOIN department d ON d.id = pod.department_id JOIN person p ON p.id = pod.person_id "
            f"WHERE p.org_id = ? AND p.is_active = ? AND {d_cover}",
            [org_id, True, *d_values],
        )
    result = (list(rows), list(per_dept), list(others))
    if len(_memo) > 64:
        _memo.clear()
    _memo[key] = (time.monotonic() + _MEMO_SECONDS, result)
    return result


async def subtree_counts(org_id: int, targets: dict[int, str], cover: list[str]) -> tuple[dict[int, int], set[int]]:
    """Active people at or below each target node, and which targets have live children.

    ``targets`` maps node id -> path (disjoint subtrees); ``cover`` are paths whose subtrees contain them all.
    Three queries whatever the number of nodes: the covered departments, people per main department, and
    other-department memberships.
    """
    rows, per_dept, others = await _count_inputs(org_id, cover)
    owner: dict[int, int] = {}
    with_children: set[int] = set()
    cover_ids = {c: path_ids(c)[-1] for c in cover}
    for dept_id, path in rows:
        # Plain string slicing instead of parsing every path: the owner is the cover node itself when it is a
        # target, else the cover's child that the path passes through.
        parent = int(path[:-1].rsplit("/", 2)[-2]) if path.count("/") > 2 else None
        if parent is not None and parent in targets:
            with_children.add(parent)
        for c, c_id in cover_ids.items():
            if path.startswith(c):
                if c_id in targets:
                    owner[dept_id] = c_id
                elif len(path) > len(c):
                    child = int(path[len(c) : path.index("/", len(c))])
                    if child in targets:
                        owner[dept_id] = child
                break
    counts: dict[int, int] = defaultdict(int)
    for dept_id, n in per_dept:
        target = owner.get(dept_id)
        if target is not None:
            counts[target] += n
    extra: dict[int, set[int]] = defaultdict(set)
    for dept_id, person_id, main_id in others:
        target = owner.get(dept_id)
        if target is not None and owner.get(main_id) != target:
            extra[target].add(person_id)
    return {t: counts.get(t, 0) + len(extra.get(t, ())) for t in targets}, with_children


async def _member_ids(org_id: int, dept: Department, include_sub: bool) -> Q:
    if include_sub:
        return subtree_range_q(dept.path, "main_dept__path") | subtree_range_q(dept.path, "other_depts__path")
    return Q(main_dept_id=dept.id) | Q(other_depts__id=dept.id)


async def count_members(org_id: int, dept: Department, include_sub: bool) -> int:
    """群人数: active people of the department (and below, when the group includes sub-departments)."""
    if include_sub:
        counts, _ = await subtree_counts(org_id, {dept.id: dept.path}, [dept.path])
        return counts[dept.id]
    main = await Person.filter(org_id=org_id, is_active=True, main_dept_id=dept.id).count()
    extra = await _fetch(
        "SELECT COUNT(*) FROM person_other_dept pod JOIN person p ON p.id = pod.person_id "
        "WHERE pod.department_id = ? AND p.org_id = ? AND p.is_active = ? AND p.main_dept_id <> ?",
        [dept.id, org_id, True, dept.id],
    )
    return main + int(extra[0][0])


async def other_member_ids(org_id: int, dept_id: int, *, active_only: bool = False) -> list[int]:
    """People who have ``dept_id`` among their other departments. Read from the link table itself: the ORM's
    ``other_depts__id`` filter becomes a LEFT JOIN from person that scans every person of the org."""
    rows = await _fetch(
        "SELECT p.id FROM person_other_dept pod JOIN person p ON p.id = pod.person_id "
        f"WHERE pod.department_id = ? AND p.org_id = ?{' AND p.is_active = ?' if active_only else ''} ORDER BY p.id",
        [dept_id, org_id, *([True] if active_only else [])],
    )
    return [int(r[0]) for r in rows]


async def first_member(org_id: int, dept: Department) -> Person | None:
    """The department's first person (main members first, by id): the default 群主 of the department group."""
    person = await Person.filter(org_id=org_id, main_dept_id=dept.id, is_active=True).order_by("id").first()
    if person is None:
        others = await other_member_ids(org_id, dept.id, active_only=True)
        person = await Person.get_or_none(id=others[0]) if others else None
    return person


async def count_members_by_id(org_id: int, dept: Department, person_id: int, include_sub: bool) -> bool:
    where = await _member_ids(org_id, dept, include_sub)
    return await Person.filter(Q(org_id=org_id, is_active=True, id=person_id) & where).exists()


async def active_people_below(org_id: int, dept: Department) -> int:
    where = subtree_range_q(dept.path, "main_dept__path") | subtree_range_q(dept.path, "other_depts__path")
    return await Person.filter(Q(org_id=org_id, is_active=True) & where).distinct().count()
