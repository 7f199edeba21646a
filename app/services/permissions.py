"""Roles, permission codes and who holds what: the one table every check and menu reads (guide 3.4).

超级管理员 > 组织管理员 > 子管理员 > 部门管理员. A permission is checked together with its scope: system-wide for the
super admin, one organisation for org and sub admins, and the subtrees of their departments for department admins
(the contacts service applies that last part).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from enum import StrEnum

from app.core.security import mask
from app.models.accounts import Account, Role, RoleGrant
from app.models.orgs import Org
from app.services.errors import PermissionDenied


class Perm(StrEnum):
    SYSTEM_INIT = "system.init"
    SYSTEM_SETTINGS = "system.settings"
    COMPANY_MANAGE = "company.manage"
    ORG_MANAGE = "org.manage"
    LOGIN_AUTH = "login_auth.manage"
    ORG_VIEW = "org.view"
    ORG_EDIT = "org.edit"
    SUBADMIN_MANAGE = "subadmin.manage"
    ACCESS_MANAGE = "access.manage"
    CONTACTS_VIEW = "contacts.view"
    CONTACTS_EDIT = "contacts.edit"
    SYNC_MANAGE = "sync.manage"
    SYNC_LOG_VIEW = "sync.log.view"
    AUDIT_VIEW = "audit.view"
    PERMISSION_VIEW = "permission.view"
    EXCLUSIVE_MANAGE = "exclusive.manage"


PERMISSION_NAMES: dict[Perm, tuple[str, str]] = {
    Perm.SYSTEM_INIT: ("系统初始化", "系统"),
    Perm.SYSTEM_SETTINGS: ("系统设置", "系统"),
    Perm.COMPANY_MANAGE: ("公司信息", "系统"),
    Perm.ORG_MANAGE: ("创建/编辑/解散组织", "系统"),
    Perm.LOGIN_AUTH: ("登录认证", "系统"),
    Perm.ORG_VIEW: ("查看组织信息", "组织"),
    Perm.ORG_EDIT: ("编辑组织信息", "组织"),
    Perm.SUBADMIN_MANAGE: ("设置子管理员", "组织"),
    Perm.ACCESS_MANAGE: ("接入系统", "组织"),
    Perm.CONTACTS_VIEW: ("查看通讯录", "通讯录"),
    Perm.CONTACTS_EDIT: ("维护通讯录", "通讯录"),
    Perm.SYNC_MANAGE: ("通讯录同步", "通讯录"),
    Perm.SYNC_LOG_VIEW: ("查看同步日志", "通讯录"),
    Perm.AUDIT_VIEW: ("审计日志", "权限管理"),
    Perm.PERMISSION_VIEW: ("角色权限", "权限管理"),
    Perm.EXCLUSIVE_MANAGE: ("专属钉钉配置", "组织"),
}

ROLE_NAMES: dict[Role, str] = {
    Role.SUPER_ADMIN: "超级管理员",
    Role.ORG_ADMIN: "组织管理员",
    Role.SUB_ADMIN: "子管理员",
    Role.DEPT_ADMIN: "部门管理员",
}

# Higher number = more power; used to pick an account's effective role in an org.
ROLE_LEVEL: dict[Role, int] = {Role.SUPER_ADMIN: 4, Role.ORG_ADMIN: 3, Role.SUB_ADMIN: 2, Role.DEPT_ADMIN: 1}

_ORG_WORK = {
    Perm.ORG_VIEW,
    Perm.ACCESS_MANAGE,
    Perm.CONTACTS_VIEW,
    Perm.CONTACTS_EDIT,
    Perm.SYNC_MANAGE,
    Perm.SYNC_LOG_VIEW,
    Perm.PERMISSION_VIEW,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.SUPER_ADMIN: frozenset(Perm),
    Role.ORG_ADMIN: frozenset(
        _ORG_WORK | {Perm.ORG_EDIT, Perm.SUBADMIN_MANAGE, Perm.AUDIT_VIEW, Perm.EXCLUSIVE_MANAGE}
    ),
    # 子管理员: everything an org admin does except editing the org and appointing sub-admins.
    Role.SUB_ADMIN: frozenset(_ORG_WORK),
    Role.DEPT_ADMIN: frozenset({Perm.CONTACTS_VIEW, Perm.CONTACTS_EDIT}),
}

# Permissions that are about the whole installation, never about one org.
SYSTEM_PERMISSIONS = frozenset(
    {Perm.SYSTEM_INIT, Perm.SYSTEM_SETTINGS, Perm.COMPANY_MANAGE, Perm.ORG_MANAGE, Perm.LOGIN_AUTH}
)


@dataclass(frozen=True)
class Actor:
    """Who is acting, resolved from the session on every request (so revoked roles take effect at once)."""

    account_id: int
    login: str
    display_name: str
    is_super: bool = False
    org_roles: dict[int, Role] = field(default_factory=dict)
    dept_scopes: dict[int, tuple[int, ...]] = field(default_factory=dict)
    current_org_id: int | None = None
    ip: str = ""
    # The account's session generation when this actor came from a browser session; None for internal actors.
    session_epoch: int | None = None

    def role_in(self, org_id: int | None) -> Role | None:
        if self.is_super:
            return Role.SUPER_ADMIN
        if org_id is None:
            return None
        return self.org_roles.get(org_id)

    @property
    def current_role(self) -> Role | None:
        return self.role_in(self.current_org_id) if not self.is_super else Role.SUPER_ADMIN

    def can(self, perm: Perm, org_id: int | None = None) -> bool:
        if self.is_super:
            return True
        if perm in SYSTEM_PERMISSIONS:
            return False
        role = self.role_in(org_id if org_id is not None else self.current_org_id)
        return role is not None and perm in ROLE_PERMISSIONS[role]

    def dept_scope(self, org_id: int) -> tuple[int, ...] | None:
        """None means the whole org; a tuple lists the departments whose subtrees this actor may see."""
        role = self.role_in(org_id)
        if role == Role.DEPT_ADMIN:
            return self.dept_scopes.get(org_id, ())
        return None


class SessionEnded(PermissionDenied):
    """The session behind this actor was ended (logout, password change, role removal ...) or the account is off."""

    def __init__(self) -> None:
        super().__init__("session", SESSION_ENDED_MESSAGE)


SESSION_ENDED_MESSAGE = "登录已失效（账号已退出、密码或角色已变更），请重新登录"


async def build_actor(
    account_id: int, current_org_id: int | None = None, ip: str = "", session_epoch: int | None = None
) -> Actor | None:
    """The account's current rights, read from the database; None when it is gone, off or its session ended."""
    account = await Account.get_or_none(id=account_id, is_active=True)
    if account is None or (session_epoch is not None and account.session_epoch != session_epoch):
        return None
    grants = await RoleGrant.filter(account_id=account_id)
    is_super = any(g.role == Role.SUPER_ADMIN for g in grants)
    org_roles: dict[int, Role] = {}
    dept_scopes: dict[int, tuple[int, ...]] = {}
    for grant in grants:
        if grant.org_id is None:
            continue
        current = org_roles.get(grant.org_id)
        if current is None or ROLE_LEVEL[grant.role] > ROLE_LEVEL[current]:
            org_roles[grant.org_id] = grant.role
        if grant.role == Role.DEPT_ADMIN:
            dept_scopes[grant.org_id] = tuple(sorted(set(dept_scopes.get(grant.org_id, ())) | set(grant.dept_ids)))
    if current_org_id is not None and not is_super and current_org_id not in org_roles:
        current_org_id = None
    if current_org_id is not None and not await Org.exists(id=current_org_id):
        current_org_id = None
    return Actor(
        account_id=account.id,
        login=account.login,
        display_name=account.display_name or account.login,
        is_super=is_super,
        org_roles=org_roles,
        dept_scopes=dept_scopes,
        current_org_id=current_org_id,
        ip=ip,
        session_epoch=session_epoch,
    )


async def refresh(actor: Actor) -> Actor:
    """The same actor with its rights as the database holds them now (an open page may be hours old).

    The org the actor works in is kept only while it still holds a role there.
    """
    fresh = await build_actor(actor.account_id, actor.current_org_id, actor.ip, actor.session_epoch)
    if fresh is None:
        raise SessionEnded()
    if fresh.current_org_id != actor.current_org_id:
        fresh = replace(fresh, current_org_id=None)
    return fresh


def require(actor: Actor, perm: Perm, org_id: int | None = None) -> None:
    """Check ``perm`` against the actor as it was loaded (no database read). Services use :func:`authorize`."""
    if not actor.can(perm, org_id):
        raise PermissionDenied(perm.value, f"无权限：{PERMISSION_NAMES[perm][0]}")
    _viewer.set(_ViewerRole(actor.role_in(org_id if org_id is not None else actor.current_org_id)))


async def authorize(actor: Actor, perm: Perm, org_id: int | None = None) -> Actor:
    """Check ``perm`` against the acting account's current state; returns the refreshed actor.

    Every service calls this first, so a role removed, an account disabled or a session ended a second ago
    stops the next action of a page that was opened before (the actor a page holds may be hours old).
    """
    fresh = await refresh(actor)
    require(fresh, perm, org_id)
    return fresh


@dataclass(frozen=True)
class _ViewerRole:
    role: Role | None


# Who the view being built is for: set by ``require`` in the same task, read by ``masked``.
_viewer: ContextVar[_ViewerRole | None] = ContextVar("landing_viewer", default=None)
SECRET_SET = "已设置"


def masked(secret: str | None) -> str:
    """A secret as a page may show it: its last four characters for super and org admins, for the others only
    that it is set (sub-admins and department admins work with the org, not with its credentials)."""
    if not secret:
        return ""
    viewer = _viewer.get()
    if viewer is None or viewer.role not in (Role.SUPER_ADMIN, Role.ORG_ADMIN):
        return SECRET_SET
    return mask(secret)
