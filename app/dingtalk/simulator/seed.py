"""Initial contents of a simulated corp: an empty org (root + one admin) or a realistic demo company.

Everything is derived from a ``random.Random(seed)`` so the same seed always yields the same company, ids and
mobiles (tests and screenshots stay stable).
"""

from __future__ import annotations

import random
import string
import zlib
from dataclasses import dataclass

from .state import ROOT_DEPT_ID, App, Corp, Department, User, now_ms

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰文辉鹏飞雪梅晓"
    "东海燕春林小红佳怡子轩浩然欣怡宇航梓涵雨桐一诺思远晨曦嘉怡俊杰博文天佑瑞雪婷婷立"
    "新振华晓峰丹丹亚楠"
)

# (name, children, members, titles); a member count on an inner node are its own direct members (leaders, staff).
DEMO_TREE: tuple = (
    ("总经办", (), 6, ("总经理", "副总经理", "总经理助理", "董事会秘书")),
    (
        "研发中心",
        (
            (
                "平台研发部",
                (
                    ("后端组", (), 30, ("高级Java工程师", "Java工程师", "Go工程师", "架构师")),
                    ("前端组", (), 20, ("前端工程师", "高级前端工程师")),
                    ("数据组", (), 12, ("数据工程师", "数据分析师")),
                ),
                3,
                ("部门经理", "技术经理"),
            ),
            (
                "移动研发部",
                (
                    ("iOS组", (), 10, ("iOS工程师",)),
                    ("Android组", (), 11, ("Android工程师",)),
                ),
                2,
                ("部门经理",),
            ),
            ("测试部", (("自动化测试组", (), 8, ("测试开发工程师",)),), 9, ("测试工程师", "测试经理")),
            ("运维部", (), 10, ("运维工程师", "SRE工程师")),
        ),
        2,
        ("研发总监", "技术副总裁"),
    ),
    (
        "产品中心",
        (("产品部", (), 14, ("产品经理", "高级产品经理")), ("设计部", (), 9, ("UI设计师", "交互设计师"))),
        1,
        ("产品总监",),
    ),
    (
        "市场营销中心",
        (
            ("市场部", (), 12, ("市场专员", "品牌经理", "市场经理")),
            (
                "销售部",
                (
                    ("华北销售组", (), 20, ("销售代表", "大客户经理")),
                    ("华东销售组", (), 24, ("销售代表", "大客户经理")),
                    ("华南销售组", (), 18, ("销售代表", "大客户经理")),
                ),
                2,
                ("销售总监",),
            ),
            ("客户成功部", (), 16, ("客户成功经理", "技术支持工程师")),
        ),
        1,
        ("营销副总裁",),
    ),
    (
        "职能中心",
        (
            ("人力资源部", (), 9, ("HRBP", "招聘专员", "薪酬专员")),
            ("财务部", (), 10, ("会计", "出纳", "财务经理")),
            ("行政部", (), 8, ("行政专员", "前台")),
            ("法务部", (), 4, ("法务专员", "法务经理")),
        ),
        1,
        ("行政总监",),
    ),
)

WORK_PLACES = ("北京", "上海", "杭州", "深圳", "广州", "成都")
MOBILE_PREFIXES = tuple(str(p) for p in (*range(130, 140), *range(150, 160), *range(180, 190), 166, 177, 198, 199))


def _alnum(rng: random.Random, n: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(rng.choice(alphabet) for _ in range(n))


def new_unionid(rng: random.Random) -> str:
    return _alnum(rng, 20) + "iE"


def new_userid(rng: random.Random) -> str:
    # DingTalk generates numeric-looking user ids when the caller gives none.
    return "0" + "".join(rng.choice(string.digits) for _ in range(16))


def new_mobile(rng: random.Random, taken: set[str]) -> str:
    while True:
        mobile = rng.choice(MOBILE_PREFIXES) + "".join(rng.choice(string.digits) for _ in range(8))
        if mobile not in taken:
            taken.add(mobile)
            return mobile


def chinese_name(rng: random.Random) -> str:
    given_len = 1 if rng.random() < 0.3 else 2
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(given_len))


@dataclass
class CorpSpec:
    corpid: str
    appkey: str
    appsecret: str
    agentid: int | None = None

    @classmethod
    def parse(cls, text: str) -> CorpSpec:
        parts = text.split(":")
        if len(parts) not in (3, 4) or not all(parts[:3]):
            raise ValueError(f"corp spec must be CORPID:APPKEY:APPSECRET[:AGENTID], got {text!r}")
        agentid = int(parts[3]) if len(parts) == 4 and parts[3] else None
        return cls(parts[0], parts[1], parts[2], agentid)


def build_corps(specs: list[CorpSpec], *, demo: bool, seed: int) -> dict[str, Corp]:
    corps: dict[str, Corp] = {}
    for index, spec in enumerate(specs):
        app = App(appkey=spec.appkey, appsecret=spec.appsecret, agentid=spec.agentid)
        if spec.corpid in corps:  # a second app of the same corp
            corps[spec.corpid].apps[app.appkey] = app
            continue
        corp = empty_corp(spec.corpid, app, index=index)
        if demo:
            populate_demo(corp, random.Random(f"{seed}:{spec.corpid}"))
        corps[spec.corpid] = corp
    return corps


def empty_corp(corpid: str, app: App, *, index: int = 0) -> Corp:
    """Root department 1 and one main admin, as a freshly registered DingTalk org looks."""
    digest = zlib.crc32(corpid.encode())
    name = "蓝钉示例科技有限公司" if index == 0 else f"蓝钉示例{index + 1}号公司"
    corp = Corp(corpid=corpid, name=name, apps={app.appkey: app}, next_dept_id=400000000 + digest % 90000000)
    corp.departments[ROOT_DEPT_ID] = Department(dept_id=ROOT_DEPT_ID, name=name, parent_id=0, seq=corp.seq())
    rng = random.Random(digest)
    created = now_ms()
    admin = User(
        userid=f"manager{digest % 10000}",
        unionid=new_unionid(rng),
        name="管理员",
        mobile=new_mobile(rng, set()),
        dept_id_list=[ROOT_DEPT_ID],
        dept_order_list=[{"dept_id": ROOT_DEPT_ID, "order": 0}],
        title="系统管理员",
        admin=True,
        sys_level=1,
        boss=False,
        create_time=created,
        modify_time=created,
        seq=corp.seq(),
    )
    corp.users[admin.userid] = admin
    return corp


def populate_demo(corp: Corp, rng: random.Random) -> None:
    """A company of ~270 people in 25 departments, 4 levels below the root."""
    taken = {u.mobile for u in corp.users.values()}
    job_counter = [0]
    base_time = 1_600_000_000_000

    def add_user(dept: Department, title: str, *, leader: bool) -> User:
        job_counter[0] += 1
        userid = new_userid(rng)
        while userid in corp.users:
            userid = new_userid(rng)
        hired = base_time + rng.randrange(0, 150_000_000_000)
        user = User(
            userid=userid,
            unionid=new_unionid(rng),
            name=chinese_name(rng),
            mobile=new_mobile(rng, taken),
            dept_id_list=[dept.dept_id],
            dept_order_list=[{"dept_id": dept.dept_id, "order": job_counter[0]}],
            job_number=f"LD{job_counter[0]:05d}",
            title=title,
            email=f"ld{job_counter[0]:05d}@landing-demo.cn",
            work_place=rng.choice(WORK_PLACES),
            hired_date=hired,
            create_time=hired,
            modify_time=hired,
            seq=corp.seq(),
        )
        corp.users[userid] = user
        if leader:
            dept.dept_manager_userid_list.append(userid)
        return user

    def build(parent: Department, node: tuple, order: int, boss_dept: bool) -> None:
        name, children, members, titles = node
        dept = Department(
            dept_id=corp.new_dept_id(),
            name=name,
            parent_id=parent.dept_id,
            order=order,
            source_identifier=f"ekp-{zlib.crc32(name.encode()):08x}",
            seq=corp.seq(),
        )
        corp.departments[dept.dept_id] = dept
        leaders: list[User] = []
        for i in range(members):
            title = titles[0] if i == 0 else rng.choice(titles)
            user = add_user(dept, title, leader=i == 0)
            if i == 0:
                leaders.append(user)
                if boss_dept:
                    user.boss = True
            elif leaders:
                user.manager_userid = leaders[0].userid
        for child_order, child in enumerate(children, start=1):
            build(dept, child, child_order * 10, False)
        if name == "研发中心":
            dept.create_dept_group = True
            dept.auto_add_user = True
            dept.dept_group_chat_id = "chat" + "".join(rng.choice("0123456789abcdef") for _ in range(32))
        if name == "法务部":
            dept.hide_dept = True
            dept.dept_permits = [parent.dept_id]

    root = corp.departments[ROOT_DEPT_ID]
    for order, node in enumerate(DEMO_TREE, start=1):
        build(root, node, order * 10, node[0] == "总经办")
    # The demo admin is a named person in the general office, plus one sub-admin in HR.
    admin = next(u for u in corp.users.values() if u.sys_level == 1)
    admin.name = "周海燕"
    office = next(d for d in corp.departments.values() if d.name == "总经办")
    admin.dept_id_list = [office.dept_id]
    admin.dept_order_list = [{"dept_id": office.dept_id, "order": 0}]
    admin.title = "IT主管"
    hr = next(d for d in corp.departments.values() if d.name == "人力资源部")
    sub_admin = corp.members(hr.dept_id)[0]
    sub_admin.admin = True
    sub_admin.sys_level = 2
