"""Fixed definitions the product ships with: navigation, system parameters, jobs and dictionaries.

System initialisation copies them into the database (guide 3.2.1) so admins can see them; the frame and the
permission checks read them from here, so a page works the same before and after initialisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.services.permissions import Perm


@dataclass(frozen=True)
class MenuDef:
    code: str
    section: str
    label: str
    path: str
    perm: Perm
    sort: int


SECTIONS: list[tuple[str, str]] = [("contacts", "通讯录"), ("permissions", "权限管理"), ("settings", "设置")]

MENUS: list[MenuDef] = [
    MenuDef("contacts.tree", "contacts", "通讯录", "/contacts", Perm.CONTACTS_VIEW, 10),
    MenuDef("contacts.sync_settings", "contacts", "同步设置", "/sync/settings", Perm.SYNC_MANAGE, 20),
    MenuDef("contacts.sync_logs", "contacts", "同步日志", "/sync/logs", Perm.SYNC_LOG_VIEW, 30),
    MenuDef("permissions.roles", "permissions", "角色权限", "/permissions/roles", Perm.PERMISSION_VIEW, 10),
    MenuDef("permissions.admins", "permissions", "管理员", "/permissions/admins", Perm.PERMISSION_VIEW, 20),
    MenuDef("permissions.audit", "permissions", "审计日志", "/permissions/audit", Perm.AUDIT_VIEW, 30),
    MenuDef("settings.company", "settings", "公司信息", "/settings/company", Perm.COMPANY_MANAGE, 10),
    MenuDef("settings.login_auth", "settings", "登录认证", "/settings/login-auth", Perm.LOGIN_AUTH, 20),
    MenuDef("settings.system", "settings", "系统设置", "/settings/system", Perm.SYSTEM_SETTINGS, 30),
    MenuDef("settings.init", "settings", "系统初始化", "/settings/init", Perm.SYSTEM_INIT, 40),
    MenuDef("settings.org", "settings", "组织设置", "/settings/org", Perm.ORG_VIEW, 50),
    MenuDef("settings.sub_admins", "settings", "子管理员", "/settings/sub-admins", Perm.SUBADMIN_MANAGE, 60),
    MenuDef("settings.access", "settings", "接入系统", "/settings/access", Perm.ACCESS_MANAGE, 70),
    MenuDef("settings.exclusive", "settings", "专属钉钉", "/settings/exclusive", Perm.EXCLUSIVE_MANAGE, 80),
]


def system_params(public_base_url: str) -> dict[str, tuple[str, object]]:
    return {
        "server_dns": ("服务器DNS(外网)", public_base_url),
        "system_name": ("系统名称", "蓝钉管理平台"),
        "password_min_length": ("密码最小长度", 8),
        "login_max_failures": ("登录失败锁定次数", 5),
        "login_lock_minutes": ("锁定时长(分钟)", 15),
        "sync_log_retention_days": ("同步日志保留天数", 180),
        "time_zone": ("时区", "Asia/Shanghai"),
    }


SYNC_DEFAULTS = {"cron": "0 */2 * * *", "delete_threshold": 20, "source_type": "EKP", "transport": "rest"}
LOGIN_AUTH_DEFAULTS = {"enabled": False, "authenticator": "ekp", "client_id": "", "redirect_uris": []}

JOBS: list[tuple[str, str, str]] = [
    ("contacts_sync", "通讯录定时同步（按组织的 Cron 表达式）", "0 */2 * * *"),
    ("callback_processor", "钉钉回调事件处理", "* * * * *"),
    ("access_notifier", "接入系统变更通知", "* * * * *"),
    ("log_cleanup", "日志清理", "30 3 * * *"),
]

DICTIONARIES: dict[str, list[tuple[str, str]]] = {
    "dingtalk_event": [
        ("user_add_org", "通讯录用户增加"),
        ("user_modify_org", "通讯录用户更改"),
        ("user_leave_org", "通讯录用户离职"),
        ("user_active_org", "用户加入企业后激活"),
        ("org_admin_add", "通讯录用户被设为管理员"),
        ("org_admin_remove", "通讯录用户被取消设置管理员"),
        ("org_dept_create", "通讯录企业部门创建"),
        ("org_dept_modify", "通讯录企业部门修改"),
        ("org_dept_remove", "通讯录企业部门删除"),
        ("org_remove", "企业被解散"),
        ("org_change", "企业信息发生变更"),
        ("label_user_change", "员工角色信息发生变更"),
        ("check_url", "回调地址校验"),
    ],
    "dingtalk_errcode": [
        ("40103", "用户开启了账号保护，无法加入到您的团队"),
        ("40019", "该手机号码对应的用户最多可以加入5个非认证企业"),
        ("60020", "访问ip不在白名单之中"),
        ("90018", "当前请求被限流"),
        ("40014", "不合法的access_token"),
        ("42001", "access_token超时"),
        ("60011", "管理员权限不足"),
        ("60104", "手机号码在公司中已存在"),
    ],
    "sync_result": [("success", "成功"), ("warning", "警告"), ("failed", "失败")],
    "sync_trigger": [("auto", "自动同步"), ("manual", "手动同步")],
    "sync_kind": [("incremental", "增量"), ("full", "全量")],
}
