"""Simulator elements as EKP writes them in ``message`` (reference 1.5): empty keys left out, except the flags,
``hierarchyId`` and ``langProps`` which are always written; numbers such as ``order`` travel as strings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from app.ekp.models import ElementType
from app.ekp.protocol import md5_hex
from app.ekp.simulator.state import SimElement


def hierarchy_id(element: SimElement, elements: Mapping[str, SimElement], cache: dict[str, str] | None = None) -> str:
    """``x<root>x...x<self>x``. ``cache`` memoises container paths within one response (thousands of persons
    share a few departments)."""
    parent = element.parent
    if not parent or parent not in elements:
        return f"x{element.id}x"
    if cache is not None and parent in cache:
        prefix = cache[parent]
    else:
        chain: list[str] = []
        walk: str | None = parent
        while walk and walk in elements and len(chain) < 64:
            chain.append(walk)
            walk = elements[walk].parent
        prefix = "x" + "x".join(reversed(chain)) + "x"
        if cache is not None:
            cache[parent] = prefix
    return f"{prefix}{element.id}x"


def element_json(
    element: SimElement, elements: Mapping[str, SimElement], cache: dict[str, str] | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {"id": element.id, "lunid": element.id, "name": element.name, "type": element.type.value}
    _put(data, "no", element.no)
    _put(data, "order", None if element.order is None else str(element.order))
    _put(data, "keyword", element.keyword)
    _put(data, "memo", element.memo)
    data["isAvailable"] = element.is_available
    data["isBusiness"] = element.is_business
    data["isExternal"] = False
    data["hierarchyId"] = hierarchy_id(element, elements, cache)
    data["alterTime"] = element.alter_time
    data["langProps"] = {"fdName": element.name, "fdNameCN": element.name}
    if element.type != ElementType.GROUP:
        _put(data, "parent", element.parent)
    if element.type in (ElementType.ORG, ElementType.DEPT, ElementType.POST):
        _put(data, "thisLeader", element.this_leader)
    if element.type in (ElementType.ORG, ElementType.DEPT):
        _put(data, "superLeader", element.super_leader)
    if element.type == ElementType.POST:
        _put(data, "persons", list(element.persons))
    elif element.type == ElementType.GROUP:
        _put(data, "members", list(element.members))
    elif element.type == ElementType.PERSON:
        _person(data, element)
    return data


def _person(data: dict[str, Any], element: SimElement) -> None:
    data["posts"] = list(element.posts)
    _put(data, "loginName", element.login_name)
    _put(data, "loginNameLower", (element.login_name or "").lower())
    _put(data, "nickName", element.nick_name)
    _put(data, "email", element.email)
    _put(data, "mobileNo", element.mobile_no)
    _put(data, "workPhone", element.work_phone)
    _put(data, "sex", element.sex)
    data["isActivated"] = True
    data["canLogin"] = element.is_available
    _put(data, "staffingLevelName", element.staffing_level_name)
    _put(data, "staffingLevelValue", element.staffing_level_value)
    # Real EKP leaks the password hash here; clients must drop it, so the simulator sends it too.
    data["password"] = _password_hash(element.password)


_HASHES: dict[str, str] = {}


def _password_hash(password: str) -> str:
    # Generated persons share one default password: hash it once, not 100,000 times per full read.
    cached = _HASHES.get(password)
    if cached is None:
        cached = _HASHES[password] = md5_hex(password)
    return cached


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != "" and value != []:
        data[key] = value


def base_info_json(element: SimElement, extras: Iterable[str]) -> dict[str, Any]:
    data: dict[str, Any] = {"id": element.id, "lunid": element.id, "name": element.name, "type": element.type.value}
    for extra in extras:
        value = getattr(element, extra)
        _put(data, extra, None if value is None else str(value))
    return data
