"""User endpoints: topapi v2 (snake_case) and legacy ``/user/*`` (camelCase), with DingTalk's paging rules."""

from __future__ import annotations

import json
from typing import Any

from .directory import Directory
from .errors import ApiError
from .routing import Ctx, RouteTable
from .state import Corp, User

routes = RouteTable()

MAX_PAGE = 100
ORDER_FIELDS = ("entry_asc", "entry_desc", "modify_asc", "modify_desc", "custom")

LEGACY_TO_V2 = {
    "userid": "userid",
    "name": "name",
    "mobile": "mobile",
    "department": "dept_id_list",
    "position": "title",
    "jobnumber": "job_number",
    "email": "email",
    "orgEmail": "org_email",
    "tel": "telephone",
    "workPlace": "work_place",
    "remark": "remark",
    "isHide": "hide_mobile",
    "isSenior": "senior_mode",
    "managerUserid": "manager_userid",
    "extattr": "extension",
    "hiredDate": "hired_date",
}


def dept_order(user: User, dept_id: int) -> int:
    for item in user.dept_order_list:
        if item.get("dept_id") == dept_id and item.get("order") is not None:
            return int(item["order"])
    return 0


def leader_map(corp: Corp, user: User) -> dict[int, bool]:
    return {
        d: user.userid in (corp.departments[d].dept_manager_userid_list if d in corp.departments else [])
        for d in user.dept_id_list
    }


def sys_level(user: User) -> int:
    if user.sys_level:
        return user.sys_level
    return 100 if user.boss else 0


def render_v2(corp: Corp, user: User) -> dict[str, Any]:
    """``topapi/v2/user/get`` result; empty optional fields are left out as DingTalk does."""
    leaders = leader_map(corp, user)
    body: dict[str, Any] = {
        "userid": user.userid,
        "unionid": user.unionid,
        "name": user.name,
        "state_code": user.state_code,
        "mobile": user.mobile,
        "hide_mobile": user.hide_mobile,
        "dept_id_list": list(user.dept_id_list),
        "dept_order_list": [{"dept_id": d, "order": dept_order(user, d)} for d in user.dept_id_list],
        "leader_in_dept": [{"dept_id": d, "leader": leaders[d]} for d in user.dept_id_list],
        "active": user.active,
        "real_authed": user.real_authed,
        "senior": user.senior,
        "admin": user.admin,
        "boss": user.boss,
        "exclusive_account": user.exclusive_account,
        "role_list": [],
    }
    for name in ("avatar", "telephone", "job_number", "title", "email", "org_email", "work_place", "remark"):
        value = getattr(user, name)
        if value:
            body[name] = value
    if user.manager_userid:
        body["manager_userid"] = user.manager_userid
    if user.extension:
        body["extension"] = user.extension
    if user.hired_date is not None:
        body["hired_date"] = user.hired_date
    if user.exclusive_account:
        body["exclusive_account_type"] = user.exclusive_account_type or "dingtalk"
        if user.login_id:
            body["login_id"] = user.login_id
        body["exclusive_account_corp_id"] = corp.corpid
        body["exclusive_account_corp_name"] = corp.name
    return body


def render_v2_list_item(corp: Corp, user: User, dept_id: int) -> dict[str, Any]:
    body = render_v2(corp, user)
    del body["dept_order_list"], body["leader_in_dept"]
    body["dept_order"] = dept_order(user, dept_id)
    body["leader"] = user.userid in corp.departments[dept_id].dept_manager_userid_list
    return body


def render_legacy(corp: Corp, user: User) -> dict[str, Any]:
    leaders = leader_map(corp, user)
    body: dict[str, Any] = {
        "userid": user.userid,
        "unionid": user.unionid,
        "name": user.name,
        "mobile": user.mobile,
        "stateCode": user.state_code,
        "isHide": user.hide_mobile,
        "isSenior": user.senior,
        "active": user.active,
        "realAuthed": user.real_authed,
        "department": list(user.dept_id_list),
        "orderInDepts": "{" + ",".join(f"{d}:{dept_order(user, d)}" for d in user.dept_id_list) + "}",
        "isAdmin": user.admin,
        "isBoss": user.boss,
        "isLeaderInDepts": "{" + ",".join(f"{d}:{str(v).lower()}" for d, v in leaders.items()) + "}",
        "roles": [],
    }
    for legacy, value in (
        ("tel", user.telephone),
        ("workPlace", user.work_place),
        ("remark", user.remark),
        ("email", user.email),
        ("orgEmail", user.org_email),
        ("position", user.title),
        ("jobnumber", user.job_number),
        ("avatar", user.avatar),
        ("managerUserid", user.manager_userid),
        ("extattr", user.extension),
    ):
        if value:
            body[legacy] = value
    if user.hired_date is not None:
        body["hiredDate"] = user.hired_date
    return body


def legacy_fields(params: dict[str, Any]) -> dict[str, Any]:
    fields = {v2: params[legacy] for legacy, v2 in LEGACY_TO_V2.items() if legacy in params}
    orders = params.get("orderInDepts")
    if orders not in (None, ""):
        # Legacy form: "{deptId:order}" as JSON text or object.
        try:
            mapping = json.loads(orders) if isinstance(orders, str) else orders
            fields["dept_order_list"] = [{"dept_id": int(k), "order": int(v)} for k, v in dict(mapping).items()]
        except (ValueError, TypeError):
            raise ApiError(40035, "不合法的参数 orderInDepts") from None
    return fields


def members_sorted(corp: Corp, dept_id: int, order_field: str) -> list[User]:
    members = corp.members(dept_id)
    if order_field == "entry_desc":
        return members[::-1]
    if order_field == "modify_asc":
        return sorted(members, key=lambda u: (u.modify_time, u.seq))
    if order_field == "modify_desc":
        return sorted(members, key=lambda u: (u.modify_time, u.seq), reverse=True)
    if order_field == "custom":
        return sorted(members, key=lambda u: (dept_order(u, dept_id), u.seq))
    return members


def directory(ctx: Ctx) -> Directory:
    return Directory(ctx.sim, ctx.require_corp())


# -- topapi v2 --------------------------------------------------------------------------------------------------


@routes.post("/topapi/v2/user/get")
async def v2_get(ctx: Ctx) -> dict[str, Any]:
    user = directory(ctx).user(ctx.text("userid", required=True))
    return {"result": render_v2(ctx.require_corp(), user)}


@routes.post("/topapi/v2/user/list")
async def v2_list(ctx: Ctx) -> dict[str, Any]:
    corp = ctx.require_corp()
    dept = directory(ctx).dept(ctx.integer("dept_id", required=True))
    cursor = ctx.integer("cursor", required=True)
    size = ctx.integer("size", required=True)
    order_field = ctx.text("order_field", default="entry_asc")
    if cursor is None or cursor < 0:
        raise ApiError(40035, "不合法的参数 cursor")
    if size is None or size < 1 or size > MAX_PAGE:
        raise ApiError(40035, "不合法的参数 size")
    if order_field not in ORDER_FIELDS:
        raise ApiError(40035, "不合法的参数 order_field")
    members = members_sorted(corp, dept.dept_id, order_field)
    page = members[cursor : cursor + size]
    result: dict[str, Any] = {
        "has_more": cursor + size < len(members),
        "list": [render_v2_list_item(corp, u, dept.dept_id) for u in page],
    }
    if result["has_more"]:
        result["next_cursor"] = cursor + size
    return {"result": result}


@routes.post("/topapi/user/listid")
async def listid(ctx: Ctx) -> dict[str, Any]:
    dept = directory(ctx).dept(ctx.integer("dept_id", required=True))
    return {"result": {"userid_list": [u.userid for u in ctx.require_corp().members(dept.dept_id)]}}


@routes.post("/topapi/v2/user/create")
async def v2_create(ctx: Ctx) -> dict[str, Any]:
    user = directory(ctx).create_user(ctx.params)
    return {"result": {"userid": user.userid, "unionId": user.unionid}}


@routes.post("/topapi/v2/user/update")
async def v2_update(ctx: Ctx) -> dict[str, Any]:
    directory(ctx).update_user(ctx.text("userid", required=True), ctx.params)
    return {}


@routes.post("/topapi/v2/user/delete")
async def v2_delete(ctx: Ctx) -> dict[str, Any]:
    directory(ctx).delete_user(ctx.text("userid", required=True))
    return {}


@routes.post("/topapi/v2/user/getbymobile")
async def v2_getbymobile(ctx: Ctx) -> dict[str, Any]:
    mobile = ctx.text("mobile", required=True)
    if mobile.startswith("+86-"):
        mobile = mobile[4:]
    user = ctx.require_corp().user_by_mobile(mobile)
    if user is None:
        raise ApiError(60121)
    return {"result": {"userid": user.userid}}


@routes.post("/topapi/user/getbyunionid")
async def getbyunionid(ctx: Ctx) -> dict[str, Any]:
    user = ctx.require_corp().user_by_unionid(ctx.text("unionid", required=True))
    if user is None:
        raise ApiError(60121)
    return {"result": {"contact_type": 0, "userid": user.userid}}


@routes.post("/topapi/user/listadmin")
async def listadmin(ctx: Ctx) -> dict[str, Any]:
    admins = [u for u in ctx.require_corp().users.values() if u.admin]
    return {
        "result": [{"sys_level": u.sys_level or 2, "userid": u.userid} for u in sorted(admins, key=lambda u: u.seq)]
    }


# -- legacy -----------------------------------------------------------------------------------------------------


@routes.get("/user/get")
async def legacy_get(ctx: Ctx) -> dict[str, Any]:
    user = directory(ctx).user(ctx.text("userid", required=True))
    return render_legacy(ctx.require_corp(), user)


@routes.post("/user/create")
async def legacy_create(ctx: Ctx) -> dict[str, Any]:
    user = directory(ctx).create_user(legacy_fields(ctx.params))
    return {"userid": user.userid, "unionId": user.unionid}


@routes.post("/user/update")
async def legacy_update(ctx: Ctx) -> dict[str, Any]:
    directory(ctx).update_user(ctx.text("userid", required=True), legacy_fields(ctx.params))
    return {}


@routes.get("/user/delete")
async def legacy_delete(ctx: Ctx) -> dict[str, Any]:
    directory(ctx).delete_user(ctx.text("userid", required=True))
    return {}


def legacy_page(ctx: Ctx) -> tuple[Corp, int, list[User], int, int]:
    corp = ctx.require_corp()
    dept = directory(ctx).dept(ctx.integer("department_id", required=True))
    offset = ctx.integer("offset", default=0)
    size = ctx.integer("size", default=MAX_PAGE)
    if offset is None or offset < 0:
        raise ApiError(40035, "不合法的参数 offset")
    if size is None or size < 1 or size > MAX_PAGE:
        raise ApiError(40035, "不合法的参数 size")
    order = ctx.text("order", default="entry_asc")
    if order not in ORDER_FIELDS:
        order = "entry_asc"
    return corp, dept.dept_id, members_sorted(corp, dept.dept_id, order), offset, size


@routes.get("/user/simplelist")
async def legacy_simplelist(ctx: Ctx) -> dict[str, Any]:
    _, _, members, offset, size = legacy_page(ctx)
    page = members[offset : offset + size]
    return {"hasMore": offset + size < len(members), "userlist": [{"userid": u.userid, "name": u.name} for u in page]}


async def _legacy_list(ctx: Ctx) -> dict[str, Any]:
    corp, dept_id, members, offset, size = legacy_page(ctx)
    page = members[offset : offset + size]
    items = []
    for user in page:
        item = render_legacy(corp, user)
        item["order"] = dept_order(user, dept_id)
        item["isLeader"] = user.userid in corp.departments[dept_id].dept_manager_userid_list
        items.append(item)
    return {"hasMore": offset + size < len(members), "userlist": items}


routes.get("/user/list")(_legacy_list)
routes.get("/user/listbypage")(_legacy_list)


@routes.get("/user/getDeptMember")
async def legacy_dept_member(ctx: Ctx) -> dict[str, Any]:
    dept = directory(ctx).dept(ctx.integer("deptId", required=True))
    return {"userIds": [u.userid for u in ctx.require_corp().members(dept.dept_id)]}


@routes.get("/user/get_admin")
async def legacy_get_admin(ctx: Ctx) -> dict[str, Any]:
    admins = sorted((u for u in ctx.require_corp().users.values() if u.admin), key=lambda u: u.seq)
    return {"admin_list": [{"sys_level": u.sys_level or 2, "userid": u.userid} for u in admins]}


@routes.get("/user/get_by_mobile")
async def legacy_get_by_mobile(ctx: Ctx) -> dict[str, Any]:
    user = ctx.require_corp().user_by_mobile(ctx.text("mobile", required=True))
    if user is None:
        raise ApiError(60121)
    return {"userid": user.userid}


@routes.get("/user/getUseridByUnionid")
async def legacy_by_unionid(ctx: Ctx) -> dict[str, Any]:
    user = ctx.require_corp().user_by_unionid(ctx.text("unionid", required=True))
    if user is None:
        raise ApiError(60121)
    return {"contactType": 0, "userid": user.userid}
