"""HTTP face of the fake EKP: REST and SOAP org export, access policies, the password check, injected faults.

Access policy behaviour (reference 2): REST uses HTTP Basic with the plain password and answers 401 with
``WWW-Authenticate: Basic realm="null"`` or 403 for a refused IP; SOAP compares the ``RequestSOAPHeader`` password
with the MD5 hex of the policy password and answers CXF-style faults (HTTP 500) carrying EKP's message keys.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

from app.ekp.protocol import (
    FAULT_ILLEGAL_IP,
    FAULT_UNAUTHORIZED,
    ORG_OUT_NS,
    PASSWORD_CHECK_PATH,
    REST_SERVICE_PATH,
    RETURN_FAILURE,
    RETURN_NOT_PROCESSED,
    RETURN_SUCCESS,
    SOAP_ENV_NS,
    SOAP_SERVICE_PATH,
    md5_hex,
)
from app.ekp.simulator import export
from app.ekp.simulator.state import OrgState

FAULT_KINDS = {"service_error", "not_processed", "malformed", "bad_element", "http_status", "delay"}


@dataclass(slots=True)
class AccessPolicy:
    """One account policy for both REST and SOAP (EKP keeps them apart; one is enough for a fake)."""

    user: str = "ekp"
    password: str = field(default="ekp", repr=False)
    allowed_ips: list[str] = field(default_factory=list)  # empty = any IP; "10.0.*.*" style wildcards
    anonymous: bool = False
    soap_plain_password: bool = False  # older EKP versions may compare plain text (unconfirmed)


@dataclass(slots=True)
class Fault:
    kind: str
    times: int = 1
    message: str = "模拟的EKP服务异常"
    status: int = 500
    seconds: float = 0.0
    after: int = 0  # let this many requests through first (fail page 3 of a run, say)


class EkpSimulator:
    """State, policy and fault switches of one fake EKP; :meth:`routes` mounts it under a context path."""

    def __init__(self, state: OrgState, policy: AccessPolicy) -> None:
        self.state = state
        self.policy = policy
        self.per_type_paging = False
        self.faults: list[Fault] = []
        self.requests: deque[dict[str, Any]] = deque(maxlen=2000)

    # ---- policy -----------------------------------------------------------------------------------------------

    def ip_allowed(self, remote: str | None) -> bool:
        if not self.policy.allowed_ips:
            return True
        parts = (remote or "").split(".")
        for pattern in self.policy.allowed_ips:
            wanted = pattern.strip().split(".")
            if len(wanted) == len(parts) and all(w in ("*", p) for w, p in zip(wanted, parts, strict=True)):
                return True
        return False

    def basic_ok(self, header: str | None) -> tuple[bool, str | None]:
        if self.policy.anonymous:
            return True, None
        if not header or not header.lower().startswith("basic "):
            return False, None
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False, None
        return user == self.policy.user and password == self.policy.password, user

    def soap_password_form(self, password: str | None) -> str:
        if password is None:
            return "none"
        if password == md5_hex(self.policy.password):
            return "md5"
        return "plain" if password == self.policy.password else "wrong"

    def take_fault(self) -> Fault | None:
        if not self.faults:
            return None
        fault = self.faults[0]
        if fault.after > 0:
            fault.after -= 1
            return None
        fault.times -= 1
        if fault.times <= 0:
            self.faults.pop(0)
        return fault

    def log(self, **entry: Any) -> None:
        self.requests.append(entry)

    # ---- routes -------------------------------------------------------------------------------------------------

    def routes(self, context_path: str) -> list[web.RouteDef]:
        base = context_path.rstrip("/")
        return [
            web.post(f"{base}{REST_SERVICE_PATH}/{{method}}", self.rest_export),
            web.post(f"{base}{PASSWORD_CHECK_PATH}", self.rest_password_check),
            web.post(f"{base}{SOAP_SERVICE_PATH}", self.soap_export),
            web.get(f"{base}{SOAP_SERVICE_PATH}", self.soap_wsdl),
        ]

    def _rest_gate(self, request: web.Request) -> tuple[web.Response | None, str | None]:
        if not self.ip_allowed(request.remote):
            return web.Response(status=403, text="403 Forbidden: IP not allowed"), None
        ok, user = self.basic_ok(request.headers.get("Authorization"))
        if not ok:
            return web.Response(
                status=401, text="401 Unauthorized", headers={"WWW-Authenticate": 'Basic realm="null"'}
            ), user
        return None, user

    async def _rest_body(self, request: web.Request) -> dict[str, Any] | None:
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    async def rest_export(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        refused, user = self._rest_gate(request)
        if refused is not None:
            self.log(transport="rest", method=method, user=user, status=refused.status)
            return refused
        if method not in export.METHODS:
            return web.Response(status=404, text="404 Not Found")
        args = await self._rest_body(request)
        if args is None:
            return web.Response(status=400, text="400 Bad Request: body is not a JSON object")
        self.log(transport="rest", method=method, user=user, status=200, args=args)
        injected = await self._injected_rest()
        if injected is not None:
            return injected
        result = export.run(self.state, method, args, per_type_paging=self.per_type_paging)
        return _rest_result(result)

    async def rest_password_check(self, request: web.Request) -> web.Response:
        refused, user = self._rest_gate(request)
        if refused is not None:
            return refused
        args = await self._rest_body(request)
        if args is None:
            return web.Response(status=400, text="400 Bad Request: body is not a JSON object")
        self.log(
            transport="rest", method="checkPassword", user=user, status=200, args={"loginName": args.get("loginName")}
        )
        injected = await self._injected_rest()
        if injected is not None:
            return injected
        login, password = args.get("loginName"), args.get("password")
        if not login or not isinstance(login, str) or not isinstance(password, str):
            return _rest_result(export.failure("loginName和password不能为空"))
        person = self.state.find_person(login)
        valid = person is not None and person.is_available and person.password == password
        return _rest_result({"returnState": RETURN_SUCCESS, "message": {"valid": valid}, "count": 1})

    async def _injected_rest(self) -> web.Response | None:
        fault = self.take_fault()
        if fault is None:
            return None
        if fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
            return None
        if fault.kind == "http_status":
            return web.Response(status=fault.status, text=f"{fault.status} simulated")
        if fault.kind == "malformed":
            return web.Response(text='{"returnState":2,"message":"[{\\"id\\":', content_type="application/json")
        return _rest_result(_fault_result(fault))

    # ---- SOAP ---------------------------------------------------------------------------------------------------

    async def soap_wsdl(self, request: web.Request) -> web.Response:
        # Only a marker document: clients here post the envelope directly and never need the full WSDL.
        if "wsdl" not in request.query:
            return web.Response(status=405, text="use POST")
        text = (
            f'<?xml version="1.0" encoding="UTF-8"?><wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
            f'name="ISysSynchroGetOrgWebServiceService" targetNamespace="{ORG_OUT_NS}"/>'
        )
        return web.Response(text=text, content_type="text/xml")

    async def soap_export(self, request: web.Request) -> web.Response:
        try:
            root = ET.fromstring(await request.read())
        except ET.ParseError:
            return _soap_fault("soap:Client", "Unmarshalling Error: not well-formed XML")
        user, password = _soap_credentials(root)
        method, args = _soap_call(root)
        entry: dict[str, Any] = {"transport": "soap", "method": method, "user": user}
        entry["password_form"] = self.soap_password_form(password)
        if not self.ip_allowed(request.remote):
            self.log(**entry, status=500, fault=FAULT_ILLEGAL_IP)
            return _soap_fault("soap:Server", FAULT_ILLEGAL_IP)
        accepted = {"md5", "plain"} if self.policy.soap_plain_password else {"md5"}
        if not self.policy.anonymous and (user != self.policy.user or entry["password_form"] not in accepted):
            self.log(**entry, status=500, fault=FAULT_UNAUTHORIZED)
            return _soap_fault("soap:Server", FAULT_UNAUTHORIZED)
        if method not in export.METHODS:
            return _soap_fault("soap:Client", f"Unexpected wrapper element {method} found.")
        self.log(**entry, status=200, args=args)
        fault = self.take_fault()
        if fault is not None:
            if fault.kind == "delay":
                await asyncio.sleep(fault.seconds)
            elif fault.kind == "http_status":
                return web.Response(status=fault.status, text=f"{fault.status} simulated")
            elif fault.kind == "malformed":
                return web.Response(text="<soap:Envelope><soap:Body><return>", content_type="text/xml")
            else:
                return _soap_result(method, _fault_result(fault))
        return _soap_result(method, export.run(self.state, method, args, per_type_paging=self.per_type_paging))

    def describe(self) -> dict[str, Any]:
        policy = asdict(self.policy)
        policy.pop("password")
        return {"policy": policy, "perTypePaging": self.per_type_paging, "faults": [asdict(f) for f in self.faults]}


def _fault_result(fault: Fault) -> dict[str, Any]:
    if fault.kind == "not_processed":
        return {"returnState": RETURN_NOT_PROCESSED, "message": "", "count": 0}
    if fault.kind == "bad_element":
        return {"returnState": RETURN_SUCCESS, "message": [{"name": "缺少id的元素"}], "count": 1, "timeStamp": None}
    return {"returnState": RETURN_FAILURE, "message": fault.message, "count": 0}


def _encode_message(result: dict[str, Any]) -> dict[str, Any]:
    # EKP's result object carries message as a string; on REST that string is JSON again (double-encoded).
    message = result.get("message")
    if isinstance(message, list | dict):
        message = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    return {**result, "message": message}


def _rest_result(result: dict[str, Any]) -> web.Response:
    return web.Response(
        text=json.dumps(_encode_message(result), ensure_ascii=False, separators=(",", ":")),
        content_type="application/json",
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _soap_credentials(root: ET.Element) -> tuple[str | None, str | None]:
    user = password = None
    for child in root:
        if _local(child.tag) != "Header":
            continue
        # RequestSOAPHeader{user,password}, or separate top-level user/password headers.
        for node in child.iter():
            if _local(node.tag) == "user":
                user = (node.text or "").strip()
            elif _local(node.tag) == "password":
                password = (node.text or "").strip()
    return user, password


def _soap_call(root: ET.Element) -> tuple[str, dict[str, Any]]:
    for child in root:
        if _local(child.tag) == "Body" and len(child):
            operation = child[0]
            args: dict[str, Any] = {}
            for arg in operation:
                if _local(arg.tag) == "arg0":
                    args = {_local(field.tag): field.text for field in arg}
            return _local(operation.tag), args
    return "", {}


def _soap_result(method: str, result: dict[str, Any]) -> web.Response:
    encoded = _encode_message(result)
    parts = [f"<count>{int(encoded.get('count') or 0)}</count>"]
    if encoded.get("message") is not None:
        parts.append(f"<message>{escape(str(encoded['message']))}</message>")
    parts.append(f"<returnState>{encoded['returnState']}</returnState>")
    if encoded.get("timeStamp"):
        parts.append(f"<timeStamp>{escape(encoded['timeStamp'])}</timeStamp>")
    body = (
        f'<soap:Envelope xmlns:soap="{SOAP_ENV_NS}"><soap:Body><ns2:{method}Response xmlns:ns2="{ORG_OUT_NS}">'
        f"<return>{''.join(parts)}</return></ns2:{method}Response></soap:Body></soap:Envelope>"
    )
    return web.Response(text=body, content_type="text/xml")


def _soap_fault(code: str, text: str) -> web.Response:
    body = (
        f'<soap:Envelope xmlns:soap="{SOAP_ENV_NS}"><soap:Body><soap:Fault><faultcode>{code}</faultcode>'
        f"<faultstring>{escape(text)}</faultstring></soap:Fault></soap:Body></soap:Envelope>"
    )
    return web.Response(status=500, text=body, content_type="text/xml")
