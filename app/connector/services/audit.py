"""操作日志: who changed the connector's binding, options, API account, mapping or 异常信息, and what changed.

Secrets never enter the detail (passwords and AppSecrets are reported as changed, not as values).
"""

from __future__ import annotations

from typing import Any

from app.connector.models import Admin, AuditEntry


async def record(admin_id: int | None, action: str, detail: dict[str, Any] | None = None) -> None:
    admin = await Admin.get_or_none(id=admin_id) if admin_id else None
    await AuditEntry.create(actor=admin.login if admin else "system", action=action, detail=detail or {})


async def page(offset: int, limit: int) -> tuple[list[AuditEntry], int]:
    query = AuditEntry.all()
    return await query.order_by("-id").offset(offset).limit(limit), await query.count()
