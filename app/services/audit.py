"""The audit trail: every admin write goes through ``record``; ``search`` is what the audit page reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q

from app.models.audit import AuditLog
from app.services.permissions import Actor, Perm, require

_SECRET_KEYS = ("password", "secret", "aes_key", "token", "private")


def scrub(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Before/after snapshots keep that a secret changed, never its value."""
    if values is None:
        return None
    return {k: ("******" if any(s in k.lower() for s in _SECRET_KEYS) and v else v) for k, v in values.items()}


async def record(
    actor: Actor | None,
    action: str,
    *,
    org_id: int | None = None,
    org_name: str = "",
    object_type: str = "",
    object_id: Any = "",
    object_name: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
    login: str = "",
    ip: str = "",
) -> AuditLog:
    return await AuditLog.create(
        account_id=actor.account_id if actor else None,
        account_login=actor.login if actor else login,
        org_id=org_id,
        org_name=org_name,
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        object_name=object_name,
        before=scrub(before),
        after=scrub(after),
        ip=(actor.ip if actor else ip) or ip,
        detail=detail,
    )


@dataclass
class AuditPage:
    rows: list[AuditLog]
    total: int


async def search(
    actor: Actor,
    *,
    keyword: str = "",
    action: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    size: int = 20,
) -> AuditPage:
    """Super admins see everything; an org admin sees the entries of the current org only."""
    require(actor, Perm.AUDIT_VIEW)
    query = AuditLog.all()
    if not actor.is_super:
        query = query.filter(org_id=actor.current_org_id)
    if keyword:
        query = query.filter(
            Q(object_name__icontains=keyword) | Q(account_login__icontains=keyword) | Q(detail__icontains=keyword)
        )
    if action:
        query = query.filter(action__startswith=action)
    if since:
        query = query.filter(at__gte=since)
    if until:
        query = query.filter(at__lte=until)
    total = await query.count()
    rows = await query.order_by("-id").offset((max(page, 1) - 1) * size).limit(size)
    return AuditPage(rows=rows, total=total)
