"""Scenario 1: EKP -> LanDing through EKP's org export.

Incremental from the per-type cursors in ``SyncSettings.cursors``; full when a type has no cursor (清空同步时间戳).
A full sync is a diff against what we hold, never "delete everything and add again", so DingTalk ids survive.

Order: departments parent-first (upserts keyed by ``source_id``), then people page by page (bulk writes), then the
removals: people disabled in EKP (``isAvailable`` false) or gone from it (hard deletes, found in a full sync through
``getElementsBaseInfo``), then departments child-first, each only when empty. The delete threshold is checked on the
whole set before anything is removed. A cursor is saved only after what it covers is committed.
"""

from __future__ import annotations

import logging
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app import runtime
from app.ekp.models import shift_timestamp
from app.ekp.org_source import (
    CursorKind,
    EkpAuthError,
    EkpConnectionError,
    EkpElement,
    EkpError,
    EkpForbiddenError,
    EkpOrgSource,
    EkpSourceConfig,
    ElementType,
)
from app.models import tree
from app.models.contacts import Department, Person
from app.models.sync import SyncSettings
from app.services.change_tracking import now_ms
from app.sync import bulk
from app.sync.context import ConfigFailure, RunContext
from app.sync.threshold import check_removals

log = logging.getLogger(__name__)

STAGE = "source"
WRITE_BATCH = 500
SEEN_SUFFIX = "_seen"
MAX_SEEN = 5000
NEW_PERSON_COLUMNS = (
    "org_id",
    "name",
    "login_name",
    "mobile",
    "email",
    "job_number",
    "main_dept_id",
    "is_active",
    "source_id",
    "needs_push",
    "feed_time",
    "pushed_hash",
    "hide_mobile",
    "senior_mode",
    "avatar_url",
    "title",
    "created_at",
    "updated_at",
)
PERSON_FIELDS = ("name", "login_name", "mobile", "email", "job_number", "main_dept_id", "is_active")


def make_source(settings: SyncSettings, page_size: int | None = None) -> EkpOrgSource:
    rt = runtime.get()
    config = EkpSourceConfig(
        base_url=settings.source_url,
        user=settings.source_user,
        password=settings.source_password,
        transport="soap" if settings.source_transport == "soap" else "rest",
        page_size=page_size or rt.settings.ekp_page_size,
    )
    return EkpOrgSource(rt.http, config)


def describe(error: EkpError) -> str:
    if isinstance(error, EkpAuthError):
        return "EKP验权失败：请检查验权账号和验权密码"
    if isinstance(error, EkpForbiddenError):
        return "EKP拒绝访问：请检查组织架构接出服务的访问策略（账号、IP限制）"
    if isinstance(error, EkpConnectionError):
        return f"无法连接EKP：{error.message}"
    return f"EKP返回错误：{error.message}"


def _person_values(e: EkpElement, main_dept_id: int) -> dict[str, Any]:
    return {
        "name": (e.name or e.login_name or e.id)[:64],
        "login_name": (e.login_name or None) and e.login_name[:64],
        "mobile": (e.mobile_no or None) and e.mobile_no[:32],
        "email": (e.email or "")[:128],
        "job_number": (e.no or "")[:64],
        "main_dept_id": main_dept_id,
        "is_active": True,
    }


class SourceStage:
    def __init__(self, ctx: RunContext, source: EkpOrgSource) -> None:
        self.ctx = ctx
        self.source = source
        self.org_id = ctx.org.id
        self.cursors: dict[str, Any] = dict(ctx.settings.cursors or {})
        if ctx.full:
            self.cursors = {}
        self.new_cursors: dict[str, str] = {}
        self.depts: dict[int, Department] = {}
        self.by_source: dict[str, Department] = {}
        self.root: Department | None = None
        self.dept_removals: dict[int, str] = {}  # local id -> why
        self.person_removals: dict[int, str] = {}
        self.stamp = now_ms()
        self.recent: dict[str, dict[str, str]] = {}

    def count(self, kind: str, key: str, n: int = 1) -> None:
        self.ctx.count(STAGE, kind, key, n)

    def known(self, kind: str) -> dict[str, str] | None:
        """Elements inside the overlap window that an earlier run already applied (id -> alterTime)."""
        seen = self.cursors.get(f"{kind}{SEEN_SUFFIX}")
        return dict(seen) if isinstance(seen, dict) else None

    def remember(self, kind: str, elements: list[EkpElement]) -> None:
        seen = self.recent.setdefault(str(kind), {})
        for e in elements:
            seen[e.id] = e.alter_time

    async def save_cursor(self, kind: str, value: str | None) -> None:
        if not value:
            return
        self.cursors[str(kind)] = value
        # Keep what was applied inside the overlap window, so the next run's re-read of it costs nothing.
        floor = shift_timestamp(value, -self.source.config.overlap_seconds)
        recent = {i: t for i, t in self.recent.get(str(kind), {}).items() if t >= floor}
        previous = self.known(kind) or {}
        recent.update({i: t for i, t in previous.items() if t >= floor and i not in recent})
        self.cursors[f"{kind}{SEEN_SUFFIX}"] = dict(list(recent.items())[-MAX_SEEN:])
        settings = self.ctx.settings
        settings.cursors = {str(k): v for k, v in self.cursors.items()}
        await SyncSettings.filter(id=settings.id).update(cursors=settings.cursors)

    # -- departments --------------------------------------------------------------------------------------------

    async def load_departments(self) -> None:
        rows = await Department.filter(org_id=self.org_id).order_by("depth", "id")
        self.depts = {d.id: d for d in rows}
        self.by_source = {d.source_id: d for d in rows if d.source_id}
        self.root = next((d for d in rows if d.parent_id is None), None)
        if self.root is None:
            raise ConfigFailure("组织没有根部门，请先绑定钉钉组织")

    async def departments(self) -> str | None:
        """Read and apply department changes; returns the cursor to save once removals are settled."""
        self.ctx.stage(STAGE, step="读取EKP部门")
        cursor = self.cursors.get(CursorKind.DEPT)
        elements: dict[str, EkpElement] = {}
        last = cursor
        async for page in self.source.iter_changes(CursorKind.DEPT, cursor, known=self.known(CursorKind.DEPT)):
            self.remember(CursorKind.DEPT, page.elements)
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
            present = {info.id for info in await self.source.get_elements_base_info(CursorKind.DEPT)}
            for source_id, dept in self.by_source.items():
                if source_id not in present and not dept.is_deleted and dept.parent_id is not None:
                    self.dept_removals[dept.id] = "EKP中已删除"
        await self.ctx.flush()
        return last

    def _parent_of(self, e: EkpElement) -> Department | None:
        if not e.parent:
            return self.root
        parent = self.by_source.get(e.parent)
        return parent if parent is not None and not parent.is_deleted else None

    async def _apply_departments(self, pending: dict[str, EkpElement]) -> None:
        # The top org element is our root department (DingTalk's root, id 1).
        for e in list(pending.values()):
            if e.type == ElementType.ORG and not e.parent and self.root is not None:
                if self.root.source_id != e.id:
                    self.root.source_id = e.id
                    await self.root.save(update_fields=["source_id"])
                    self.by_source[e.id] = self.root
                del pending[e.id]
                self.ctx.advance()
        children_of_root_names: dict[tuple[int, str], Department] = {
            (d.parent_id, d.name): d for d in self.depts.values() if not d.source_id and d.parent_id is not None
        }
        while pending:
            ready = [e for e in pending.values() if self._parent_of(e) is not None]
            if not ready:
                break
            creates: list[tuple[EkpElement, Department]] = []
            updates: list[Department] = []
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
                if dept.parent_id != parent.id and not tree.is_in_subtree(parent, dept):
                    await tree.move_subtree(dept, parent)
                    for row in await Department.filter(org_id=self.org_id, path__startswith=dept.path):
                        if row.id in self.depts:
                            self.depts[row.id].path, self.depts[row.id].depth = row.path, row.depth
                    changed = True
                if not changed:
                    self.ctx.advance()
                    continue
                dept.source_id, dept.name, dept.order, dept.is_deleted = e.id, name, order, False
                dept.needs_push = True
                dept.feed_time = self.stamp
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
            for start in range(0, len(updates), WRITE_BATCH):
                await Department.bulk_update(
                    updates[start : start + WRITE_BATCH],
                    fields=["source_id", "name", "order", "is_deleted", "needs_push", "feed_time"],
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

    async def _create_departments(self, creates: list[tuple[EkpElement, Department]]) -> None:
        for start in range(0, len(creates), WRITE_BATCH):
            chunk = creates[start : start + WRITE_BATCH]
            rows = [
                Department(
                    org_id=self.org_id,
                    parent_id=parent.id,
                    name=(e.name or e.id)[:64],
                    order=int(e.order or 0),
                    path="/",
                    depth=parent.depth + 1,
                    source_id=e.id,
                    needs_push=True,
                    feed_time=self.stamp,
                )
                for e, parent in chunk
            ]
            async with in_transaction():
                await Department.bulk_create(rows)
                created = await Department.filter(org_id=self.org_id, source_id__in=[e.id for e, _ in chunk])
                parents = {e.id: parent for e, parent in chunk}
                for dept in created:
                    dept.path = tree.child_path(parents[dept.source_id], dept.id)
                await Department.bulk_update(created, fields=["path"])
            for dept in created:
                self.depts[dept.id] = dept
                self.by_source[dept.source_id] = dept
                self.count("dept", "added")
                self.ctx.entry(
                    STAGE, "add", "dept", dept.name, local_id=dept.id, source_id=dept.source_id, message="新增成功"
                )

    # -- people ---------------------------------------------------------------------------------------------------

    async def people(self) -> str | None:
        self.ctx.stage(STAGE, step="读取EKP人员")
        cursor = self.cursors.get(CursorKind.PERSON)
        dept_ids = {sid: d.id for sid, d in self.by_source.items() if not d.is_deleted}
        last = cursor
        saved_until = cursor
        async for page in self.source.iter_changes(CursorKind.PERSON, cursor, known=self.known(CursorKind.PERSON)):
            self.remember(CursorKind.PERSON, page.elements)
            self.count("person", "fetched", len(page.elements))
            if self.ctx.progress is not None:
                self.ctx.progress.total += len(page.elements)
            await self._apply_people(page.elements, dept_ids)
            last = page.cursor or last
            if not self.person_removals and last != saved_until:
                await self.save_cursor(CursorKind.PERSON, last)  # committed, nothing pending: safe to move on
                saved_until = last
        if cursor is None:
            present = {info.id for info in await self.source.get_elements_base_info(CursorKind.PERSON)}
            rows = await Person.filter(org_id=self.org_id, is_active=True, source_id__isnull=False).values_list(
                "id", "source_id"
            )
            for pid, source_id in rows:
                if source_id not in present:
                    self.person_removals[pid] = "EKP中已删除"
        await self.ctx.flush()
        return last if last != saved_until else None

    async def _apply_people(self, elements: list[EkpElement], dept_ids: dict[str, int]) -> None:
        ids = [e.id for e in elements]
        existing = {p.source_id: p for p in await Person.filter(org_id=self.org_id, source_id__in=ids)}
        unlinked_mobiles = [e.mobile_no for e in elements if e.id not in existing and e.mobile_no]
        unlinked_logins = [e.login_name for e in elements if e.id not in existing and e.login_name]
        by_mobile: dict[str, Person] = {}
        by_login: dict[str, Person] = {}
        if unlinked_mobiles or unlinked_logins:
            for p in await Person.filter(org_id=self.org_id, source_id__isnull=True, mobile__in=unlinked_mobiles):
                by_mobile[p.mobile] = p
            for p in await Person.filter(org_id=self.org_id, source_id__isnull=True, login_name__in=unlinked_logins):
                by_login[p.login_name] = p
        creates: list[dict[str, Any]] = []
        updates: list[Person] = []
        changed: set[str] = set()
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
                    self.ctx.entry(
                        STAGE,
                        "ignore",
                        "person",
                        e.name,
                        source_id=e.id,
                        ok=False,
                        message=f"忽略新增：所在部门 {e.parent} 不存在或已删除",
                    )
                    self.ctx.advance()
                    continue
                main = person.main_dept_id
            values = _person_values(e, main)
            if person is None:
                creates.append({**values, "source_id": e.id})
                continue
            self.person_removals.pop(person.id, None)
            if person.source_id == e.id and all(getattr(person, k) == v for k, v in values.items()):
                self.ctx.advance()
                continue
            changed.update(k for k, v in values.items() if getattr(person, k) != v)
            if person.source_id != e.id:
                changed.add("source_id")
            person.update_from_dict(values)
            person.source_id = e.id
            person.needs_push = True
            person.feed_time = self.stamp
            updates.append(person)
        await self._write_people(creates, updates, sorted(changed))

    async def _write_people(self, creates: list[dict[str, Any]], updates: list[Person], changed: list[str]) -> None:
        fields = [*PERSON_FIELDS, "source_id", "needs_push", "feed_time"]
        try:
            async with in_transaction():
                # Only the columns that changed go through the (per-column CASE) bulk update; the flags are the
                # same for every row and take one plain UPDATE.
                for start in range(0, len(updates), WRITE_BATCH):
                    batch = updates[start : start + WRITE_BATCH]
                    if changed:
                        await Person.bulk_update(batch, fields=changed)
                    await Person.filter(id__in=[p.id for p in batch]).update(needs_push=True, feed_time=self.stamp)
                stamp = bulk.now()
                await bulk.insert_rows(
                    Person,
                    NEW_PERSON_COLUMNS,
                    (
                        (
                            self.org_id,
                            *(p[k] for k in PERSON_FIELDS),
                            p["source_id"],
                            True,
                            self.stamp,
                            "",
                            False,
                            False,
                            "",
                            "",
                            stamp,
                            stamp,
                        )
                        for p in creates
                    ),
                )
        except IntegrityError:
            # A login name or mobile clashes with someone else: write one by one and report the clashes.
            new = [Person(org_id=self.org_id, needs_push=True, feed_time=self.stamp, **values) for values in creates]
            await self._write_people_one_by_one(new, updates, fields)
            return
        for person in updates:
            self._person_entry("update", person)
        if creates:
            ids = dict(
                await Person.filter(org_id=self.org_id, source_id__in=[p["source_id"] for p in creates]).values_list(
                    "source_id", "id"
                )
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

    def _person_entry(self, action: str, person: Person) -> None:
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
        if not self.person_removals and not self.dept_removals:
            return
        total_people = await Person.filter(org_id=self.org_id, is_active=True).count()
        total_depts = sum(1 for d in self.depts.values() if not d.is_deleted and d.parent_id is not None)
        await check_removals(
            self.ctx, STAGE, len(self.dept_removals), total_depts, len(self.person_removals), total_people
        )
        self.ctx.set_total(len(self.person_removals) + len(self.dept_removals), "删除")
        people = await Person.filter(id__in=list(self.person_removals), is_active=True)
        for person in people:
            person.is_active = False
            person.needs_push = True
            person.feed_time = self.stamp
        for start in range(0, len(people), WRITE_BATCH):
            await Person.bulk_update(
                people[start : start + WRITE_BATCH], fields=["is_active", "needs_push", "feed_time"]
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
            dept.needs_push = True
            dept.feed_time = self.stamp
            await dept.save(update_fields=["is_deleted", "needs_push", "feed_time"])
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
    stage = SourceStage(ctx, make_source(settings, page_size))
    ctx.stage(STAGE)
    try:
        dept_cursor = await stage.departments()
        person_cursor = await stage.people()
        await stage.removals()
    except EkpError as exc:
        raise ConfigFailure(describe(exc)) from exc
    # Everything up to these cursors is committed (removals included): the next run starts after them.
    await stage.save_cursor(CursorKind.DEPT, dept_cursor)
    await stage.save_cursor(CursorKind.PERSON, person_cursor)
    await ctx.flush(force=True)
