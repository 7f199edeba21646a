"""JSON control API under ``/_sim/``: change the fake organisation and its behaviour from tests and demos.

Keys use EKP's wire names (``loginName``, ``mobileNo``, ``isBusiness`` ...). Every change stamps a new
``alterTime`` (or the one given), except a hard delete, which removes the element outright.
"""

from __future__ import annotations

import random
from dataclasses import asdict
from typing import Any

from aiohttp import web

from app.ekp.models import ElementType
from app.ekp.simulator import names
from app.ekp.simulator.clock import ms_to_str, str_to_ms
from app.ekp.simulator.serialize import element_json
from app.ekp.simulator.server import FAULT_KINDS, EkpSimulator, Fault
from app.ekp.simulator.state import OrgState, SimElement

WIRE_FIELDS = {
    "name": "name",
    "parent": "parent",
    "order": "order",
    "no": "no",
    "keyword": "keyword",
    "memo": "memo",
    "isAvailable": "is_available",
    "isBusiness": "is_business",
    "thisLeader": "this_leader",
    "superLeader": "super_leader",
    "loginName": "login_name",
    "mobileNo": "mobile_no",
    "email": "email",
    "nickName": "nick_name",
    "sex": "sex",
    "workPhone": "work_phone",
    "password": "password",
    "posts": "posts",
    "persons": "persons",
    "members": "members",
}
_CONTAINERS = (ElementType.ORG, ElementType.DEPT)


class BadRequest(Exception):
    pass


def _changes(state: OrgState, element_type: ElementType, body: dict[str, Any], element_id: str | None) -> dict:
    changes: dict[str, Any] = {}
    for key, value in body.items():
        if key in {"type", "id", "alterTime"}:
            continue
        if key not in WIRE_FIELDS:
            raise BadRequest(f"unknown field {key!r}")
        changes[WIRE_FIELDS[key]] = value
    parent = changes.get("parent")
    if parent is not None:
        if element_type == ElementType.GROUP:
            raise BadRequest("groups have no parent")
        container = state.elements.get(parent)
        if container is None or container.type not in _CONTAINERS:
            raise BadRequest(f"parent {parent!r} is not an org or dept")
        walk: str | None = parent
        while walk is not None and element_id is not None:
            if walk == element_id:
                raise BadRequest("a department cannot move under itself")
            walk = state.elements[walk].parent if walk in state.elements else None
    login = changes.get("login_name")
    if login:
        holder = state.find_person(login)
        if holder is not None and holder.id != element_id:
            raise BadRequest(f"loginName {login!r} already used")
    return changes


def _alter_ms(body: dict[str, Any]) -> int | None:
    raw = body.get("alterTime")
    if raw is None:
        return None
    try:
        return str_to_ms(raw)
    except (ValueError, AttributeError):
        raise BadRequest(f"alterTime must be yyyy-MM-dd HH:mm:ss.SSS, got {raw!r}") from None


class ControlApi:
    def __init__(self, sim: EkpSimulator) -> None:
        self.sim = sim
        self.state = sim.state
        self.rng = random.Random(0)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/_sim/counts", self.counts),
            web.get("/_sim/elements", self.list_elements),
            web.post("/_sim/elements", self.add_element),
            web.get("/_sim/elements/{id}", self.get_element),
            web.patch("/_sim/elements/{id}", self.patch_element),
            web.delete("/_sim/elements/{id}", self.delete_element),
            web.post("/_sim/elements/{id}/disable", self.disable),
            web.post("/_sim/elements/{id}/enable", self.enable),
            web.post("/_sim/bulk/change", self.bulk_change),
            web.post("/_sim/same-millisecond", self.same_millisecond),
            web.get("/_sim/faults", self.get_config),
            web.post("/_sim/faults", self.add_fault),
            web.delete("/_sim/faults", self.clear_faults),
            web.get("/_sim/config", self.get_config),
            web.patch("/_sim/config", self.patch_config),
            web.get("/_sim/requests", self.get_requests),
            web.delete("/_sim/requests", self.clear_requests),
        ]

    def _json(self, element: SimElement, status: int = 200) -> web.Response:
        return web.json_response(element_json(element, self.state.elements), status=status)

    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            raise web.HTTPBadRequest(text="body is not JSON") from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="body must be a JSON object")
        return body

    def _element(self, request: web.Request) -> SimElement:
        element = self.state.elements.get(request.match_info["id"])
        if element is None:
            raise web.HTTPNotFound(text=f"no element {request.match_info['id']}")
        return element

    async def counts(self, request: web.Request) -> web.Response:
        return web.json_response(self.state.counts())

    async def list_elements(self, request: web.Request) -> web.Response:
        wanted = request.query.get("type")
        items = self.state.of_type(ElementType(wanted)) if wanted else list(self.state.elements.values())
        if "available" in request.query:
            flag = request.query["available"].lower() == "true"
            items = [e for e in items if e.is_available == flag]
        offset = int(request.query.get("offset", 0))
        limit = int(request.query.get("limit", 100))
        page = items[offset : offset + limit]
        return web.json_response({"total": len(items), "items": [element_json(e, self.state.elements) for e in page]})

    async def get_element(self, request: web.Request) -> web.Response:
        return self._json(self._element(request))

    async def add_element(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            element_type = ElementType(body.get("type", ""))
            element_id = body.get("id") or self.state.new_id()
            if element_id in self.state.elements:
                raise BadRequest(f"id {element_id} exists")
            if not body.get("name"):
                raise BadRequest("name is required")
            if element_type == ElementType.PERSON and not body.get("loginName"):
                raise BadRequest("loginName is required for persons")
            changes = _changes(self.state, element_type, body, None)
            ms = _alter_ms(body)
        except (BadRequest, ValueError) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        element = SimElement(id=element_id, type=element_type, name=body["name"], alter_ms=0)
        for key, value in changes.items():
            setattr(element, key, value)
        element.alter_ms = self.state.clock.now() if ms is None else ms
        self.state.add(element)
        return self._json(element, 201)

    async def patch_element(self, request: web.Request) -> web.Response:
        element = self._element(request)
        body = await self._body(request)
        try:
            changes = _changes(self.state, element.type, body, element.id)
            ms = _alter_ms(body)
        except BadRequest as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return self._json(self.state.update(element.id, changes, alter_ms=ms))

    async def delete_element(self, request: web.Request) -> web.Response:
        element = self.state.hard_delete(self._element(request).id)
        return web.json_response({"deleted": element.id, "type": element.type.value, "name": element.name})

    async def disable(self, request: web.Request) -> web.Response:
        return self._json(self.state.set_available(self._element(request).id, False))

    async def enable(self, request: web.Request) -> web.Response:
        return self._json(self.state.set_available(self._element(request).id, True))

    async def bulk_change(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            result = bulk_change(
                self.state,
                ElementType(body.get("type", "person")),
                int(body.get("count", 1)),
                str(body.get("field", "name")),
                random.Random(body["seed"]) if "seed" in body else self.rng,
            )
        except (ValueError, BadRequest) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response(result)

    async def same_millisecond(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            ids = body.get("ids")
            if ids is None:
                pool = self.state.of_type(ElementType(body.get("type", "person")))
                ids = [e.id for e in self.rng.sample(pool, min(len(pool), int(body.get("count", 2))))]
            missing = [i for i in ids if i not in self.state.elements]
            if missing:
                raise BadRequest(f"unknown ids {missing[:5]}")
            stamp = self.state.set_same_millisecond(ids, _alter_ms(body))
        except (ValueError, BadRequest) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response({"ids": ids, "alterTime": ms_to_str(stamp)})

    async def add_fault(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        kind = body.get("kind")
        if kind not in FAULT_KINDS:
            raise web.HTTPBadRequest(text=f"kind must be one of {sorted(FAULT_KINDS)}")
        fault = Fault(kind=kind, times=int(body.get("times", 1)))
        if "message" in body:
            fault.message = str(body["message"])
        fault.status = int(body.get("status", fault.status))
        fault.seconds = float(body.get("seconds", fault.seconds))
        fault.after = int(body.get("after", 0))
        self.sim.faults.append(fault)
        return web.json_response(asdict(fault), status=201)

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.sim.faults.clear()
        return web.json_response({"faults": []})

    async def get_config(self, request: web.Request) -> web.Response:
        return web.json_response(self.sim.describe())

    async def patch_config(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        policy = self.sim.policy
        mapping = {"user": "user", "password": "password", "allowedIps": "allowed_ips", "anonymous": "anonymous"}
        mapping["soapPlainPassword"] = "soap_plain_password"
        for key, value in body.items():
            if key == "perTypePaging":
                self.sim.per_type_paging = bool(value)
            elif key in mapping:
                setattr(policy, mapping[key], value)
            else:
                raise web.HTTPBadRequest(text=f"unknown setting {key!r}")
        return web.json_response(self.sim.describe())

    async def get_requests(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": list(self.sim.requests)})

    async def clear_requests(self, request: web.Request) -> web.Response:
        self.sim.requests.clear()
        return web.json_response({"requests": []})


def bulk_change(state: OrgState, element_type: ElementType, count: int, field: str, rng: random.Random) -> dict:
    """Change ``count`` random elements of one type (``field``: name, mobileNo, parent or disable)."""
    if field not in {"name", "mobileNo", "parent", "disable"}:
        raise BadRequest("field must be name, mobileNo, parent or disable")
    pool = state.of_type(element_type)
    chosen = rng.sample(pool, min(count, len(pool)))
    containers = state.of_type(ElementType.DEPT) or state.of_type(ElementType.ORG)
    mobiles = {e.mobile_no for e in pool if e.mobile_no} if field == "mobileNo" else set()
    state.mark_bulk([element_type])
    for element in chosen:
        if field == "name":
            if element_type == ElementType.PERSON:
                surname, _ = rng.choice(names.SURNAMES)
                element.name = surname + "".join(rng.choice(names.GIVEN)[0] for _ in range(2))
            else:
                element.name = f"{element.name}新"
        elif field == "mobileNo":
            mobile = element.mobile_no
            while mobile is None or mobile in mobiles:
                mobile = f"1{rng.choice('3589')}{rng.randint(0, 10**9 - 1):09d}"
            mobiles.add(mobile)
            element.mobile_no = mobile
        elif field == "parent":
            if element_type != ElementType.PERSON:
                raise BadRequest("bulk moves are for persons")
            element.parent = rng.choice(containers).id
        else:
            element.is_available = False
        state.touch(element)
    stamps = [e.alter_ms for e in chosen]
    return {
        "ids": [e.id for e in chosen],
        "minAlterTime": ms_to_str(min(stamps)) if stamps else None,
        "maxAlterTime": ms_to_str(max(stamps)) if stamps else None,
    }
