"""Who administers what: the accounts and their role grants, scoped to what the viewer may see."""

from __future__ import annotations

from app.core import pinyin
from app.models.accounts import RoleGrant
from app.services.permissions import ROLE_NAMES, Actor, Perm, authorize


async def list_admins(actor: Actor) -> list[dict]:
    await authorize(actor, Perm.PERMISSION_VIEW)
    query = RoleGrant.all().select_related("account", "org")
    if not actor.is_super:
        query = query.filter(org_id=actor.current_org_id)
    rows = []
    for grant in await query.order_by("org_id", "role", "account_id"):
        account = grant.account
        rows.append(
            {
                "key": grant.id,
                "login": account.login,
                "name": account.display_name,
                "role": ROLE_NAMES[grant.role],
                "org": grant.org.name if grant.org else "全部",
                "state": "待修改初始密码"
                if account.must_change_password
                else ("已停用" if not account.is_active else "正常"),
            }
        )
    return rows


def sort_rows(rows: list[dict], column: str, descending: bool = False) -> list[dict]:
    """Rows ordered by one column; Chinese text (姓名, 组织) by pinyin."""
    return sorted(rows, key=lambda r: (pinyin.sort_key(str(r.get(column, ""))), r["key"]), reverse=descending)
