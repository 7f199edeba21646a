"""DingTalk -> LanDing: map DingTalk departments and users onto our contacts, keyed by DingTalk ids.

Used twice: ``pull_baseline`` copies a whole org right after it is bound (guide 3.3.6.4 scenario 2), and the
callback processor applies single events with ``apply_department`` / ``apply_user`` / ``remove_department`` /
``disable_user``. Objects are matched by DingTalk id (a person not yet linked is matched by mobile, which DingTalk
keeps unique per org), never by name. What comes from DingTalk is already in DingTalk, so it is saved with
``needs_push`` False; an object with a pending local change is not overwritten (LanDing wins), only linked.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.core.change_tracking import now_ms, touch_feed
from app.dingtalk.client import App, DingTalkClient
from app.dingtalk.contacts_api import DeptBrief, DeptDetail, User
from app.models import tree
from app.models.contacts import Department, HideMode, Person, RestrictMode
from app.models.orgs import Org
from app.sync import fields

log = logging.getLogger(__name__)

ROOT_DING_ID = 1
BATCH = 500
USER_LIST_CONCURRENCY = 4

ProgressFn = Callable[[str, int, int], Awaitable[None] | None]


class Applied(StrEnum):
    """What applying one DingTalk department or user to the local directory did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"  # a local change is waiting to be pushed: LanDing wins, the DingTalk values are not applied
    MISSING = "missing"  # nothing to remove / disable


@dataclass
class BaselineResult:
    departments_fetched: int = 0
    departments_created: int = 0
    departments_updated: int = 0
    people_fetched: int = 0
    people_created: int = 0
    people_updated: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        text = (
            f"从钉钉同步部门获取{self.departments_fetched}条，新增{self.departments_created}条，"
            f"更新{self.departments_updated}条；人员获取{self.people_fetched}条，新增{self.people_created}条，"
            f"更新{self.people_updated}条"
        )
        if self.errors:
            text += f"；{len(self.errors)}条未导入"
        return text


def ding_app(org: Org) -> App:
    """The org's DingTalk app credentials as the client wants them."""
    agent = (org.agent_id or "").strip()
    return App(org.corpid, org.appkey, org.appsecret, int(agent) if agent.isdigit() else None)


async def _report(progress: ProgressFn | None, message: str, done: int = 0, total: int = 0) -> None:
    if progress is None:
        return
    result = progress(message, done, total)
    if inspect.isawaitable(result):
        await result


def _chunks(items: list, size: int = BATCH) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ---------------------------------------------------------------------------------------------------------------
# Field mapping


def _dept_name(ding: DeptBrief, org: Org) -> str:
    return (ding.name or org.name)[:64]


async def _local_ids(org_id: int, ding_dept_ids: Iterable[int], userids: Iterable[str]) -> tuple[dict, dict]:
    dept_ids = list(set(ding_dept_ids))
    uids = list(set(userids))
    depts = {}
    people = {}
    if dept_ids:
        rows = await Department.filter(org_id=org_id, ding_id__in=dept_ids).values_list("ding_id", "id")
        depts = dict(rows)
    if uids:
        rows = await Person.filter(org_id=org_id, ding_userid__in=uids).values_list("ding_userid", "id")
        people = dict(rows)
    return depts, people


async def _full_dept_values(org: Org, ding: DeptDetail) -> dict[str, Any]:
    """Settings only ``department/get`` returns (managers, hiding, restricted viewing, group)."""
    userids = [*ding.dept_manager_userid_list, *ding.user_permits, *ding.outer_permit_users]
    dept_ids = [*ding.dept_permits, *ding.outer_permit_depts]
    depts, people = await _local_ids(org.id, dept_ids, userids)
    values: dict[str, Any] = {
        "manager_ids": [people[u] for u in ding.dept_manager_userid_list if u in people],
    }
    if ding.order is not None:
        values["order"] = ding.order
    if ding.hide_dept is not None:
        visible_depts = [depts[d] for d in ding.dept_permits if d in depts]
        visible_people = [people[u] for u in ding.user_permits if u in people]
        if not ding.hide_dept:
            values["hide_mode"] = HideMode.OFF
        else:
            values["hide_mode"] = HideMode.SOME if (visible_depts or visible_people) else HideMode.ALL
        values["hide_visible_dept_ids"] = visible_depts if ding.hide_dept else []
        values["hide_visible_person_ids"] = visible_people if ding.hide_dept else []
    if ding.outer_dept is not None:
        restrict_depts = [depts[d] for d in ding.outer_permit_depts if d in depts]
        restrict_people = [people[u] for u in ding.outer_permit_users if u in people]
        if not ding.outer_dept:
            values["restrict_mode"] = RestrictMode.OFF
        elif ding.outer_dept_only_self:
            values["restrict_mode"] = RestrictMode.SELF
        else:
            values["restrict_mode"] = RestrictMode.SOME if (restrict_depts or restrict_people) else RestrictMode.NONE
        values["restrict_dept_ids"] = restrict_depts if ding.outer_dept else []
        values["restrict_person_ids"] = restrict_people if ding.outer_dept else []
    if ding.create_dept_group is not None:
        values["create_group"] = bool(ding.create_dept_group)
    if ding.dept_group_chat_id is not None:
        values["group_chat_id"] = ding.dept_group_chat_id or ""
    if ding.group_contain_sub_dept is not None:
        values["group_include_sub"] = bool(ding.group_contain_sub_dept)
    return values


def _person_values(ding: User, person: Person | None = None) -> dict[str, Any]:
    """Local values from a DingTalk user (the field table); fields DingTalk refused to take from us stay local."""
    values = fields.person_ding_values(ding)
    for name in (person.sync_conflicts or {}) if person is not None else ():
        values.pop(name, None)
    return values


async def ding_dept_ids(person: Person) -> list[int]:
    """The DingTalk ids of a person's departments, main first (those not yet in DingTalk left out)."""
    other_ids = await person.other_depts.all().values_list("id", flat=True)
    ids = [person.main_dept_id, *other_ids]
    ding_of = dict(await Department.filter(id__in=ids, ding_id__isnull=False).values_list("id", "ding_id"))
    return list(dict.fromkeys(ding_of[i] for i in ids if i in ding_of))


def _differs(obj: Any, values: dict[str, Any]) -> bool:
    return any(getattr(obj, k) != v for k, v in values.items())


# ---------------------------------------------------------------------------------------------------------------
# Single objects (callbacks)


async def root_department(org: Org, name: str | None = None) -> Department:
    """The org's root department (DingTalk id 1), created when missing."""
    root = await Department.get_or_none(org_id=org.id, ding_id=ROOT_DING_ID)
    if root is None:
        root = await tree.create_department(
            org_id=org.id, parent=None, name=(name or org.name)[:64], ding_id=ROOT_DING_ID, needs_push=False
        )
        touch_feed(root)
        await root.save(update_fields=["feed_time"])
    return root


async def apply_department(org: Org, ding_dept: DeptBrief, *, force: bool = False) -> Applied:
    """Create or update one department from DingTalk (``listsub`` item or ``department/get`` result).

    The parent must be known locally; an unknown parent puts the department under the root (the next full pull
    moves it). ``force`` applies the DingTalk values even over a pending local change.
    """
    is_root = ding_dept.dept_id == ROOT_DING_ID
    parent: Department | None = None
    if not is_root:
        parent = None
        if ding_dept.parent_id:
            parent = await Department.get_or_none(org_id=org.id, ding_id=ding_dept.parent_id)
        parent = parent or await root_department(org)
    values: dict[str, Any] = {"name": _dept_name(ding_dept, org), "is_deleted": False}
    if isinstance(ding_dept, DeptDetail):
        values.update(await _full_dept_values(org, ding_dept))
    dept = await Department.get_or_none(org_id=org.id, ding_id=ding_dept.dept_id)
    if dept is None:
        dept = await tree.create_department(
            org_id=org.id, parent=parent, ding_id=ding_dept.dept_id, needs_push=False, **values
        )
        touch_feed(dept)
        await dept.save(update_fields=["feed_time"])
        return Applied.CREATED
    if dept.needs_push and not force:
        return Applied.SKIPPED
    moved = parent is not None and dept.parent_id != parent.id
    if not moved and not _differs(dept, values):
        return Applied.UNCHANGED
    if moved:
        await tree.move_subtree(dept, parent)
    dept.update_from_dict(values)
    dept.needs_push = False
    touch_feed(dept)
    await dept.save()
    return Applied.UPDATED


async def apply_user(org: Org, ding_user: User, *, force: bool = False) -> Applied:
    """Create, update or re-activate one person from a DingTalk user (``user/get`` result or list item)."""
    person = await Person.get_or_none(org_id=org.id, ding_userid=ding_user.userid)
    if person is None and ding_user.mobile:
        person = await Person.get_or_none(org_id=org.id, mobile=ding_user.mobile, ding_userid__isnull=True)
    depts, _ = await _local_ids(org.id, ding_user.dept_id_list, [])
    local_depts = [depts[d] for d in ding_user.dept_id_list if d in depts]
    main_id = local_depts[0] if local_depts else (await root_department(org)).id
    others = [d for d in dict.fromkeys(local_depts) if d != main_id]
    values = {**_person_values(ding_user, person), "main_dept_id": main_id}
    if person is None:
        person = await Person.create(org_id=org.id, ding_userid=ding_user.userid, needs_push=False, **values)
        touch_feed(person)
        await person.save(update_fields=["feed_time"])
        if others:
            await person.other_depts.add(*await Department.filter(id__in=others))
        await _apply_leaders(org, person.id, ding_user)
        return Applied.CREATED
    if person.needs_push and not force:
        if person.ding_userid != ding_user.userid:  # link the mapping, keep the local values
            person.ding_userid = ding_user.userid
            person.unionid = ding_user.unionid
            touch_feed(person)
            await person.save(update_fields=["ding_userid", "unionid", "feed_time"])
        return Applied.SKIPPED
    current_others = set(await person.other_depts.all().values_list("id", flat=True))
    linked = person.ding_userid != ding_user.userid
    if not linked and not _differs(person, values) and current_others == set(others):
        await _apply_leaders(org, person.id, ding_user)
        return Applied.UNCHANGED
    person.update_from_dict(values)
    person.ding_userid = ding_user.userid
    person.needs_push = False
    touch_feed(person)
    await person.save()
    if current_others != set(others):
        await person.other_depts.clear()
        if others:
            await person.other_depts.add(*await Department.filter(id__in=others))
    await _apply_leaders(org, person.id, ding_user)
    return Applied.UPDATED


async def _apply_leaders(org: Org, person_id: int, ding_user: User) -> None:
    """Keep 部门主管 in step with ``leader_in_dept`` when the user object carries it."""
    if not ding_user.leader_in_dept:
        return
    flags = {item.dept_id: item.leader for item in ding_user.leader_in_dept}
    for dept in await Department.filter(org_id=org.id, ding_id__in=list(flags)):
        managers = list(dept.manager_ids or [])
        want = flags[dept.ding_id]
        if want and person_id not in managers:
            managers.append(person_id)
        elif not want and person_id in managers:
            managers.remove(person_id)
        else:
            continue
        dept.manager_ids = managers
        await dept.save(update_fields=["manager_ids"])


async def remove_department(org: Org, ding_id: int) -> Applied:
    """DingTalk deleted the department: keep a tombstone (the mapping feed reports the delete), nothing to push."""
    dept = await Department.get_or_none(org_id=org.id, ding_id=ding_id)
    if dept is None or dept.is_deleted:
        return Applied.MISSING
    dept.is_deleted = True
    dept.needs_push = False
    touch_feed(dept)
    await dept.save(update_fields=["is_deleted", "needs_push", "feed_time", "updated_at"])
    return Applied.UPDATED


async def disable_user(org: Org, userid: str) -> Applied:
    """The user left the DingTalk org: disable (置为无效) the person; DingTalk already has the change."""
    person = await Person.get_or_none(org_id=org.id, ding_userid=userid)
    if person is None or not person.is_active:
        return Applied.MISSING
    person.is_active = False
    person.needs_push = False
    touch_feed(person)
    await person.save(update_fields=["is_active", "needs_push", "feed_time", "updated_at"])
    return Applied.UPDATED


# ---------------------------------------------------------------------------------------------------------------
# The whole org (baseline)


async def pull_baseline(
    client: DingTalkClient, app: App, org: Org, progress: ProgressFn | None = None
) -> BaselineResult:
    """Copy DingTalk's whole department tree and every member of every department (all pages) into the org.

    Bulk writes (a few statements per 500 objects), so a 10,000-person org costs O(n / 500) queries, not O(n).
    Nothing is deleted: this is the starting point, the sync runs compare against it later.
    """
    result = BaselineResult()
    await _report(progress, "正在读取钉钉部门", 0, 0)
    root = await client.contacts.get_department(app, ROOT_DING_ID)
    briefs: list[DeptBrief] = [DeptBrief(dept_id=ROOT_DING_ID, name=root.name, parent_id=None)]
    async for brief in client.contacts.iter_department_tree(app, ROOT_DING_ID):
        briefs.append(brief)
        if len(briefs) % 100 == 0:
            await _report(progress, f"正在读取钉钉部门：已读取 {len(briefs)} 个", len(briefs), 0)
    result.departments_fetched = len(briefs)
    dept_map = await _upsert_departments(org, briefs, result)

    users: dict[str, User] = {}
    leaders: dict[int, list[str]] = {}
    done = 0

    async def read_members(dept_id: int) -> list[User]:
        return [u async for u in client.contacts.iter_dept_users(app, dept_id)]

    ids = [b.dept_id for b in briefs]
    for chunk in _chunks(ids, USER_LIST_CONCURRENCY):
        pages = await asyncio.gather(*(read_members(d) for d in chunk))
        for dept_id, members in zip(chunk, pages, strict=True):
            for user in members:
                known = users.get(user.userid)
                if known is None:
                    users[user.userid] = user
                if user.leader:
                    leaders.setdefault(dept_id, []).append(user.userid)
        done += len(chunk)
        if done % 20 < len(chunk) or done == len(ids):
            await _report(progress, f"正在读取钉钉人员：{done}/{len(ids)} 个部门，{len(users)} 人", done, len(ids))
    result.people_fetched = len(users)
    await _report(progress, f"正在保存 {len(users)} 名人员", done, len(ids))
    person_ids = await _upsert_people(org, list(users.values()), dept_map, result)
    await _apply_baseline_leaders(dept_map, leaders, person_ids)
    await _report(progress, result.summary, len(ids), len(ids))
    return result


def _levels(briefs: list[DeptBrief]) -> list[list[DeptBrief]]:
    """Group the tree by depth (parents always in an earlier group than their children)."""
    depth: dict[int, int] = {ROOT_DING_ID: 0}
    levels: list[list[DeptBrief]] = []
    for brief in briefs:
        level = 0 if brief.dept_id == ROOT_DING_ID else depth.get(brief.parent_id or ROOT_DING_ID, 0) + 1
        depth[brief.dept_id] = level
        while len(levels) <= level:
            levels.append([])
        levels[level].append(brief)
    return levels


async def _upsert_departments(org: Org, briefs: list[DeptBrief], result: BaselineResult) -> dict[int, Department]:
    existing = {d.ding_id: d for d in await Department.filter(org_id=org.id, ding_id__isnull=False)}
    by_id = {d.id: d for d in existing.values()}
    stamp = now_ms()
    moves: list[tuple[Department, int]] = []
    for level in _levels(briefs):
        to_create: list[Department] = []
        to_update: list[Department] = []
        for brief in level:
            parent = existing.get(brief.parent_id) if brief.dept_id != ROOT_DING_ID else None
            if brief.dept_id != ROOT_DING_ID and parent is None:
                parent = existing.get(ROOT_DING_ID)
            name = _dept_name(brief, org)
            dept = existing.get(brief.dept_id)
            if dept is None:
                to_create.append(
                    Department(
                        org_id=org.id,
                        parent_id=parent.id if parent else None,
                        name=name,
                        path="/",
                        depth=(parent.depth + 1) if parent else 0,
                        ding_id=brief.dept_id,
                        needs_push=False,
                        feed_time=stamp,
                    )
                )
                continue
            if dept.needs_push:
                continue  # LanDing wins over a pending local change
            if parent is not None and dept.parent_id != parent.id:
                moves.append((dept, parent.ding_id))
            if dept.name != name or dept.is_deleted:
                dept.name = name
                dept.is_deleted = False
                dept.feed_time = stamp
                to_update.append(dept)
        for batch in _chunks(to_create):
            await Department.bulk_create(batch)
            created = await Department.filter(org_id=org.id, ding_id__in=[d.ding_id for d in batch])
            parents = {d.ding_id: d.parent_id for d in batch}
            for dept in created:
                parent_dept = by_id.get(parents[dept.ding_id] or -1)
                dept.path = tree.child_path(parent_dept, dept.id)
                dept.depth = (parent_dept.depth + 1) if parent_dept else 0
                existing[dept.ding_id] = dept
                by_id[dept.id] = dept
            await Department.bulk_update(created, fields=["path", "depth"], batch_size=BATCH)
            result.departments_created += len(created)
        for batch in _chunks(to_update):
            await Department.bulk_update(batch, fields=["name", "is_deleted", "feed_time"], batch_size=BATCH)
        result.departments_updated += len(to_update)
    for dept, parent_ding_id in moves:
        fresh = await Department.get(id=dept.id)
        new_parent = await Department.get(org_id=org.id, ding_id=parent_ding_id)
        if tree.is_in_subtree(new_parent, fresh):
            continue
        await tree.move_subtree(fresh, new_parent)
        fresh.feed_time = stamp
        await fresh.save(update_fields=["feed_time"])
        result.departments_updated += 1
    return {d.ding_id: d for d in await Department.filter(org_id=org.id, ding_id__isnull=False)}


async def _upsert_people(
    org: Org, users: list[User], dept_map: dict[int, Department], result: BaselineResult
) -> dict[str, int]:
    """Bulk upsert; returns DingTalk userid -> person id."""
    stamp = now_ms()
    root_id = dept_map[ROOT_DING_ID].id
    people = await Person.filter(org_id=org.id).prefetch_related("other_depts")
    by_uid = {p.ding_userid: p for p in people if p.ding_userid}
    by_mobile = {p.mobile: p for p in people if p.mobile}
    to_create: list[Person] = []
    to_update: list[Person] = []
    other_depts: dict[str, list[int]] = {}
    for user in users:
        local = [dept_map[d].id for d in user.dept_id_list if d in dept_map]
        main_id = local[0] if local else root_id
        others = [d for d in dict.fromkeys(local) if d != main_id]
        person = by_uid.get(user.userid)
        values = {**_person_values(user, person), "main_dept_id": main_id}
        if person is None and user.mobile:
            candidate = by_mobile.get(user.mobile)
            if candidate is not None and candidate.ding_userid and candidate.ding_userid != user.userid:
                result.errors.append(f"{user.name}（{user.userid}）：手机号已被本地人员 {candidate.name} 使用")
                continue
            person = candidate
            values = {**_person_values(user, person), "main_dept_id": main_id}
        if person is None:
            to_create.append(
                Person(org_id=org.id, ding_userid=user.userid, needs_push=False, feed_time=stamp, **values)
            )
            if others:
                other_depts[user.userid] = others
            continue
        if person.needs_push:
            if person.ding_userid != user.userid:  # link only; the local values win
                person.ding_userid = user.userid
                person.unionid = user.unionid
                person.feed_time = stamp
                to_update.append(person)
            continue
        current = {d.id for d in person.other_depts}
        if person.ding_userid == user.userid and not _differs(person, values) and current == set(others):
            continue
        person.update_from_dict(values)
        person.ding_userid = user.userid
        person.feed_time = stamp
        to_update.append(person)
        if current != set(others):
            other_depts[user.userid] = others
    columns = ["ding_userid", "feed_time", "main_dept_id", *_person_values(users[0]).keys()] if users else []
    for batch in _chunks(to_update):
        await Person.bulk_update(batch, fields=columns, batch_size=BATCH)
    result.people_updated = len(to_update)
    for batch in _chunks(to_create):
        await Person.bulk_create(batch)
    result.people_created = len(to_create)
    ids: dict[str, int] = dict(
        await Person.filter(org_id=org.id, ding_userid__isnull=False).values_list("ding_userid", "id")
    )
    await _set_other_depts(other_depts, ids)
    return ids


async def _set_other_depts(other_depts: dict[str, list[int]], ids: dict[str, int]) -> None:
    """Replace the 其他部门 of the people in ``other_depts`` (few: most people belong to one department)."""
    if not other_depts:
        return
    person_ids = [ids[u] for u in other_depts if u in ids]
    people = {p.id: p for p in await Person.filter(id__in=person_ids)}
    depts = {d.id: d for d in await Department.filter(id__in={d for v in other_depts.values() for d in v})}
    for userid, dept_ids in other_depts.items():
        person = people.get(ids.get(userid, -1))
        if person is None:
            continue
        await person.other_depts.clear()
        await person.other_depts.add(*[depts[d] for d in dept_ids if d in depts])


async def _apply_baseline_leaders(
    dept_map: dict[int, Department], leaders: dict[int, list[str]], person_ids: dict[str, int]
) -> None:
    changed: list[Department] = []
    for ding_id, userids in leaders.items():
        dept = dept_map.get(ding_id)
        if dept is None or dept.needs_push:
            continue
        wanted = [person_ids[u] for u in userids if u in person_ids]
        if list(dept.manager_ids or []) != wanted:
            dept.manager_ids = wanted
            changed.append(dept)
    for batch in _chunks(changed):
        await Department.bulk_update(batch, fields=["manager_ids"], batch_size=BATCH)


__all__ = [
    "BaselineResult",
    "Applied",
    "ProgressFn",
    "apply_department",
    "apply_user",
    "ding_app",
    "disable_user",
    "pull_baseline",
    "remove_department",
    "root_department",
]
