"""显示 / 复制 of an org's AESKey and 回调Token: an admin types them into DingTalk's console by hand.

Only super and org admins may (the permission to edit the org); every reveal is audited with who and from where,
and the value itself never enters the audit trail or a log line.
"""

from __future__ import annotations

from app.models.orgs import Org
from app.services import audit
from app.services.errors import NotFound, ValidationFailed
from app.services.permissions import Actor, Perm, authorize

REVEALABLE = {"aes_key": "AESKey", "callback_token": "回调Token"}


async def reveal(actor: Actor, org_id: int, which: str, *, purpose: str = "显示") -> str:
    if which not in REVEALABLE:
        raise ValidationFailed("只能查看 AESKey 或 回调Token")
    actor = await authorize(actor, Perm.ORG_EDIT, org_id)
    org = await Org.get_or_none(id=org_id)
    if org is None:
        raise NotFound("组织不存在或已解散")
    await audit.record(
        actor,
        "org.reveal_secret",
        org_id=org.id,
        org_name=org.name,
        object_type="org",
        object_id=org.id,
        object_name=org.name,
        detail=f"{purpose} {REVEALABLE[which]}",
    )
    return getattr(org, which) or ""
