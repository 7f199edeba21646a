"""设置 > 组织设置 (guide 3.3.2): the org admin views and edits the current organisation."""

from __future__ import annotations

from app.components.frame import actor, page
from app.pages.settings_company import org_view_or_edit
from app.services.permissions import Perm


@page("/settings/org", "组织设置", section="settings", perm=Perm.ORG_VIEW, needs_org=True, menu=("settings.org", 50))
async def org_settings_page() -> None:
    await org_view_or_edit(actor().current_org_id, back=None)
