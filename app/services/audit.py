"""The audit trail: every admin write goes through ``record``; ``search`` is what the audit page reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q

from app.core import metrics, redaction
from app.models.audit import AuditLog
from app.services.permissions import Actor, Perm, authorize, require

# What the audit page shows for an action code; unknown codes are shown as they are.
ACTION_LABELS = {
    "login.success": "登录成功",
    "login.failed": "登录失败",
    "login.locked": "账号锁定",
    "account.change_password": "修改密码",
    "account.reset_password": "重置密码（命令行）",
    "account.grant_role": "授予角色",
    "account.revoke_role": "取消角色",
    "system.init": "系统初始化",
    "system.param": "修改系统参数",
    "company.create": "创建公司",
    "company.update": "编辑公司信息",
    "org.create": "新建组织",
    "org.update": "编辑组织",
    "org.dissolve": "解散组织",
    "org.register_callback": "注册回调",
    "org.set_main_admin": "修改主管理员",
    "org.reveal_secret": "查看/复制回调密钥",
    "system.security": "修改安全设置",
    "login.logout": "退出登录",
    "login.no_role": "无角色账号登录被拒",
    "org.baseline": "从钉钉拉取通讯录",
    "login_auth.update": "修改登录认证",
    "login_auth.rotate_key": "轮换签名密钥",
    "login_auth.regenerate_secret": "重新生成 Client Secret",
    "oidc.login.success": "域账号登录成功",
    "oidc.login.failed": "域账号登录失败",
    "oidc.login.blocked": "域账号登录受限",
    "contacts.dept.create": "新增部门",
    "contacts.dept.update": "编辑部门",
    "contacts.dept.move": "移动部门",
    "contacts.dept.delete": "删除部门",
    "contacts.person.create": "新增人员",
    "contacts.person.update": "编辑人员",
    "contacts.person.disable": "人员置为无效",
    "contacts.person.enable": "人员恢复有效",
    "contacts.person.restore": "恢复人员",
    "contacts.person.keep_dingtalk": "保留钉钉的值",
    "contacts.person.recreate": "钉钉中删除后重新添加",
    "contacts.person.add_dept": "加入现有人员",
    "contacts.person.remove_dept": "移出部门",
    "contacts.person.batch_delete": "批量删除人员",
    "sync.run": "立即同步",
    "api_token.create": "新建API令牌",
    "api_token.revoke": "撤销API令牌",
    "sync.settings.update": "修改同步设置",
    "sync.cursors.clear": "清空同步时间戳",
    "sync.logs.delete": "删除同步日志",
    "sync.threshold.approve": "批准超阈值删除",
    "sync.threshold.reject": "拒绝超阈值删除",
    "access.create": "新建接入系统",
    "access.update": "编辑接入系统",
    "access.delete": "删除接入系统",
    "access.rearm": "重新启用接入标识",
    "access.replay": "重新发送通知",
    "access.bind": "接入系统绑定",
    "access.bind_refused": "接入系统绑定被拒",
    "access.notify_url": "设置接收通知接口",
    "exclusive.storage.check": "专属存储检测链接",
    "exclusive.storage.open": "开启专属数据存储",
    "exclusive.storage.update_key": "更新专属存储 AccessKey",
    "exclusive.storage.step": "专属存储设置步骤",
    "exclusive.asset.upload": "上传专属企业界面图片",
    "exclusive.asset.restore": "恢复专属企业界面图片",
    "exclusive.theme": "修改专属钉钉主题色",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def scrub(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Before/after snapshots keep that a secret changed, never its value (the rule is app/core/redaction.py's)."""
    return redaction.redact_snapshot(values)


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
    metrics.audit_recorded(action)
    return await AuditLog.create(
        account_id=actor.account_id if actor else None,
        account_login=_text(actor.login if actor else login, 64),
        org_id=org_id,
        org_name=_text(org_name, 128),
        action=action,
        object_type=object_type,
        object_id=_text(str(object_id or ""), 64),
        object_name=_text(object_name, 255),
        before=scrub(before),
        after=scrub(after),
        ip=_text((actor.ip if actor else ip) or ip, 64),
        detail=_text(detail, 2000),
    )


def _text(value: str, limit: int) -> str:
    """What a stranger typed goes into the trail as text: bounded, without NUL (which PostgreSQL refuses)."""
    return (value or "").replace("\x00", "")[:limit]


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
    await authorize(actor, Perm.AUDIT_VIEW)
    query = filtered(actor, keyword=keyword, action=action, since=since, until=until)
    total = await query.count()
    rows = await query.order_by("-id").offset((max(page, 1) - 1) * size).limit(size)
    return AuditPage(rows=rows, total=total)


def filtered(
    actor: Actor, *, keyword: str = "", action: str = "", since: datetime | None = None, until: datetime | None = None
):
    """The entries ``actor`` may read that match the filters (the audit page and its export share this)."""
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
    return query
