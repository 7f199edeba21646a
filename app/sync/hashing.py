"""Hashes of what DingTalk sees of a department or a person, to decide whether a push is needed.

The hash input is a "DingTalk view": a dict of DingTalk field names and DingTalk ids, built either from our rows
(push) or from what DingTalk returns (callbacks). Equal views mean equal hashes, so an unchanged object costs no API
call, and a callback echoing our own push is recognised as "nothing new".

A department's ``pushed_hash`` has two halves of 32 hex characters: the *main* half (name, parent, order, group
creation) is pushed before people exist; the *relations* half (managers, group owner, visibility lists) names
people and is pushed after them, because DingTalk refuses managers and owners who are not members yet.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from app.services.mobiles import plain_mobile

HALF = 32


def _digest(view: dict[str, Any], size: int) -> str:
    text = json.dumps(view, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def view_hash(view: dict[str, Any]) -> str:
    """A 32-hex hash of one view (one half of a department hash)."""
    return _digest(view, HALF // 2)


def person_hash(view: dict[str, Any]) -> str:
    return _digest(view, 32)


def dept_hash(main: dict[str, Any], rel: dict[str, Any]) -> str:
    return view_hash(main) + view_hash(rel)


def main_half(pushed: str) -> str:
    return pushed[:HALF] if len(pushed) >= HALF else ""


def rel_half(pushed: str) -> str:
    return pushed[HALF : 2 * HALF] if len(pushed) >= 2 * HALF else ""


# -- views from DingTalk objects (callbacks) ----------------------------------------------------------------------


def dept_main_from_ding(dept: Any) -> dict[str, Any]:
    return {
        "name": dept.name,
        "parent_id": int(dept.parent_id or 0),
        "order": int(dept.order or 0),
        "create_dept_group": bool(dept.create_dept_group),
    }


def dept_rel_from_ding(dept: Any) -> dict[str, Any]:
    hide = bool(dept.hide_dept)
    outer = bool(dept.outer_dept)
    return {
        "managers": list(dept.dept_manager_userid_list or []),
        "owner": (dept.org_dept_owner or "") if dept.create_dept_group else "",
        "group_sub": bool(dept.group_contain_sub_dept) if dept.create_dept_group else False,
        "hide_dept": hide,
        "dept_permits": sorted(int(x) for x in dept.dept_permits or []) if hide else [],
        "user_permits": sorted(str(x) for x in dept.user_permits or []) if hide else [],
        "outer_dept": outer,
        "only_self": bool(dept.outer_dept_only_self) if outer else False,
        "outer_depts": sorted(int(x) for x in dept.outer_permit_depts or []) if outer else [],
        "outer_users": sorted(str(x) for x in dept.outer_permit_users or []) if outer else [],
    }


def person_view_from_ding(user: Any) -> dict[str, Any]:
    return {
        "name": user.name,
        "mobile": plain_mobile(user.mobile or ""),  # DingTalk may answer "+86-138..." for "138..."
        "dept_id_list": [int(x) for x in user.dept_id_list or []],
        "title": user.title or "",
        "email": user.email or "",
        "job_number": user.job_number or "",
        "hide_mobile": bool(user.hide_mobile),
        "senior_mode": bool(user.senior),
    }


__all__ = [
    "dept_hash",
    "dept_main_from_ding",
    "dept_rel_from_ding",
    "main_half",
    "person_hash",
    "person_view_from_ding",
    "rel_half",
    "view_hash",
]
