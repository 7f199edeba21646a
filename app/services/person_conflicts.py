"""Values DingTalk refused to take from us (``Person.sync_conflicts``) and the two real ways to resolve them.

A refused field (today: the mobile of a user who joined DingTalk, 40022) is kept as LanDing has it and flagged; the
sync never reverts it and never asks DingTalk again on its own. An admin then chooses on the person's page:

- 保留钉钉的值: LanDing takes DingTalk's value back; the flag goes.
- 删除后重新添加: the DingTalk user is deleted and created again with the same userid and LanDing's values
  (``app.sync.recreate``); what the person loses is shown before it starts.

Both are audited and run with the org claimed, so they never interleave with a sync run.
"""

from __future__ import annotations

from app.dingtalk.client import DingTalkClient
from app.dingtalk.errors import DingTalkError
from app.models.orgs import Org
from app.services.contacts.scope import get_person, resolve
from app.services.errors import ValidationFailed
from app.services.permissions import Actor, Perm
from app.services.write import write
from app.sync import fields, recreate, runner

LOSSES = recreate.LOSSES


async def _conflicted(actor: Actor, org_id: int | None, person_id: int, field: str):
    scope = await resolve(actor, org_id, Perm.CONTACTS_EDIT)
    person, _ = await get_person(scope, person_id)
    if field not in (person.sync_conflicts or {}):
        raise ValidationFailed(f"该人员的{fields.label(field)}没有待处理的钉钉差异")
    return scope, person


async def keep_dingtalk_value(actor: Actor, org_id: int | None, person_id: int, field: str) -> None:
    """保留钉钉的值: LanDing takes back the value DingTalk holds."""
    scope, person = await _conflicted(actor, org_id, person_id, field)
    conflict = person.sync_conflicts[field]
    before = {field: getattr(person, field)}
    async with write(actor, scope=scope, target=person, kind="person") as w:
        setattr(person, field, fields.BY_LOCAL[field].local_value(conflict.get("ding")))
        person.sync_conflicts = {k: v for k, v in person.sync_conflicts.items() if k != field}
        w.push(person)
        w.feed(person)
        await person.save(update_fields=[field, "sync_conflicts", "needs_push", "feed_time", "updated_at"])
        await w.audit(
            "contacts.person.keep_dingtalk",
            before=before,
            after={field: getattr(person, field)},
            detail=f"保留钉钉的{fields.label(field)}",
        )
        w.contacts_changed(scope.org_id, "contacts.person.update", {"person_ids": [person.id]})


async def recreate_in_dingtalk(actor: Actor, org_id: int | None, person_id: int, *, client: DingTalkClient) -> None:
    """删除后重新添加 the person's DingTalk user with LanDing's values (same userid, same departments)."""
    scope, person = await _conflicted(actor, org_id, person_id, "mobile")
    if not person.is_active:
        raise ValidationFailed("无效人员不能重新添加到钉钉")
    try:
        await runner.claim(scope.org_id)
    except runner.SyncBusy:
        raise ValidationFailed("同步正在进行中，请稍后再试") from None
    before = {"mobile": person.sync_conflicts["mobile"].get("ding"), "unionid": person.unionid}
    try:
        await recreate.recreate_user(client, await Org.get(id=scope.org_id), person)
    except (DingTalkError, ValueError) as exc:
        raise ValidationFailed(f"重新添加失败：{exc}") from exc
    finally:
        await runner.unclaim(scope.org_id)
    async with write(actor, scope=scope, target=person, kind="person") as w:  # the sync engine wrote the person
        await w.audit(
            "contacts.person.recreate",
            before=before,
            after={"mobile": person.mobile, "unionid": person.unionid},
            detail="在钉钉中删除后重新添加",
        )
        w.contacts_changed(scope.org_id, "contacts.person.update", {"person_ids": [person.id]})
