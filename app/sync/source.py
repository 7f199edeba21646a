"""Scenario 1: EKP -> LanDing through EKP's org export.

Incremental from the per-type cursors in ``SyncSettings.cursors``; full when a type has no cursor (清空同步时间戳).
A full sync is a diff against what we hold, never "delete everything and add again", so DingTalk ids survive.

Order: departments parent-first (upserts keyed by ``source_id``), then people page by page (bulk writes), then the
removals: people disabled in EKP (``isAvailable`` false) or gone from it (hard deletes, found in a full sync through
``getElementsBaseInfo``), then departments child-first, each only when empty. The delete threshold is checked on the
whole set before anything is removed. A cursor is saved only after what it covers is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app import runtime
from app.core.change_tracking import now_ms
from app.models import tree
from app.models.contacts import Department, Person
from app.models.sync import SyncSettings
from app.sync import bulk, fields, member_roles, sources, threshold
from app.sync.context import ConfigFailure, RunContext
from app.sync.pipeline import GroupWriter
from app.sync.sources import DEPT, PERSON, SourceAdapter, SourceError

log = logging.getLogger(__name__)

STAGE = "source"
WRITE_BATCH = 500
PEOPLE_PER_COMMIT = 10_000  # pages that queued up while a write ran are committed together, up to this many people
SEEN_SUFFIX = "_seen"
MAX_SEEN = 5000
# Person columns the source sets (from the field table) and the rows this stage reads and writes.
PERSON_FIELDS = (*(f.local for f in fields.PERSON_FROM_SOURCE), "main_dept_id", "is_active")
PERSON_COLUMNS = ("id", "source_id", *PERSON_FIELDS, "ding_userid")
PERSON_UPDATE_COLUMNS = (*PERSON_FIELDS, "source_id", "needs_push", "feed_time")
NEW_PERSON_COLUMNS = ("org_id", *PERSON_FIELDS, "source_id", "needs_push", "feed_time")
DEPT_COLUMNS = ("id", "parent_id", "name", "order", "path", "depth", "source_id", "ding_id", "is_deleted")
DEPT_UPDATE_COLUMNS = ("source_id", "name", "order", "is_deleted", "needs_push", "feed_time")
ID_BY_SOURCE = ("source_id", "id")
NEW_DEPT_COLUMNS = ("org_id", "parent_id", "name", "order", "path", "depth", "source_id", "needs_push", "feed_time")
_T = TypeVar("_T")
SourceElement = Any  # an element as a source adapter yields it (attributes listed in app.sync.sources)


# The stage reads and writes plain rows: ORM objects for 10,000 departments and 100,000 people cost more than the
# database work (and an incremental run would spend most of its time loading the department tree).
@dataclass(slots=True)
class _Dept:
    id: int
    parent_id: int | None
    name: str
    order: int
    path: str
    depth: int
    source_id: str | None
    ding_id: int | None
    is_deleted: bool


class _Person:
    """A person row of ``PERSON_COLUMNS`` (attributes named after the columns, so the field table drives it)."""

    __slots__ = PERSON_COLUMNS

    def __init__(self, *values: Any) -> None:
        for name, value in zip(PERSON_COLUMNS, values, strict=True):
            setattr(self, name, value)


def _dept_row(row: tuple) -> _Dept:
    dept = _Dept(*row)
    dept.is_deleted = bool(dept.is_deleted)  # SQLite answers 0/1
    return dept


def _person_row(row: tuple) -> _Person:
    person = _Person(*row)
    person.is_active = bool(person.is_active)
    return person


async def _prefetched(pages: AsyncIterator[_T]) -> AsyncIterator[_T]:
    """``pages`` with the next one already being fetched while the caller applies the current one (EKP answers
    from another machine). Pages still come one after another, so cursors keep their order."""
    ahead: asyncio.Future = asyncio.ensure_future(anext(pages, None))
    try:
        while (page := await ahead) is not None:
            ahead = asyncio.ensure_future(anext(pages, None))
            yield page
    finally:
        if not ahead.done():
            ahead.cancel()
        with contextlib.suppress(BaseException):
            await ahead


@dataclass(slots=True)
class _PeoplePage:
    """One page of people planned: who is added and changed, the built statements, and the lines to log."""

    elements: list[SourceElement]
    cursor: str | None
    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[_Person] = field(default_factory=list)
    ignored: list[tuple[str, str, str]] = field(default_factory=list)  # name, source id, why
    updated: bulk.Statement | None = None
    added: bulk.Statement | None = None


def make_source(settings: SyncSettings, rt: runtime.Runtime, page_size: int | None = None) -> SourceAdapter:
    config = sources.SourceConfig(
        url=settings.source_url,
        user=settings.source_user,
        password=settings.source_password,
        transport=settings.source_transport,
        page_size=page_size or rt.settings.ekp_page_size,
        timeout_seconds=rt.settings.ekp_timeout_seconds,
    )
    try:
        return sources.make(settings.source_type, rt.http, config)
    except SourceError as exc:
        raise ConfigFailure(str(exc)) from exc


def _unique_clash(exc: IntegrityError) -> bool:
    """A login name or mobile already taken (worth retrying row by row), not a schema problem (NOT NULL...)."""
    text = str(exc).lower()
    return "unique" in text or "duplicate key" in text


class SourceStage:
    def __init__(self, ctx: RunContext, source: SourceAdapter) -> None:
        self.ctx = ctx
        self.source = source
        self.org_id = ctx.org.id
        self.cursors: dict[str, Any] = dict(ctx.settings.cursors or {})
        if ctx.full:
            self.cursors = {}
        self.new_cursors: dict[str, str] = {}
        self.depts: dict[int, _Dept] = {}
        self.by_source: dict[str, _Dept] = {}
        self.root: _Dept | None = None
        self.dept_removals: dict[int, str] = {}  # local id -> why
        self.person_removals: dict[int, str] = {}
        self.moved: set[int] = set()  # people whose main department this run changed
        self.stamp = now_ms()
        self.recent: dict[str, dict[str, str]] = {}
        self.present: dict[str, set[str]] = {}  # full runs: ids the source holds now, read before anything is applied
        self.match_unlinked = True
        self.linked_before = True
        self.added: set[str] = set()  # source ids of the people this run inserted (or is inserting)
        self.saved_until: str | None = None  # the person cursor saved so far

    def count(self, kind: str, key: str, n: int = 1) -> None:
        self.ctx.count(STAGE, kind, key, n)

    def known(self, kind: str) -> dict[str, str] | None:
        """Elements inside the overlap window that an earlier run already applied (id -> alterTime)."""
        seen = self.cursors.get(f"{kind}{SEEN_SUFFIX}")
        return dict(seen) if isinstance(seen, dict) else None

    def remember(self, kind: str, elements: list[SourceElement]) -> None:
        seen = self.recent.setdefault(str(kind), {})
        for e in elements:
            seen[e.id] = e.alter_time

    async def save_cursor(self, kind: str, value: str | None) -> None:
        if not value:
            return
        self.cursors[str(kind)] = value
        # Keep what was applied inside the overlap window, so the next run's re-read of it costs nothing.
        floor = self.source.cursor_floor(value)
        recent = {i: t for i, t in self.recent.get(str(kind), {}).items() if t >= floor}
        # The floor only moves forward: forget what fell below it, so each save costs one page, not the whole run.
        self.recent[str(kind)] = recent.copy()
        previous = self.known(kind) or {}
        recent.update({i: t for i, t in previous.items() if t >= floor and i not in recent})
        self.cursors[f"{kind}{SEEN_SUFFIX}"] = dict(list(recent.items())[-MAX_SEEN:])
        settings = self.ctx.settings
        settings.cursors = {str(k): v for k, v in self.cursors.items()}
        await SyncSettings.filter(id=settings.id).update(cursors=settings.cursors)

    # -- departments --------------------------------------------------------------------------------------------

    async def load_departments(self) -> None:
        where = '"org_id" = {} ORDER BY "depth", "id"'
        rows = [_dept_row(r) for r in await bulk.select(Department, DEPT_COLUMNS, where, [self.org_id])]
        self.depts = {d.id: d for d in rows}
        self.by_source = {d.source_id: d for d in rows if d.source_id}
        self.root = next((d for d in rows if d.parent_id is None), None)
        if self.root is None:
            raise ConfigFailure("组织没有根部门，请先绑定钉钉组织")

    async def departments(self) -> str | None:
        """Read and apply department changes; returns the cursor to save once removals are settled."""
        self.ctx.stage(STAGE, step="读取EKP部门")
        cursor = self.cursors.get(DEPT)
        elements: dict[str, SourceElement] = {}
        last = cursor
        async for page in self.source.iter_changes(DEPT, cursor, known=self.known(DEPT)):
            self.remember(DEPT, page.elements)
            for e in page.elements:
                elements[e.id] = e  # the later change of one element wins
            last = page.cursor or last
        await self.load_departments()
        self.count("dept", "fetched", len(elements))
        self.ctx.set_total(len(elements), "部门")
        available = {i: e for i, e in elements.items() if e.is_available}
        for e in elements.values():
            if not e.is_available and e.id in self.by_source and not self.by_source[e.id].is_deleted:
                self.dept_removals[self.by_source[e.id].id] = "EKP中已禁用"
        await self._apply_departments(available)
        if cursor is None:
            present = self.present.get(DEPT) or await self.source.present_ids(DEPT)
            for source_id, dept in self.by_source.items():
                if source_id not in present and not dept.is_deleted and dept.parent_id is not None:
                    self.dept_removals[dept.id] = "EKP中已删除"
        await self.ctx.flush()
        return last

    def _parent_of(self, e: SourceElement) -> _Dept | None:
        if not e.parent:
            return self.root
        parent = self.by_source.get(e.parent)
        return parent if parent is not None and not parent.is_deleted else None

    async def _apply_departments(self, pending: dict[str, SourceElement]) -> None:
        # The top org element is our root department (DingTalk's root, id 1).
        for e in list(pending.values()):
            if self.source.is_top(e) and self.root is not None:
                if self.root.source_id != e.id:
                    self.root.source_id = e.id
                    await Department.filter(id=self.root.id).update(source_id=e.id)
                    self.by_source[e.id] = self.root
                del pending[e.id]
                self.ctx.advance()
        children_of_root_names: dict[tuple[int | None, str], _Dept] = {
            (d.parent_id, d.name): d for d in self.depts.values() if not d.source_id and d.parent_id is not None
        }
        while pending:
            ready = [e for e in pending.values() if self._parent_of(e) is not None]
            if not ready:
                break
            creates: list[tuple[SourceElement, _Dept]] = []
            updates: list[_Dept] = []
            for e in ready:
                del pending[e.id]
                parent = self._parent_of(e)
                assert parent is not None
                name = (e.name or e.id)[:64]
                order = int(e.order or 0)
                dept = self.by_source.get(e.id) or children_of_root_names.pop((parent.id, name), None)
                if dept is None:
                    creates.append((e, parent))
                    continue
                changed = dept.source_id != e.id or dept.name != name or dept.order != order or dept.is_deleted
                if dept.parent_id != parent.id and not parent.path.startswith(dept.path):
                    await self._move(dept, parent)
                    changed = True
                if not changed:
                    self.ctx.advance()
                    continue
                dept.source_id, dept.name, dept.order, dept.is_deleted = e.id, name, order, False
                self.by_source[e.id] = dept
                updates.append(dept)
                self.count("dept", "updated")
                self.ctx.entry(
                    STAGE,
                    "update",
                    "dept",
                    name,
                    local_id=dept.id,
                    ding_id=dept.ding_id,
                    source_id=e.id,
                    message="更新成功",
                )
            await bulk.update_rows(
                Department,
                DEPT_UPDATE_COLUMNS,
                [(d.source_id, d.name, d.order, d.is_deleted, True, self.stamp, d.id) for d in updates],
            )
            await self._create_departments(creates)
            self.ctx.advance(len(ready))
            await self.ctx.flush()
        for e in pending.values():  # parent neither in EKP's answer nor here
            self.count("dept", "ignored")
            self.ctx.entry(
                STAGE,
                "ignore",
                "dept",
                e.name,
                source_id=e.id,
                ok=False,
                message=f"忽略新增：上级部门 {e.parent} 不存在",
            )

    async def _move(self, dept: _Dept, parent: _Dept) -> None:
        """Re-parent a department and its subtree (rare: ORM objects for the two, rows reloaded below it)."""
        moving = await Department.get(id=dept.id)
        await tree.move_subtree(moving, await Department.get(id=parent.id))
        dept.parent_id = parent.id
        rows = await Department.filter(org_id=self.org_id, path__startswith=moving.path).values_list(
            "id", "path", "depth"
        )
        for row_id, path, depth in rows:
            if row_id in self.depts:
                self.depts[row_id].path, self.depts[row_id].depth = path, depth

    async def _create_departments(self, creates: list[tuple[SourceElement, _Dept]]) -> None:
        for start in range(0, len(creates), WRITE_BATCH):
            chunk = creates[start : start + WRITE_BATCH]
            rows = [
                (
                    self.org_id,
                    parent.id,
                    (e.name or e.id)[:64],
                    int(e.order or 0),
                    "/",
                    parent.depth + 1,
                    e.id,
                    True,
                    self.stamp,
                )
                for e, parent in chunk
            ]
            parents = {e.id: parent for e, parent in chunk}
            async with in_transaction():
                await bulk.insert_new(Department, NEW_DEPT_COLUMNS, rows)
                ids = dict(
                    await bulk.select_in(
                        Department, ("source_id", "id"), "source_id", parents, '"org_id" = {}', [self.org_id]
                    )
                )
                await bulk.update_rows(
                    Department, ("path",), [(tree.child_path(parents[sid], ids[sid]), ids[sid]) for sid in parents]
                )
            for (e, parent), row in zip(chunk, rows, strict=True):
                dept_id = ids[e.id]
                dept = _Dept(
                    dept_id, parent.id, row[2], row[3], tree.child_path(parent, dept_id), row[5], e.id, None, False
                )
                self.depts[dept.id] = dept
                self.by_source[e.id] = dept
                self.count("dept", "added")
                self.ctx.entry(
                    STAGE, "add", "dept", dept.name, local_id=dept.id, source_id=dept.source_id, message="新增成功"
                )

    # -- people ---------------------------------------------------------------------------------------------------

    async def people(self) -> str | None:
        self.ctx.stage(STAGE, step="读取EKP人员")
        cursor = self.cursors.get(PERSON)
        dept_ids = {sid: d.id for sid, d in self.by_source.items() if not d.is_deleted}
        # People not linked to the source yet (pulled from DingTalk, added by hand) are matched by mobile or login;
        # this stage only ever adds linked people, so when there are none now there is nothing to match all run.
        # (One a DingTalk callback adds meanwhile makes its EKP twin a logged mobile clash; the next full run links it.)
        self.match_unlinked = await Person.filter(org_id=self.org_id, source_id=None).exists()
        # Likewise, on the first import nobody is linked yet: only people this run added can be found again.
        self.linked_before = await Person.filter(org_id=self.org_id, source_id__not_isnull=True).exists()
        self.saved_until = cursor
        last = cursor
        # Page N+1 is planned while page N is written (app/sync/pipeline.py); the lookups wait for the writes.
        writer = GroupWriter(self._commit_people, lambda planned: len(planned.elements), max_rows=PEOPLE_PER_COMMIT)
        pages = self.source.iter_changes(PERSON, cursor, known=self.known(PERSON))
        try:
            async for page in _prefetched(pages):
                self.count("person", "fetched", len(page.elements))
                if self.ctx.progress is not None:
                    self.ctx.progress.total += len(page.elements)
                if self._must_look_up(page.elements):
                    await writer.settled()  # the lookups must see the pages before this one
                last = page.cursor or last
                await writer.put(await self._plan_people(page.elements, dept_ids, last))
            await writer.settled()
        except BaseException:
            await writer.abandon()
            raise
        if cursor is None and self.linked_before:
            # Hard deletes: linked people the source no longer holds. On the first import everyone linked was read
            # just now, so nobody can be missing (one EKP deletes meanwhile is found by the next full run).
            present = self.present.get(PERSON) or await self.source.present_ids(PERSON)
            where = '"org_id" = {} AND "is_active" = {} AND "source_id" IS NOT NULL'
            rows = await bulk.select(Person, ("id", "source_id"), where, [self.org_id, True])
            for pid, source_id in rows:
                if source_id not in present:
                    self.person_removals[pid] = "EKP中已删除"
        await self.ctx.flush()
        return last if last != self.saved_until else None

    def _must_look_up(self, elements: list[SourceElement]) -> bool:
        """Whether planning this page reads people from the database (always, but on a first import only when the
        page repeats someone this run added)."""
        return self.linked_before or self.match_unlinked or any(e.id in self.added for e in elements)

    async def _people_by(self, column: str, keys: list[Any], where: str, *params: Any) -> list[_Person]:
        """People of this org whose ``column`` is one of ``keys`` (and who match ``where``)."""
        where = '"org_id" = {}' + (f" AND {where}" if where else "")
        rows = await bulk.select_in(Person, PERSON_COLUMNS, column, keys, where, [self.org_id, *params])
        return [_person_row(r) for r in rows]

    async def _plan_people(
        self, elements: list[SourceElement], dept_ids: dict[str, int], cursor: str | None
    ) -> _PeoplePage:
        """What one page changes, with its statements built: everything but the database writes."""
        ids = [e.id for e in elements if self.linked_before or e.id in self.added]
        existing = {p.source_id: p for p in await self._people_by("source_id", ids, "")} if ids else {}
        unlinked_mobiles = [e.mobile_no for e in elements if e.id not in existing and e.mobile_no]
        unlinked_logins = [e.login_name for e in elements if e.id not in existing and e.login_name]
        by_mobile: dict[str, _Person] = {}
        by_login: dict[str, _Person] = {}
        if self.match_unlinked and (unlinked_mobiles or unlinked_logins):
            unlinked = '"source_id" IS NULL'
            for p in await self._people_by("mobile", unlinked_mobiles, unlinked):
                by_mobile[p.mobile or ""] = p
            for p in await self._people_by("login_name", unlinked_logins, unlinked):
                by_login[p.login_name or ""] = p
        planned = _PeoplePage(elements, cursor)
        for e in elements:
            person = existing.get(e.id) or by_mobile.get(e.mobile_no or "") or by_login.get(e.login_name or "")
            if not e.is_available:
                if person is not None and person.is_active:
                    self.person_removals[person.id] = "EKP中已禁用"
                self.ctx.advance()
                continue
            main = dept_ids.get(e.parent or "")
            if main is None:
                if person is None:
                    self.count("person", "ignored")
                    planned.ignored.append((e.name, e.id, f"忽略新增：所在部门 {e.parent} 不存在或已删除"))
                    self.ctx.advance()
                    continue
                main = person.main_dept_id
            values = fields.person_source_values(e, main)
            if person is None:
                planned.creates.append({**values, "source_id": e.id})
                continue
            self.person_removals.pop(person.id, None)
            if person.source_id == e.id and all(getattr(person, k) == v for k, v in values.items()):
                self.ctx.advance()
                continue
            if person.main_dept_id != values["main_dept_id"]:
                self.moved.add(person.id)
            for k, v in values.items():
                setattr(person, k, v)
            person.source_id = e.id
            planned.updates.append(person)
        # The people a page adds count as added from now on, so a later page naming one of them waits for this one's
        # write before it looks them up (``_must_look_up``).
        self.added.update(p["source_id"] for p in planned.creates)
        # Every column of a changed person in one statement per row: unchanged columns get the value they already
        # hold, so this is the same as updating only what changed.
        stamp, updates, creates = self.stamp, planned.updates, planned.creates
        planned.updated = bulk.update_statement(
            Person,
            PERSON_UPDATE_COLUMNS,
            [(*(getattr(p, k) for k in PERSON_FIELDS), p.source_id, True, stamp, p.id) for p in updates],
        )
        planned.added = bulk.insert_new_statement(
            Person,
            NEW_PERSON_COLUMNS,
            ((self.org_id, *(p[k] for k in PERSON_FIELDS), p["source_id"], True, stamp) for p in creates),
            returning=ID_BY_SOURCE,
        )
        return planned

    async def _commit_people(self, group: Sequence[_PeoplePage]) -> None:
        """Write planned pages in one transaction, log them, and move the cursor past the last one when nothing
        waits for the removals."""
        for planned in group:
            for name, source_id, message in planned.ignored:
                self.ctx.entry(STAGE, "ignore", "person", name, source_id=source_id, ok=False, message=message)
        await self._write_people(group)
        # Remembered only now: a cursor's overlap window lists what is committed, never a page still being written.
        for planned in group:
            self.remember(PERSON, planned.elements)
        cursor = group[-1].cursor
        if not self.person_removals and cursor != self.saved_until:
            await self.save_cursor(PERSON, cursor)  # committed, nothing pending: safe to move on
            self.saved_until = cursor

    async def _write_people(self, group: Sequence[_PeoplePage]) -> None:
        creates = [values for planned in group for values in planned.creates]
        updates = [person for planned in group for person in planned.updates]
        returned: list[tuple] | None = []
        try:
            async with in_transaction():
                for planned in group:
                    await planned.updated.run()
                    rows = await planned.added.run()
                    returned = None if rows is None or returned is None else returned + rows
        except IntegrityError as exc:
            if not _unique_clash(exc):
                raise  # a schema problem: the run ends 失败 with the database's own words, never retried silently
            # A login name or mobile clashes with someone else: write one by one and report the clashes.
            log.info("person batch of org %s has a login/mobile clash, writing one by one: %s", self.org_id, exc)
            new = [Person(org_id=self.org_id, needs_push=True, feed_time=self.stamp, **values) for values in creates]
            await self._write_people_one_by_one(new, await self._orm_people(updates), list(PERSON_UPDATE_COLUMNS))
            return
        for person in updates:
            self._person_entry("update", person)
        if creates:
            if returned is not None:
                ids = dict(returned)
            else:
                keys = [p["source_id"] for p in creates]
                ids = dict(
                    await bulk.select_in(Person, ID_BY_SOURCE, "source_id", keys, '"org_id" = {}', [self.org_id])
                )
            for values in creates:
                self.count("person", "added")
                self.ctx.entry(
                    STAGE,
                    "add",
                    "person",
                    values["name"],
                    local_id=ids.get(values["source_id"]),
                    source_id=values["source_id"],
                    message="新增成功",
                )
        self.ctx.advance(len(creates) + len(updates))
        await self.ctx.flush()

    async def _orm_people(self, rows: list[_Person]) -> list[Person]:
        """ORM objects carrying the new values of ``rows`` (for the one-by-one path after a rolled back batch)."""
        loaded = {p.id: p for p in await Person.filter(id__in=[r.id for r in rows])}
        people = []
        for row in rows:
            person = loaded[row.id]
            person.update_from_dict({k: getattr(row, k) for k in PERSON_FIELDS})
            person.source_id = row.source_id
            person.needs_push = True
            person.feed_time = self.stamp
            people.append(person)
        return people

    async def _write_people_one_by_one(self, creates: list[Person], updates: list[Person], fields: list[str]) -> None:
        for action, people in (("update", updates), ("add", creates)):
            for person in people:
                try:
                    if action == "add":
                        await person.save()
                    else:
                        await person.save(update_fields=fields)
                except IntegrityError as exc:
                    self.count("person", "ignored" if action == "add" else "update_failed")
                    self.ctx.entry(
                        STAGE,
                        action,
                        "person",
                        person.name,
                        local_id=person.id or None,
                        source_id=person.source_id,
                        ok=False,
                        message=f"{'新增' if action == 'add' else '更新'}失败：登录账号或手机号与其他人员重复（{exc}）",
                    )
                    continue
                self._person_entry(action, person)
                await self.ctx.tick()

    def _person_entry(self, action: str, person: Person | _Person) -> None:
        self.count("person", "added" if action == "add" else "updated")
        self.ctx.entry(
            STAGE,
            action,
            "person",
            person.name,
            local_id=person.id,
            ding_id=person.ding_userid,
            source_id=person.source_id,
            message="新增成功" if action == "add" else "更新成功",
        )

    # -- removals -----------------------------------------------------------------------------------------------

    async def removals(self) -> None:
        self._keep_refused()
        if not self.person_removals and not self.dept_removals:
            return
        total_people = await Person.filter(org_id=self.org_id, is_active=True).count()
        total_depts = sum(1 for d in self.depts.values() if not d.is_deleted and d.parent_id is not None)
        people_rows = await self._people_by("id", list(self.person_removals), '"is_active" = {}', True)
        items = [threshold.removal("person", p, self.person_removals[p.id]) for p in people_rows]
        items += [
            threshold.removal("dept", self.depts[i], why) for i, why in self.dept_removals.items() if i in self.depts
        ]
        if not threshold.allow_removals(self.ctx, STAGE, items, total_depts, total_people):
            # Nothing is removed and the cursors stay where they are, so the next run sees these removals again.
            self.person_removals.clear()
            self.dept_removals.clear()
            return
        self.ctx.set_total(len(self.person_removals) + len(self.dept_removals), "删除")
        people = sorted(
            await self._people_by("id", list(self.person_removals), '"is_active" = {}', True),
            key=lambda p: p.id,
        )
        await bulk.update_rows(
            Person, ("is_active", "needs_push", "feed_time"), [(False, True, self.stamp, p.id) for p in people]
        )
        for person in people:
            self.count("person", "deleted")
            self.ctx.entry(
                STAGE,
                "disable",
                "person",
                person.name,
                local_id=person.id,
                ding_id=person.ding_userid,
                source_id=person.source_id,
                message=f"{self.person_removals[person.id]}，人员置为无效",
            )
        self.ctx.advance(len(people))
        await self._remove_departments()
        await self.ctx.flush()

    def _keep_refused(self) -> None:
        """Removals an admin refused (拒绝 on a blocked run) are not repeated: one line each, nothing removed."""
        for kind, pending in (("person", self.person_removals), ("dept", self.dept_removals)):
            for local_id in threshold.kept(self.ctx, kind) & set(pending):
                why = pending.pop(local_id)
                self.ctx.entry(
                    STAGE, "keep", kind, "", local_id=local_id, message=f"{why}，但管理员已拒绝删除，保留（未删除）"
                )

    async def check_health(self) -> None:
        """Source-health guard (full runs): far fewer elements than we hold from the source means a broken source
        (an empty export, a wrong scope), not a mass departure. Checked before anything is applied."""
        guard = int(self.ctx.settings.source_drop_guard)
        if guard >= 100:
            return
        held = {
            DEPT: await Department.filter(org_id=self.org_id, is_deleted=False, source_id__isnull=False)
            .exclude(parent_id=None)
            .count(),
            PERSON: await Person.filter(org_id=self.org_id, is_active=True, source_id__isnull=False).count(),
        }
        for kind, label in ((DEPT, "部门"), (PERSON, "人员")):
            have = held[kind]
            if have < 10:
                continue  # too few to judge (a first import holds none): nothing to read for the guard
            self.present[kind] = await self.source.present_ids(kind)
            now = len(self.present[kind])
            if now < have * (100 - guard) / 100:
                raise ConfigFailure(
                    f"源系统数据异常：源系统现有{label}{now}条，比本系统已同步的{have}条少"
                    f"{100 - 100 * now // have}%，超过源数据保护阈值{guard}%。已视为源系统故障，本次同步未做任何修改；"
                    "请检查源系统的组织架构接出服务。"
                )

    async def release_member_roles(self) -> None:
        left = self.moved | set(self.person_removals)
        changed = await member_roles.release(self.ctx, STAGE, left, self.stamp)
        if changed:
            self.count("dept", "updated", changed)
            await self.ctx.flush()

    async def _remove_departments(self) -> None:
        doomed = sorted((self.depts[i] for i in self.dept_removals if i in self.depts), key=lambda d: -d.depth)
        for dept in doomed:
            children = await Department.filter(parent_id=dept.id, is_deleted=False).count()
            members = await Person.filter(main_dept_id=dept.id, is_active=True).count()
            why = self.dept_removals[dept.id]
            if children or members:
                self.count("dept", "delete_failed")
                self.ctx.entry(
                    STAGE,
                    "delete",
                    "dept",
                    dept.name,
                    local_id=dept.id,
                    ding_id=dept.ding_id,
                    source_id=dept.source_id,
                    ok=False,
                    message=f"{why}，但部门下还有{children}个子部门、{members}名人员，暂不删除",
                )
                continue
            dept.is_deleted = True
            await Department.filter(id=dept.id).update(is_deleted=True, needs_push=True, feed_time=self.stamp)
            self.count("dept", "deleted")
            self.ctx.entry(
                STAGE,
                "delete",
                "dept",
                dept.name,
                local_id=dept.id,
                ding_id=dept.ding_id,
                source_id=dept.source_id,
                message=f"{why}，部门已删除",
            )
            await self.ctx.tick()


async def run(ctx: RunContext, *, page_size: int | None = None) -> None:
    settings = ctx.settings
    if not settings.source_url:
        raise ConfigFailure("同步数据源已开启，但未填写同步地址")
    stage = SourceStage(ctx, make_source(settings, ctx.rt, page_size))
    ctx.stage(STAGE)
    try:
        with bulk.relaxed_gc():
            if stage.cursors.get(DEPT) is None or stage.cursors.get(PERSON) is None:
                await stage.check_health()
            dept_cursor = await stage.departments()
            person_cursor = await stage.people()
            await stage.removals()
            await stage.release_member_roles()
    except SourceError as exc:
        raise ConfigFailure(str(exc)) from exc
    if ctx.threshold_blocked:
        await ctx.flush(force=True)
        return  # cursors stay: the held-back removals are read again by the next run
    # Everything up to these cursors is committed (removals included): the next run starts after them.
    await stage.save_cursor(DEPT, dept_cursor)
    await stage.save_cursor(PERSON, person_cursor)
    await ctx.flush(force=True)
