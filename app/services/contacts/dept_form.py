"""A department's settings as the 新增部门 / 编辑部门 form holds them (guide 3.3.5.2-3.3.5.4): name, parent,
部门主管, 部门管理员, the department group (部门群), hiding and restricted viewing; the snapshot the audit keeps."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from app.models.contacts import Department, HideMode, RestrictMode

NAME_MAX = 64
NAME_FORBIDDEN = ("-", ",", "，")
PERMIT_LIMIT = 50  # DingTalk: hidden-dept permits and restricted-view permits, persons + depts combined
TREE_CHILD_LIMIT = 300  # the tree lists this many children; the paged list on the right shows all

HIDE_MODES = {
    HideMode.OFF.value: "关闭",
    HideMode.ALL.value: "向所有部门/人员隐藏",
    HideMode.SOME.value: "指定部分部门/人员可见",
}
RESTRICT_MODES = {
    RestrictMode.OFF.value: "关闭",
    RestrictMode.NONE.value: "不能查看所有通讯录",
    RestrictMode.SELF.value: "只能查看所在部门及下级部门/人员通讯录",
    RestrictMode.SOME.value: "只能查看指定部分部门/人员通讯录",
}


@dataclass
class DeptInput:
    """What the 新增部门 / 编辑部门 form submits (ids are person or department ids of the same org)."""

    name: str = ""
    parent_id: int | None = None
    manager_ids: list[int] = field(default_factory=list)
    admin_ids: list[int] = field(default_factory=list)
    create_group: bool = False
    group_owner_id: int | None = None
    group_include_sub: bool = False
    hide_mode: str = HideMode.OFF.value
    hide_person_ids: list[int] = field(default_factory=list)
    hide_dept_ids: list[int] = field(default_factory=list)
    restrict_mode: str = RestrictMode.OFF.value
    restrict_person_ids: list[int] = field(default_factory=list)
    restrict_dept_ids: list[int] = field(default_factory=list)


@dataclass
class DeptDetail:
    id: int
    name: str
    parent_id: int | None
    parent_name: str
    path_names: list[tuple[int, str]]
    is_root: bool
    data: DeptInput
    names: dict[str, str]  # "person:12" / "dept:5" -> display name (out-of-scope ones are masked)
    group_name: str
    group_owner_name: str
    group_size: int
    member_count: int
    sub_count: int
    editable: bool


def input_of(dept: Department) -> DeptInput:
    return DeptInput(
        name=dept.name,
        parent_id=dept.parent_id,
        manager_ids=list(dept.manager_ids or []),
        admin_ids=list(dept.admin_ids or []),
        create_group=dept.create_group,
        group_owner_id=dept.group_owner_id,
        group_include_sub=dept.group_include_sub,
        hide_mode=str(dept.hide_mode.value if hasattr(dept.hide_mode, "value") else dept.hide_mode),
        hide_person_ids=list(dept.hide_visible_person_ids or []),
        hide_dept_ids=list(dept.hide_visible_dept_ids or []),
        restrict_mode=str(dept.restrict_mode.value if hasattr(dept.restrict_mode, "value") else dept.restrict_mode),
        restrict_person_ids=list(dept.restrict_person_ids or []),
        restrict_dept_ids=list(dept.restrict_dept_ids or []),
    )


def snapshot(dept: Department) -> dict:
    values = asdict(input_of(dept))
    values["is_deleted"] = dept.is_deleted
    return values


def apply_input(dept: Department, data: DeptInput) -> None:
    dept.name = data.name
    dept.manager_ids = data.manager_ids
    dept.admin_ids = data.admin_ids
    dept.create_group = data.create_group
    dept.group_owner_id = data.group_owner_id if data.create_group else None
    dept.group_include_sub = data.group_include_sub
    dept.hide_mode = HideMode(data.hide_mode)
    dept.hide_visible_person_ids = data.hide_person_ids
    dept.hide_visible_dept_ids = data.hide_dept_ids
    dept.restrict_mode = RestrictMode(data.restrict_mode)
    dept.restrict_person_ids = data.restrict_person_ids
    dept.restrict_dept_ids = data.restrict_dept_ids
