"""Small read helpers the page shell needs about the logged-in administrator."""

from __future__ import annotations

from app.connector.models import Admin


async def exists(admin_id: int) -> bool:
    return await Admin.exists(id=admin_id)


async def must_change(admin_id: int) -> bool:
    admin = await Admin.get_or_none(id=admin_id)
    return admin is None or admin.must_change
