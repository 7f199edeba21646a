"""Small read-only lookups about orgs that the frame needs on every page."""

from __future__ import annotations

from app.models.orgs import Org


async def org_name(org_id: int) -> str:
    org = await Org.get_or_none(id=org_id).only("id", "name")
    return org.name if org else ""
