"""Department endpoints: topapi v2 (snake_case, POST) and the legacy ``/department/*`` ones (camelCase)."""

from __future__ import annotations

from typing import Any

from .directory import Directory
from .errors import ApiError
from .routing import Ctx, RouteTable
from .state import ROOT_DEPT_ID, Corp, Department

routes = RouteTable()

LEGACY_TO_V2 = {
    "id": "dept_id",
    "name": "name",
    "parentid": "parent_id",
    "order": "order",
    "createDeptGroup": "create_dept_group",
    "autoAddUser": "auto_add_user",
    "deptHiding": "hide_dept",
    "deptPermits": "dept_permits",
    "userPermits": "user_permits",
    "outerDept": "outer_dept",
    "outerDeptOnlySelf": "outer_dept_only_self",
    "outerPermitUsers": "outer_permit_users",
    "outerPermitDepts": "outer_permit_depts",
    "deptManagerUseridList": "dept_manager_userid_list",
    "sourceIdentifier": "source_identifier",
    "orgDeptOwner": "org_dept_owner",
    "groupContainSubDept": "group_contain_sub_dept",
    "groupContainOuterDept": "group_contain_outer_dept",
    "groupContainHiddenDept": "group_contain_hidden_dept",
    "autoApproveApply": "auto_approve_apply",
    "ext": "ext",
}


def member_count(corp: Corp, dept_id: int) -> int:
    subtree = set(corp.subtree_ids(dept_id))
    return sum(1 for u in corp.users.values() if subtree.intersection(u.dept_id_list))


def render_v2(corp: Corp, dept: Department) -> dict[str, Any]:
    """``topapi/v2/department/get`` result: permit lists as arrays, omitted while their switch is off."""
    body: dict[str, Any] = {"dept_id": dept.dept_id, "name": dept.name}
    if dept.dept_id != ROOT_DEPT_ID:
        body["parent_id"] = dept.parent_id
    body.update(
        order=dept.order,
        create_dept_group=dept.create_dept_group,
        auto_add_user=dept.auto_add_user,
        group_contain_sub_dept=dept.group_contain_sub_dept,
        hide_dept=dept.hide_dept,
        outer_dept=dept.outer_dept,
        auto_approve_apply=dept.auto_approve_apply,
        member_count=member_count(corp, dept.dept_id),
        owning_member_count=len(corp.members(dept.dept_id)),
        from_union_org=False,
    )
    if dept.source_identifier:
        body["source_identifier"] = dept.source_identifier
    if dept.dept_group_chat_id:
        body["dept_group_chat_id"] = dept.dept_group_chat_id
    if dept.org_dept_owner:
        body["org_dept_owner"] = dept.org_dept_owner
    if dept.dept_manager_userid_list:
        body["dept_manager_userid_list"] = list(dept.dept_manager_userid_list)
    if dept.code:
        body["code"] = dept.code
    if dept.hide_dept:
        body["dept_permits"] = list(dept.dept_permits)
        body["user_permits"] = list(dept.user_permits)
    if dept.outer_dept:
        body["outer_dept_only_self"] = dept.outer_dept_only_self
        body["outer_permit_depts"] = list(dept.outer_permit_depts)
        body["outer_permit_users"] = list(dept.outer_permit_users)
    return body


def render_v2_brief(dept: Department) -> dict[str, Any]:
    return {
        "dept_id": dept.dept_id,
        "name": dept.name,
        "parent_id": dept.parent_id,
        "create_dept_group": dept.create_dept_group,
        "auto_add_user": dept.auto_add_user,
    }


def render_legacy(dept: Department) -> dict[str, Any]:
    """Legacy ``department/get``: flat camelCase, lists joined with ``|``."""
    body: dict[str, Any] = {"id": dept.dept_id, "name": dept.name, "order": dept.order}
    if dept.dept_id != ROOT_DEPT_ID:
        body["parentid"] = dept.parent_id
    body.update(
        createDeptGroup=dept.create_dept_group,
        autoAddUser=dept.auto_add_user,
        autoApproveApply=dept.auto_approve_apply,
        groupContainSubDept=dept.group_contain_sub_dept,
        deptHiding=dept.hide_dept,
        outerDept=dept.outer_dept,
    )
    if dept.source_identifier:
        body["sourceIdentifier"] = dept.source_identifier
    if dept.dept_group_chat_id:
        body["deptGroupChatId"] = dept.dept_group_chat_id
    if dept.org_dept_owner:
        body["orgDeptOwner"] = dept.org_dept_owner
    if dept.dept_manager_userid_list:
        body["deptManagerUseridList"] = "|".join(dept.dept_manager_userid_list)
    if dept.hide_dept:
        body["deptPermits"] = "|".join(str(i) for i in dept.dept_permits)
        body["userPermits"] = "|".join(dept.user_permits)
    if dept.outer_dept:
        body["outerDeptOnlySelf"] = dept.outer_dept_only_self
        body["outerPermitDepts"] = "|".join(str(i) for i in dept.outer_permit_depts)
        body["outerPermitUsers"] = "|".join(dept.outer_permit_users)
    if dept.ext:
        body["ext"] = dept.ext
    return body


def render_legacy_brief(dept: Department) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": dept.dept_id,
        "name": dept.name,
        "parentid": dept.parent_id,
        "createDeptGroup": dept.create_dept_group,
        "autoAddUser": dept.auto_add_user,
    }
    if dept.source_identifier:
        body["sourceIdentifier"] = dept.source_identifier
    if dept.ext:
        body["ext"] = dept.ext
    return body


def legacy_fields(params: dict[str, Any]) -> dict[str, Any]:
    return {v2: params[legacy] for legacy, v2 in LEGACY_TO_V2.items() if legacy in params}


def existing(ctx: Ctx, dept_id: int | None) -> Department:
    return Directory(ctx.sim, ctx.require_corp()).dept(dept_id)


# -- topapi v2 --------------------------------------------------------------------------------------------------


@routes.post("/topapi/v2/department/listsub")
async def v2_listsub(ctx: Ctx) -> dict[str, Any]:
    dept = existing(ctx, ctx.integer("dept_id", default=ROOT_DEPT_ID))
    return {"result": [render_v2_brief(d) for d in ctx.require_corp().children(dept.dept_id)]}


@routes.post("/topapi/v2/department/listsubid")
async def v2_listsubid(ctx: Ctx) -> dict[str, Any]:
    dept = existing(ctx, ctx.integer("dept_id", required=True))
    return {"result": {"dept_id_list": [d.dept_id for d in ctx.require_corp().children(dept.dept_id)]}}


@routes.post("/topapi/v2/department/get")
async def v2_get(ctx: Ctx) -> dict[str, Any]:
    dept = existing(ctx, ctx.integer("dept_id", required=True))
    return {"result": render_v2(ctx.require_corp(), dept)}


@routes.post("/topapi/v2/department/create")
async def v2_create(ctx: Ctx) -> dict[str, Any]:
    if not ctx.has("name"):
        raise ApiError(40035, "缺少参数 name")
    fields = {k: v for k, v in ctx.params.items() if k not in ("dept_manager_userid_list", "org_dept_owner")}
    dept = Directory(ctx.sim, ctx.require_corp()).create_department(fields)
    return {"result": {"dept_id": dept.dept_id}}


@routes.post("/topapi/v2/department/update")
async def v2_update(ctx: Ctx) -> dict[str, Any]:
    dept_id = ctx.integer("dept_id", required=True)
    assert dept_id is not None
    Directory(ctx.sim, ctx.require_corp()).update_department(dept_id, ctx.params)
    return {}


@routes.post("/topapi/v2/department/delete")
async def v2_delete(ctx: Ctx) -> dict[str, Any]:
    dept_id = ctx.integer("dept_id", required=True)
    assert dept_id is not None
    Directory(ctx.sim, ctx.require_corp()).delete_department(dept_id)
    return {}


def parent_chain(corp: Corp, dept_id: int) -> list[int]:
    chain = []
    dept = corp.departments.get(dept_id)
    while dept is not None:
        chain.append(dept.dept_id)
        dept = corp.departments.get(dept.parent_id) if dept.dept_id != ROOT_DEPT_ID else None
    return chain


@routes.post("/topapi/v2/department/listparentbydept")
async def v2_listparentbydept(ctx: Ctx) -> dict[str, Any]:
    dept = existing(ctx, ctx.integer("dept_id", required=True))
    return {"result": {"parent_id_list": parent_chain(ctx.require_corp(), dept.dept_id)}}


@routes.post("/topapi/v2/department/listparentbyuser")
async def v2_listparentbyuser(ctx: Ctx) -> dict[str, Any]:
    corp = ctx.require_corp()
    user = Directory(ctx.sim, corp).user(ctx.text("userid", required=True))
    return {"result": {"parent_list": [{"parent_dept_id_list": parent_chain(corp, d)} for d in user.dept_id_list]}}


# -- legacy -----------------------------------------------------------------------------------------------------


@routes.get("/department/list")
async def legacy_list(ctx: Ctx) -> dict[str, Any]:
    corp = ctx.require_corp()
    dept = existing(ctx, ctx.integer("id", default=ROOT_DEPT_ID))
    if ctx.flag("fetch_child", default=False):
        ids = corp.subtree_ids(dept.dept_id)[1:]
        departments = [corp.departments[i] for i in ids]
    else:
        departments = corp.children(dept.dept_id)
    return {"department": [render_legacy_brief(d) for d in departments]}


@routes.get("/department/list_ids")
async def legacy_list_ids(ctx: Ctx) -> dict[str, Any]:
    dept = existing(ctx, ctx.integer("id", required=True))
    return {"sub_dept_id_list": [d.dept_id for d in ctx.require_corp().children(dept.dept_id)]}


@routes.get("/department/get")
async def legacy_get(ctx: Ctx) -> dict[str, Any]:
    dept = existing(ctx, ctx.integer("id", required=True))
    return render_legacy(dept)


@routes.post("/department/create")
async def legacy_create(ctx: Ctx) -> dict[str, Any]:
    if not ctx.has("name"):
        raise ApiError(40035, "缺少参数 name")
    if not ctx.has("parentid"):
        raise ApiError(40035, "缺少参数 parentid")
    fields = legacy_fields(ctx.params)
    fields.pop("dept_manager_userid_list", None)
    fields.pop("org_dept_owner", None)
    dept = Directory(ctx.sim, ctx.require_corp()).create_department(fields)
    return {"id": dept.dept_id}


@routes.post("/department/update")
async def legacy_update(ctx: Ctx) -> dict[str, Any]:
    dept_id = ctx.integer("id", required=True)
    assert dept_id is not None
    Directory(ctx.sim, ctx.require_corp()).update_department(dept_id, legacy_fields(ctx.params))
    return {"id": dept_id}


@routes.get("/department/delete")
async def legacy_delete(ctx: Ctx) -> dict[str, Any]:
    dept_id = ctx.integer("id", required=True)
    assert dept_id is not None
    Directory(ctx.sim, ctx.require_corp()).delete_department(dept_id)
    return {}
