"""Reconcile: compare every local object with what DingTalk actually holds, so the push repairs drift.

The push compares a local object with the hash of what *we last pushed*; a change made directly in DingTalk whose
callback was lost is invisible to it. A full run (and the periodic reconcile, ``SyncSettings.reconcile_days``)
therefore reads DingTalk's departments (``listsub`` walk) and every department's members (``v2/user/list``, all
pages), compares them field by field through the field table, and for each difference logs a line naming the
object, the field and both values, then forces the push to send the object (LanDing wins).

- An object that is equal keeps a hash of its local view, so the push sends nothing for it.
- A local object whose DingTalk id no longer exists in DingTalk loses the id (with a feed tombstone for the old
  one) and is created again by the push.
- A DingTalk user LanDing does not know is linked when an unlinked local person has the same mobile, otherwise
  reported (a detailed-log line and the summary's 仅钉钉中存在 count; not a warning, since every org has people
  who exist only in DingTalk, its admins for a start); a DingTalk department LanDing does not know is reported the
  same way. Neither is ever deleted here.
- A field DingTalk refused earlier (``Person.sync_conflicts``) is reported as pending, not sent again.

``listsub`` items carry no ``order`` and no people-related settings, so those are not compared here (the per-object
hash still covers them for changes made in LanDing).
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.dingtalk.contacts_api import DeptBrief, User
from app.dingtalk.errors import DingTalkError
from app.models.contacts import Department, Person
from app.sync import bulk, fields, hashing
from app.sync.context import RunContext
from app.sync.push import _raise_if_config, gather_or_cancel, tombstone

STAGE = "reconcile"
ROOT = 1
READ_CONCURRENCY = 16  # departments whose members are read at once; the client's limiter keeps the QPS
PERSON_READ = (
    "id",
    "org_id",
    "name",
    "main_dept_id",
    "ding_userid",
    "source_id",
    "login_name",
    "mobile",
    "pushed_hash",
    "sync_conflicts",
    *(f.local for f in fields.PERSON_PUSHED if f.local not in ("name", "mobile")),
)


class _Row:
    __slots__ = PERSON_READ

    def __init__(self, values: tuple) -> None:
        for name, value in zip(PERSON_READ, values, strict=True):
            setattr(self, name, value)


def _describe(diffs: dict[str, tuple[Any, Any]]) -> str:
    parts = [f"{fields.label(k)}：钉钉为「{theirs}」，本系统为「{mine}」" for k, (mine, theirs) in diffs.items()]
    return "；".join(parts)


class Reconciler:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.app = ctx.app
        self.org_id = ctx.org.id
        self.dept_ding: dict[int, int] = {}

    def count(self, kind: str, key: str, n: int = 1) -> None:
        self.ctx.count(STAGE, kind, key, n)

    async def read(self) -> tuple[dict[int, DeptBrief], dict[str, User]]:
        """DingTalk's departments and users, read together: each department's members are listed as soon as the
        tree walk finds it, so the two APIs (each with its own QPS limit) are busy at the same time."""
        self.ctx.stage(STAGE, step="读取钉钉部门和人员")
        briefs: dict[int, DeptBrief] = {}
        users: dict[str, User] = {}
        queue: asyncio.Queue[int | None] = asyncio.Queue()
        queue.put_nowait(ROOT)

        async def walk() -> None:
            try:
                async for brief in self.client.contacts.iter_department_tree(
                    self.app, ROOT, concurrency=READ_CONCURRENCY
                ):
                    briefs[brief.dept_id] = brief
                    queue.put_nowait(brief.dept_id)
            finally:
                for _ in range(READ_CONCURRENCY):
                    queue.put_nowait(None)

        async def members() -> None:
            while (dept_id := await queue.get()) is not None:
                async for user in self.client.contacts.iter_dept_users(self.app, dept_id):
                    users.setdefault(user.userid, user)
                self.ctx.advance()

        await gather_or_cancel([walk(), *(members() for _ in range(READ_CONCURRENCY))])
        await self.ctx.save_progress()
        return briefs, users

    async def departments(self, briefs: dict[int, DeptBrief]) -> None:
        rows = await Department.filter(org_id=self.org_id).order_by("depth", "id")
        by_id = {d.id: d for d in rows}
        known = {d.ding_id for d in rows if d.ding_id is not None}
        self.count("dept", "fetched", len(briefs))
        self.ctx.set_total(len(rows), "核对部门")
        changed: list[Department] = []
        for dept in rows:
            self.ctx.advance()
            if dept.parent_id is None or dept.is_deleted or dept.ding_id is None:
                continue
            brief = briefs.get(dept.ding_id)
            if brief is None:
                await tombstone(dept, "dept", dept.ding_id)
                self._line("repair", "dept", dept, f"钉钉中已不存在（部门ID {dept.ding_id}），将重新创建")
                dept.ding_id, dept.pushed_hash, dept.needs_push = None, "", True
                await dept.save(update_fields=["ding_id", "pushed_hash", "needs_push"])
                self.count("dept", "repaired")
                continue
            diffs = fields.dept_listed_differences(dept, brief)
            parent = by_id.get(dept.parent_id)
            if parent is not None and parent.ding_id is not None and int(brief.parent_id or 0) != parent.ding_id:
                diffs["parent_id"] = (parent.ding_id, brief.parent_id)
            # Equal: the hash of the local view, so the push sends nothing. Different: a main half that matches no
            # view, so the push sends the department (its people-related half is left as it was).
            if diffs:
                self._line("repair", "dept", dept, f"与钉钉不一致，以本系统为准修复：{_describe(diffs)}")
                self.count("dept", "repaired")
                main = "-" * hashing.HALF
            else:
                main = hashing.view_hash(fields.dept_main_view(dept, parent.ding_id if parent else None))
            new_hash = main + hashing.rel_half(dept.pushed_hash)
            if new_hash != dept.pushed_hash or (diffs and not dept.needs_push):
                dept.pushed_hash = new_hash
                dept.needs_push = dept.needs_push or bool(diffs)
                changed.append(dept)
        for start in range(0, len(changed), 500):
            await Department.bulk_update(changed[start : start + 500], fields=["pushed_hash", "needs_push"])
        for ding_id, brief in briefs.items():
            if ding_id not in known:
                self.count("dept", "unknown")
                self.ctx.entry(
                    STAGE,
                    "report",
                    "dept",
                    brief.name,
                    ding_id=ding_id,
                    code="unknown",
                    message="钉钉中存在、本系统中没有的部门（可能在钉钉中手工创建），未做修改，请核对",
                )
        self.dept_ding = {d.id: d.ding_id for d in rows if d.ding_id is not None and not d.is_deleted}
        await self.ctx.flush()

    async def people(self, users: dict[str, User]) -> None:
        rows = [
            _Row(r)
            for r in await bulk.select(Person, PERSON_READ, '"org_id" = {} AND "is_active" = {}', [self.org_id, True])
        ]
        others: dict[int, list[int]] = {}
        for pid, did in await Person.filter(
            org_id=self.org_id, is_active=True, other_depts__id__isnull=False
        ).values_list("id", "other_depts__id"):
            others.setdefault(pid, []).append(did)
        self.count("person", "fetched", len(users))
        self.ctx.set_total(len(rows), "核对人员")
        updates: list[tuple] = []
        linked = set()
        mobile = fields.BY_LOCAL["mobile"].normalise
        unlinked_by_mobile = {mobile(r.mobile): r for r in rows if not r.ding_userid and r.mobile}
        for row in rows:
            self.ctx.advance()
            if not row.ding_userid:
                continue
            user = users.get(row.ding_userid)
            main = self.dept_ding.get(row.main_dept_id)
            if main is None:
                continue  # the push reports it (department not in DingTalk yet)
            ids = [main] + [self.dept_ding[d] for d in others.get(row.id, []) if d in self.dept_ding]
            view = fields.person_view(row, list(dict.fromkeys(ids)))
            if user is None:
                await tombstone(row, "person", row.ding_userid)
                self._line("repair", "person", row, "钉钉中已不存在该人员，将重新添加")
                updates.append((None, "", True, row.id))
                self.count("person", "repaired")
                continue
            linked.add(user.userid)
            diffs = fields.differing(view, fields.person_view_from_ding(user))
            pending = {k: diffs.pop(k) for k in list(diffs) if k in (row.sync_conflicts or {})}
            if pending:
                self._line(
                    "pending", "person", row, f"钉钉拒绝的修改仍待处理（以本系统为准）：{_describe(pending)}", ok=False
                )
            digest = hashing.person_hash(view)
            if diffs:
                self._line("repair", "person", row, f"与钉钉不一致，以本系统为准修复：{_describe(diffs)}")
                self.count("person", "repaired")
                updates.append((row.ding_userid, "", True, row.id))
            elif row.pushed_hash != digest:
                updates.append((row.ding_userid, digest, False, row.id))
        for user in users.values():
            if user.userid in linked:
                continue
            candidate = unlinked_by_mobile.get(mobile(user.mobile))
            if candidate is not None:
                updates.append((user.userid, "", True, candidate.id))
                self._line("link", "person", candidate, f"按手机号关联到钉钉人员 {user.name}（{user.userid}）")
                self.count("person", "linked")
                continue
            self.count("person", "unknown")
            self.ctx.entry(
                STAGE,
                "report",
                "person",
                user.name,
                ding_id=user.userid,
                code="unknown",
                message="钉钉中存在、本系统中没有的人员（可能在钉钉中手工添加），未删除，请核对",
            )
        await bulk.update_rows(Person, ("ding_userid", "pushed_hash", "needs_push"), updates)
        await self.ctx.flush()

    def _line(self, action: str, kind: str, obj: Any, message: str, *, ok: bool = True) -> None:
        ding_id = obj.ding_id if kind == "dept" else obj.ding_userid
        self.ctx.entry(
            STAGE,
            action,
            kind,
            obj.name,
            local_id=obj.id,
            ding_id=ding_id,
            source_id=obj.source_id,
            ok=ok,
            message=message,
        )


async def run(ctx: RunContext) -> None:
    """Compare the org with DingTalk; differences become pushes of this same run."""
    if ctx.client is None:
        return
    reconciler = Reconciler(ctx)
    try:
        briefs, users = await reconciler.read()
        await reconciler.departments(briefs)
        await reconciler.people(users)
    except DingTalkError as exc:
        _raise_if_config(exc)
        raise
    await ctx.flush(force=True)
