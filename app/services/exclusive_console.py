"""The 专属钉钉 settings that only DingTalk's own console can change (guide 2.3, 2.4, 2.5), and 2.5.8's IdP link.

DingTalk's open API has no call for 推送号管理, "我的"应用入口设置 or the 专属安全管控 switches, so this console shows
them as the guide describes them, with where each is set in 钉钉管理后台, and never pretends to switch them.
2.5.8 专属登录二次验证 uses an IdP: ours is the domain-account login of 设置 > 登录认证 (guide 3.2.6); its state is
read here without changing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.models.orgs import Org
from app.services import login_auth
from app.services.errors import NotFound
from app.services.permissions import Actor, Perm, authorize

ADMIN = "钉钉管理后台 > 设置"
SECURITY = f"{ADMIN} > 专属安全管控"


@dataclass(frozen=True)
class ConsoleSection:
    number: str
    title: str
    path: str
    summary: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


SECTIONS: tuple[ConsoleSection, ...] = (
    ConsoleSection(
        "2.3",
        "推送号管理",
        f"{ADMIN} > 推送号管理",
        "钉钉为大企业提供了专属的推送号运营配置，可根据企业自身需求，自由开启或关闭相关的应用推送。",
        ("推送号", "用途"),
        (
            ("升级提醒", "钉钉新版本推送相关消息"),
            ("福利社", "钉钉官方红包等福利活动通知"),
            ("钉钉应用中心", "企业使用的第三方应用相关消息"),
            ("职场充电宝", "精选职场经验/技能/礼仪等内容，提升职场竞争力"),
            ("员工关怀", "智能人事推送相关消息"),
            ("钉钉小秘书", "钉钉使用小贴士"),
        ),
    ),
    ConsoleSection(
        "2.4",
        "“我的”应用入口设置",
        f"{ADMIN} > “我的”应用入口设置",
        "移动端“我的”页面内容配置：对相关的应用，可设置为隐藏、展现、收入到“发现”。",
        ("应用入口", "用途"),
        (
            ("企业广场", "链接企业间供与需，让你的企业和中国4300万企业谈生意"),
            ("钉钉指数", "企业新工作方式的衡量指标，反映企业五个在线的程度"),
            ("福利社", "钉钉提供给企业的专属福利"),
            ("智能办公硬件", "办公硬件介绍及购买入口"),
            ("我的客服", "为企业提供全方位贴心服务的窗口"),
            ("学习中心", "帮助你全面了解钉钉产品和行业案例"),
            ("邀请", "邀请企业入驻钉钉"),
        ),
    ),
    ConsoleSection(
        "2.5.1",
        "组织通讯录",
        f"{SECURITY} > 组织通讯录",
        "员工是否可以邀请他人加入组织、员工是否可以创建团队。",
        ("设置项", "说明"),
        (("员工邀请他人加入", "允许员工邀请其他人加入团队"), ("员工创建组织", "除管理员外，允许员工自行创建团队")),
    ),
    ConsoleSection(
        "2.5.2",
        "工作群",
        f"{SECURITY} > 工作群",
        "企业内工作群的群类型默认创建以及群内数据管控。",
        ("设置项", "说明"),
        (
            ("默认创建“合作群”", "员工创建群时，符合“合作群”和“普通群”条件时，默认创建合作群"),
            ("聊天消息转发控制", "内部聊天记录可转发到外部（合作群、服务群、普通群、外部好友等）"),
            ("图片导出功能控制", "内部群聊、单聊（同事间、文件小助手、自己等）图片可另存到本地"),
        ),
    ),
    ConsoleSection(
        "2.5.3",
        "文件安全管控",
        f"{SECURITY} > 文件安全管控",
        "管控企业内人员在专属钉钉上对企业内数据的操作行为。",
        ("设置项", "说明"),
        (
            ("文件链接分享", "允许文件链接分享到微信、微博等"),
            ("文件转发控制", "内部文件可转发到外部（合作群、服务群、普通群、外部好友等）"),
            ("移动端下载文件控制", "移动端可下载内部文件"),
            ("文件内容复制", "文档预览时，可复制文件内容"),
        ),
    ),
    ConsoleSection(
        "2.5.4",
        "打水印",
        f"{SECURITY} > 打水印",
        "对专属钉钉上某些涉及数据隐私的页面进行打水印，保障企业数据安全。",
        ("设置项", "说明"),
        (
            ("通讯录打水印", "通讯录信息开启水印功能"),
            ("文件预览打水印", "文件预览开启水印功能"),
            ("内部群聊打水印", "内部群（含全员群、部门群）的聊天窗口开启水印功能"),
            ("普通群聊打水印", "普通群（含合作群、服务群）的聊天窗口开启水印功能"),
            ("单聊打水印", "单聊（含好友、文件小助手、自己等）的聊天窗口开启水印功能"),
        ),
    ),
    ConsoleSection(
        "2.5.5",
        "离职数据保护",
        f"{SECURITY} > 离职数据保护",
        "公私隔离，在职期间产生的企业域内数据，归属于企业，员工离职后带不走。",
        ("设置项", "说明"),
        (
            ("个人钉盘处理", "员工离职时，在职期间产生的个人钉盘文件删除不可见"),
            ("员工单聊信息处理", "对于同一企业域下的两位员工之间的单聊会话信息，员工离职时删除不可见"),
            ("个人文件小助手文件处理", "个人文件小助手的文件内容，员工离职时删除不可见"),
            ("发给“我自己的”信息处理", "发给“我自己的”信息，员工离职时删除不可见"),
        ),
    ),
    ConsoleSection(
        "2.5.6",
        "员工隐私保护",
        f"{SECURITY} > 员工隐私保护",
        "为专属企业的员工提供隐私保护功能。",
        ("设置项", "说明"),
        (("通讯录朋友推荐功能", "允许通讯录朋友推荐"), ("安全提示", "首次登录安全提示")),
    ),
    ConsoleSection(
        "2.5.7",
        "三方加密控制",
        f"{SECURITY} > 三方加密控制",
        "管理员控制是否允许员工将三方加密的文件进行转发。",
        ("设置项", "说明"),
        (("加密文件转发控制", "三方加密文件允许转发到外部群或外部好友"),),
    ),
    ConsoleSection(
        "2.5.9",
        "启动设置",
        f"{SECURITY} > 启动设置",
        "管理员设置专属钉钉在登录时，默认进入的是工作台还是消息页签。",
        ("设置项", "说明"),
        (("移动端默认显示页签", "移动端启动APP时，默认优先显示“工作台”"),),
    ),
)

IDP_CONSOLE_PATH = f"{SECURITY} > 帐号登录 > 专属登录二次验证"
SSO_CONSOLE_PATH = "钉钉管理后台 > 安全与权限 > SSO单点登录设置（OpenID Connect）"


@dataclass
class IdpState:
    """What 2.5.8 needs from our domain-account login, for one org."""

    enabled: bool
    for_this_org: bool  # the IdP maps accounts through this org's contacts
    idp_org_name: str
    client_id: str
    client_secret_set: bool
    redirect_uris: list[str]
    endpoints: dict[str, str] = field(default_factory=dict)
    can_configure: bool = False  # only the super admin may change 设置 > 登录认证

    @property
    def ready(self) -> bool:
        return self.enabled and self.for_this_org and bool(self.client_id)

    @property
    def summary(self) -> str:
        if not self.enabled:
            return "未启用：域账号登录（IDP）尚未在 设置 > 登录认证 中启用"
        if not self.for_this_org:
            return f"已启用，但域账号对应的是组织「{self.idp_org_name}」的通讯录，不是本组织"
        return "已启用：本组织员工可通过域账号二次验证登录专属钉钉"


async def exclusive_org(actor: Actor, org_id: int | None) -> Org:
    """The org whose 专属钉钉 settings ``actor`` works on: its org admin, or the super admin for any org."""
    if org_id is None:
        raise NotFound("请先选择组织")
    await authorize(actor, Perm.EXCLUSIVE_MANAGE, org_id)
    org = await Org.get_or_none(id=org_id)
    if org is None:
        raise NotFound("组织不存在或已解散")
    return org


async def idp_state(actor: Actor, org_id: int | None) -> IdpState:
    org = await exclusive_org(actor, org_id)
    settings = await login_auth.load()
    idp_org_id = settings.org_id
    if idp_org_id is None or not await Org.exists(id=idp_org_id):
        main = await Org.filter(is_main=True).first() or await Org.all().order_by("id").first()
        idp_org_id = main.id if main else None
    idp_org = await Org.get_or_none(id=idp_org_id) if idp_org_id is not None else None
    return IdpState(
        enabled=settings.enabled,
        for_this_org=idp_org_id == org.id,
        idp_org_name=idp_org.name if idp_org else "",
        client_id=settings.client_id,
        client_secret_set=bool(settings.client_secret),
        redirect_uris=list(settings.redirect_uris),
        endpoints=await login_auth.endpoints(),
        can_configure=actor.can(Perm.LOGIN_AUTH),
    )
