"""Scenario 3: LanDing -> DingTalk.

Order: departments parent-first (name, parent, order, group creation), then people, then the department relations
that name people (managers, group owner, visibility lists), then removals child-first (people before departments).
An object is sent only when the hash of its DingTalk view differs from the hash last pushed.

Every DingTalk id is saved as soon as DingTalk returns it, so a run that is interrupted and started again neither
loses nor duplicates anything; a create repeated after a crash is answered "already exists" (60008 department
name, 60102/60104 user) and we look the object up and link it instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from tortoise.expressions import Q

from app.core.change_tracking import now_ms, touch_feed
from app.dingtalk.client import App
from app.dingtalk.errors import DingTalkAPIError, DingTalkTransportError
from app.models.access import FeedTombstone
from app.models.contacts import Department, Person
from app.sync import fields, hashing, threshold
from app.sync.context import ConfigFailure, RunContext

log = logging.getLogger(__name__)

STAGE = "push"
CONCURRENCY = 8  # in-flight calls per stage; the client's per-API limiter keeps us under DingTalk's QPS
BATCH = 400
# Errors that no retry of another object can fix: credentials, whitelist, missing API permission, quota.
CONFIG_CODES = frozenset({33001, 40001, 40014, 40089, 43007, 60011, 60020, 90001, 90003, 90004, 90020})
GONE_USER = frozenset({60121, 60111, 33012})
GONE_DEPT = frozenset({60003, 40009})
T = TypeVar("T")


def _code(exc: DingTalkAPIError) -> Any:
    return exc.effective_code


def _explain(exc: DingTalkAPIError) -> str:
    info = exc.info
    return f"{_code(exc)} {info.zh if info else exc.errmsg}"


def _raise_if_config(exc: BaseException) -> None:
    if isinstance(exc, DingTalkAPIError) and _code(exc) in CONFIG_CODES:
        advice = f"；{exc.advice}" if exc.advice else ""
        raise ConfigFailure(f"钉钉拒绝了请求：{_explain(exc)}{advice}") from exc
    if isinstance(exc, DingTalkTransportError):
        raise ConfigFailure(f"无法连接钉钉：{exc}") from exc


async def _run_all(items: Iterable[T], work: Callable[[T], Awaitable[None]], ctx: RunContext) -> None:
    """Run ``work`` over ``items`` with bounded concurrency, in batches so memory stays flat on big orgs."""
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(item: T) -> None:
        async with sem:
            await work(item)

    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= BATCH:
            await _gather(batch, one, ctx)
            batch = []
    if batch:
        await _gather(batch, one, ctx)


async def gather_or_cancel(aws: Iterable[Awaitable[Any]]) -> None:
    """Run all; when one fails (or the run is cancelled) the others are cancelled and awaited before raising."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _gather(batch: list[T], one: Callable[[T], Awaitable[None]], ctx: RunContext) -> None:
    await gather_or_cancel(one(item) for item in batch)
    await ctx.flush()


# -- views (derived from the field table) ------------------------------------------------------------------------


def person_view(person: Person, dept_ding: dict[int, int], other_ids: list[int]) -> dict[str, Any] | None:
    """The DingTalk view of a person, or None while its main department is not in DingTalk yet."""
    main = dept_ding.get(person.main_dept_id)
    if main is None:
        return None
    ids = [main] + [dept_ding[d] for d in other_ids if d in dept_ding and dept_ding[d] != main]
    return fields.person_view(person, list(dict.fromkeys(ids)))


# -- the stage --------------------------------------------------------------------------------------------------------


class Pusher:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.app = ctx.app
        self.org_id = ctx.org.id
        self.depts: dict[int, Department] = {}
        self.failed_depts: set[int] = set()

    def _ding_of_dept(self) -> dict[int, int]:
        return {d.id: d.ding_id for d in self.depts.values() if d.ding_id is not None and not d.is_deleted}

    def _record(self, action: str, kind: str, obj: Person | Department, *, ding_id: Any = None, **details: Any) -> None:
        """One detailed-log line for an object, with its names and ids (DESIGN 8: no object without a line)."""
        if ding_id is None:
            ding_id = obj.ding_id if isinstance(obj, Department) else obj.ding_userid
        self.ctx.entry(
            STAGE, action, kind, obj.name, local_id=obj.id, ding_id=ding_id, source_id=obj.source_id, **details
        )

    def count(self, kind: str, key: str) -> None:
        self.ctx.count(STAGE, kind, key)

    # -- departments, pass 1 ------------------------------------------------------------------------------------

    async def push_departments(self) -> None:
        rows = await Department.filter(org_id=self.org_id).order_by("depth", "id")
        self.depts = {d.id: d for d in rows}
        # An incremental run looks only at departments marked as changed (or not yet in DingTalk); a full run or a
        # reconcile looks at all of them (the reconcile has just re-based their hashes on what DingTalk holds).
        everyone = self.ctx.full or self.ctx.reconcile
        live = [
            d
            for d in rows
            if not d.is_deleted and d.parent_id is not None and (everyone or d.needs_push or d.ding_id is None)
        ]
        todo: list[tuple[Department, dict[str, Any]]] = []
        levels: dict[int, list[Department]] = {}
        for dept in live:
            levels.setdefault(dept.depth, []).append(dept)
        self.ctx.set_total(len(live), "部门")
        for depth in sorted(levels):
            todo = []
            for dept in levels[depth]:
                parent = self.depts.get(dept.parent_id)
                parent_ding = parent.ding_id if parent is not None else None
                view = fields.dept_main_view(dept, parent_ding)
                if dept.ding_id is not None and hashing.main_half(dept.pushed_hash) == hashing.view_hash(view):
                    self.ctx.advance()
                    continue
                if parent_ding is None:
                    self.failed_depts.add(dept.id)
                    self.count("dept", "add_failed")
                    self._record("add", "dept", dept, ok=False, message="上级部门尚未同步到钉钉，本部门暂不新增")
                    self.ctx.advance()
                    continue
                todo.append((dept, view))
            await _run_all(todo, self._push_dept, self.ctx)

    async def _push_dept(self, item: tuple[Department, dict[str, Any]]) -> None:
        dept, view = item
        self.count("dept", "fetched")
        creating = dept.ding_id is None
        action = "add" if creating else "update"
        try:
            if creating:
                dept.ding_id = await self._create_dept(dept, view)
                touch_feed(dept)
            else:
                await self.client.contacts.update_department(self.app, dept.ding_id, **fields.dept_body(view))
        except DingTalkAPIError as exc:
            _raise_if_config(exc)
            if not creating and _code(exc) in GONE_DEPT:
                # Deleted in DingTalk behind our back: create it again (LanDing is the main source).
                dept.ding_id = None
                await dept.save(update_fields=["ding_id"])
                return await self._push_dept(item)
            self.failed_depts.add(dept.id)
            self.count("dept", f"{action}_failed")
            self._record(
                action,
                "dept",
                dept,
                ok=False,
                code=_code(exc),
                message=f"{'新增' if creating else '更新'}失败: {_explain(exc)}",
            )
            await self.ctx.tick()
            return
        except DingTalkTransportError as exc:
            _raise_if_config(exc)
        dept.pushed_hash = hashing.view_hash(view) + (hashing.rel_half(dept.pushed_hash) if not creating else "")
        dept.needs_push = False
        await dept.save(update_fields=["ding_id", "pushed_hash", "needs_push", "feed_time"])
        self.count("dept", "added" if creating else "updated")
        self._record(action, "dept", dept, message="新增成功" if creating else "更新成功")
        await self.ctx.tick()

    async def _create_dept(self, dept: Department, view: dict[str, Any]) -> int:
        try:
            body = fields.dept_body(view)
            return await self.client.contacts.create_department(
                self.app,
                body.pop("name"),
                body.pop("parent_id"),
                **body,
                source_identifier=dept.source_id or str(dept.id),
            )
        except DingTalkAPIError as exc:
            if _code(exc) != 60008:
                raise
            # Same name under the same parent: ours from an interrupted run, or one made in DingTalk. Link it.
            for child in await self.client.contacts.list_sub_departments(self.app, view["parent_id"]):
                if child.name == dept.name:
                    await self.client.contacts.update_department(self.app, child.dept_id, order=int(dept.order or 0))
                    return child.dept_id
            raise

    # -- people ----------------------------------------------------------------------------------------------------

    async def push_people(self, full: bool) -> None:
        dept_ding = self._ding_of_dept()
        query = Person.filter(org_id=self.org_id, is_active=True)
        if not full:
            query = query.filter(Q(needs_push=True) | Q(ding_userid__isnull=True))
        ids = await query.order_by("id").values_list("id", flat=True)
        self.ctx.set_total(len(ids), "人员")
        for start in range(0, len(ids), BATCH * 5):
            chunk = ids[start : start + BATCH * 5]
            people = await Person.filter(id__in=chunk).order_by("id")
            others: dict[int, list[int]] = {}
            for pid, did in await Person.filter(id__in=chunk, other_depts__id__isnull=False).values_list(
                "id", "other_depts__id"
            ):
                others.setdefault(pid, []).append(did)
            work = []
            for person in people:
                view = person_view(person, dept_ding, others.get(person.id, []))
                if view is None:
                    self.count("person", "add_failed" if not person.ding_userid else "update_failed")
                    self._record(
                        "add" if not person.ding_userid else "update",
                        "person",
                        person,
                        ok=False,
                        message="所在部门尚未同步到钉钉",
                    )
                    self.ctx.advance()
                    continue
                digest = hashing.person_hash(view)
                if person.ding_userid and person.pushed_hash == digest:
                    if person.needs_push:
                        person.needs_push = False
                        await person.save(update_fields=["needs_push"])
                    self.ctx.advance()
                    continue
                work.append((person, view, digest))
            await _run_all(work, self._push_person, self.ctx)

    async def _push_person(self, item: tuple[Person, dict[str, Any], str]) -> None:
        person, view, digest = item
        self.count("person", "fetched")
        creating = not person.ding_userid
        action = "add" if creating else "update"
        refused: dict[str, Any] = {}
        try:
            if creating:
                await self._create_user(person, view)
            else:
                refused = await self._update_user(person, view)
        except DingTalkAPIError as exc:
            _raise_if_config(exc)
            if not creating and _code(exc) in GONE_USER:
                person.ding_userid = None
                await person.save(update_fields=["ding_userid"])
                return await self._push_person(item)
            self.count("person", f"{action}_failed")
            self._record(
                action,
                "person",
                person,
                ok=False,
                code=_code(exc),
                message=f"{'新增' if creating else '更新'}失败: {_explain(exc)}",
            )
            await self.ctx.tick()
            return
        except DingTalkTransportError as exc:
            _raise_if_config(exc)
        # A refused field stays as LanDing has it, flagged until an admin resolves it; the hash is that of what we
        # asked for, so the next incremental run does not ask again (a full run reports it again). Every update
        # sends every field, so what DingTalk refused this time is exactly what is still in conflict.
        person.sync_conflicts = refused
        person.pushed_hash = digest
        person.needs_push = False
        await person.save(
            update_fields=["ding_userid", "unionid", "pushed_hash", "needs_push", "feed_time", "sync_conflicts"]
        )
        self.count("person", "added" if creating else "updated")
        self._record(action, "person", person, message="新增成功" if creating else "更新成功")
        await self.ctx.tick()

    async def _update_user(self, person: Person, view: dict[str, Any]) -> dict[str, Any]:
        """Update a user; a field DingTalk refuses alone (``SyncField.refused_by``) is left out and the rest sent.

        Returns the refused fields with both values, for ``Person.sync_conflicts``; each refusal is an error line
        with DingTalk's code and the way out.
        """
        try:
            await self.client.contacts.update_user(self.app, person.ding_userid, **fields.user_body(view, create=False))
            return {}
        except DingTalkAPIError as exc:
            suspects = fields.refusable(_code(exc), view)
            if not suspects:
                raise
            await self.client.contacts.update_user(
                self.app, person.ding_userid, **fields.user_body(view, create=False, leave_out=suspects)
            )
            theirs = fields.person_view_from_ding(await self.client.contacts.get_user(self.app, person.ding_userid))
            refused = {}
            for name in suspects:
                ding_value = fields.view_values(theirs)[name]
                local_value = fields.view_values(view)[name]
                if ding_value == local_value:
                    continue
                refused[name] = {"local": local_value, "ding": ding_value, "code": _code(exc)}
                self.count("person", "update_failed")
                self._record(
                    "update",
                    "person",
                    person,
                    ok=False,
                    code=_code(exc),
                    message=(
                        f"钉钉拒绝修改{fields.label(name)}（{local_value or '空'}，钉钉仍为{ding_value or '空'}）："
                        f"{_explain(exc)}。本系统的值已保留并标记为待处理（以本系统为准）；可在人员详情中选择"
                        "保留钉钉的值，或删除后重新添加该人员"
                    ),
                )
            return refused

    async def _create_user(self, person: Person, view: dict[str, Any]) -> None:
        body = fields.user_body(view, create=True)
        mobile = fields.view_values(view)["mobile"] or None
        try:
            created = await self.client.contacts.create_user(self.app, mobile=mobile, **body)
            person.ding_userid, person.unionid = created.userid, created.unionid
        except DingTalkAPIError as exc:
            if _code(exc) not in (60102, 60104, 60107) or not mobile:
                raise
            # Already there (an interrupted run created it, or the person joined in DingTalk): link and update.
            userid = await self.client.contacts.get_userid_by_mobile(self.app, mobile)
            await self.client.contacts.update_user(self.app, userid, **fields.user_body(view, create=False))
            user = await self.client.contacts.get_user(self.app, userid)
            person.ding_userid, person.unionid = userid, user.unionid
        touch_feed(person)

    # -- departments, pass 2: people-related settings --------------------------------------------------------------

    async def push_relations(self) -> None:
        dept_ding = self._ding_of_dept()
        wanted: set[int] = set()
        live = [d for d in self.depts.values() if not d.is_deleted and d.parent_id is not None and d.ding_id]
        for d in live:
            wanted.update(
                int(i)
                for i in (d.manager_ids or []) + (d.hide_visible_person_ids or []) + (d.restrict_person_ids or [])
            )
            if d.group_owner_id:
                wanted.add(d.group_owner_id)
        person_ding: dict[int, str] = {}
        for start in range(0, len(wanted), 5000):
            chunk = list(wanted)[start : start + 5000]
            for pid, userid in await Person.filter(id__in=chunk, is_active=True, ding_userid__isnull=False).values_list(
                "id", "ding_userid"
            ):
                person_ding[pid] = userid
        todo = []
        for dept in live:
            view = fields.dept_rel_view(dept, person_ding, dept_ding)
            digest = hashing.view_hash(view)
            if hashing.rel_half(dept.pushed_hash) == digest:
                continue
            if not hashing.rel_half(dept.pushed_hash) and view == fields.DEFAULT_REL:
                # A department DingTalk just created already has the default settings: nothing to send.
                dept.pushed_hash = hashing.main_half(dept.pushed_hash) + digest
                await dept.save(update_fields=["pushed_hash"])
                continue
            todo.append((dept, view, digest))
        self.ctx.set_total(len(todo), "部门设置")
        await _run_all(todo, self._push_rel, self.ctx)

    async def _push_rel(self, item: tuple[Department, dict[str, Any], str]) -> None:
        dept, view, digest = item
        try:
            await self.client.contacts.update_department(
                self.app, dept.ding_id, **fields.rel_body(view, dept.create_group)
            )
            if dept.create_group and not dept.group_chat_id:
                detail = await self.client.contacts.get_department(self.app, dept.ding_id)
                dept.group_chat_id = detail.dept_group_chat_id or ""
        except DingTalkAPIError as exc:
            _raise_if_config(exc)
            self.count("dept", "update_failed")
            self._record(
                "update", "dept", dept, ok=False, code=_code(exc), message=f"更新部门主管/可见性失败: {_explain(exc)}"
            )
            await self.ctx.tick()
            return
        except DingTalkTransportError as exc:
            _raise_if_config(exc)
        dept.pushed_hash = hashing.main_half(dept.pushed_hash).ljust(hashing.HALF, "0") + digest
        await dept.save(update_fields=["pushed_hash", "group_chat_id"])
        self.count("dept", "updated")
        self._record("update", "dept", dept, message="更新部门主管/可见性成功")
        await self.ctx.tick()

    # -- removals --------------------------------------------------------------------------------------------------

    async def push_removals(self) -> None:
        kept_people, kept_depts = threshold.kept(self.ctx, "person"), threshold.kept(self.ctx, "dept")
        people = [
            p
            for p in await Person.filter(org_id=self.org_id, is_active=False, ding_userid__isnull=False).order_by("id")
            if p.id not in kept_people
        ]
        depts = sorted(
            (
                d
                for d in self.depts.values()
                if d.is_deleted and d.ding_id is not None and d.parent_id is not None and d.id not in kept_depts
            ),
            key=lambda d: -d.depth,
        )
        if not people and not depts:
            return
        total_people = await Person.filter(org_id=self.org_id, ding_userid__isnull=False).count()
        total_depts = sum(1 for d in self.depts.values() if d.ding_id is not None and d.parent_id is not None)
        items = [threshold.removal("person", p, "本系统中已置为无效") for p in people]
        items += [threshold.removal("dept", d, "本系统中已删除") for d in depts]
        if not threshold.allow_removals(self.ctx, STAGE, items, total_depts, total_people):
            return
        self.ctx.set_total(len(people) + len(depts), "删除")
        await _run_all(people, self._delete_person, self.ctx)
        for depth in sorted({d.depth for d in depts}, reverse=True):
            await _run_all([d for d in depts if d.depth == depth], self._delete_dept, self.ctx)

    async def _delete_person(self, person: Person) -> None:
        await self._delete(
            person, "person", "ding_userid", self.client.contacts.delete_user, GONE_USER, "删除成功（人员已禁用）"
        )

    async def _delete_dept(self, dept: Department) -> None:
        await self._delete(dept, "dept", "ding_id", self.client.contacts.delete_department, GONE_DEPT, "删除成功")

    async def _delete(
        self,
        obj: Person | Department,
        kind: str,
        id_field: str,
        call: Callable[[App, Any], Awaitable[None]],
        already_gone: frozenset[int],
        done_message: str,
    ) -> None:
        """Delete one object in DingTalk; 'already gone there' counts as done, so a repeated run converges."""
        self.count(kind, "fetched")
        ding_id = getattr(obj, id_field)
        try:
            await call(self.app, ding_id)
        except DingTalkAPIError as exc:
            _raise_if_config(exc)
            if _code(exc) not in already_gone:
                self.count(kind, "delete_failed")
                self._record(
                    "delete",
                    kind,
                    obj,
                    ding_id=ding_id,
                    ok=False,
                    code=_code(exc),
                    message=f"删除失败: {_explain(exc)}",
                )
                await self.ctx.tick()
                return
        except DingTalkTransportError as exc:
            _raise_if_config(exc)
        await tombstone(obj, kind, ding_id)
        setattr(obj, id_field, None)
        obj.pushed_hash = ""
        obj.needs_push = False
        touch_feed(obj)
        await obj.save(update_fields=[id_field, "pushed_hash", "needs_push", "feed_time"])
        self.count(kind, "deleted")
        self._record("delete", kind, obj, ding_id=ding_id, message=done_message)
        await self.ctx.tick()


async def tombstone(obj: Person | Department, kind: str, ding_id: Any) -> None:
    """The object leaves DingTalk: the mapping feed keeps reporting the removal (``dingIsDel``) after the row has
    lost its DingTalk id, so every business system drops its mapping (kept ``TOMBSTONE_DAYS``)."""
    business_id = obj.source_id or ("" if kind == "dept" else (obj.login_name or obj.mobile or "")) or ""
    if not business_id or ding_id in (None, ""):
        return
    await FeedTombstone.create(
        org_id=obj.org_id,
        kind=kind,
        ding_id=str(ding_id),
        business_id=business_id[:64],
        login_name=getattr(obj, "login_name", None),
        mobile=getattr(obj, "mobile", None),
        feed_time=now_ms(),
    )


async def push(ctx: RunContext) -> None:
    ctx.stage(STAGE)
    if ctx.client is None:
        raise ConfigFailure("钉钉客户端未启动")
    pusher = Pusher(ctx)
    await pusher.push_departments()
    await pusher.push_people(ctx.full)
    await pusher.push_relations()
    await pusher.push_removals()
    settled = [d.id for d in pusher.depts.values() if d.needs_push and d.ding_id and d.id not in pusher.failed_depts]
    if settled:
        await Department.filter(id__in=settled).update(needs_push=False)
    await ctx.flush(force=True)
