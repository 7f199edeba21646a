"""Async client of EKP's org export (``sysSynchroGetOrgWebService``) over REST or SOAP.

Paging follows EKP's timestamp contract (reference 1.6): the server returns elements with ``alterTime`` strictly
after ``beginTimeStamp`` in ascending order, may return more than ``count`` items while they share the last
millisecond, and the run is over when fewer than ``count`` items come back. We keep one cursor per
:class:`CursorKind`, re-read ``overlap_seconds`` before the cursor (late-committed rows carry an older alterTime)
and drop what was already seen by ``(id, alterTime)``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
import msgspec

from app.ekp import soap
from app.ekp.errors import (
    EkpAuthError,
    EkpConnectionError,
    EkpError,
    EkpForbiddenError,
    EkpProtocolError,
    EkpServiceError,
)
from app.ekp.models import (
    BASE_INFOS,
    CURSOR_TYPES,
    ELEMENTS,
    CursorKind,
    EkpBaseInfo,
    EkpElement,
    EkpPage,
    ElementType,
    decode,
    shift_timestamp,
)
from app.ekp.protocol import (
    FAULT_ILLEGAL_IP,
    FAULT_LOCKED,
    FAULT_UNAUTHORIZED,
    PASSWORD_CHECK_PATH,
    REST_SERVICE_PATH,
    RETURN_FAILURE,
    RETURN_SUCCESS,
    SOAP_SERVICE_PATH,
    md5_hex,
)

__all__ = [
    "CursorKind",
    "EkpAuthError",
    "EkpBaseInfo",
    "EkpConnectionCheck",
    "EkpConnectionError",
    "EkpElement",
    "EkpError",
    "EkpForbiddenError",
    "EkpOrgSource",
    "EkpPage",
    "EkpProtocolError",
    "EkpServiceError",
    "EkpSourceConfig",
    "ElementType",
]

log = logging.getLogger("app.ekp")

Transport = Literal["rest", "soap"]
# A cheap probe: nothing is newer than this, so EKP runs its query and answers an empty page.
_PROBE_TIMESTAMP = "9999-12-31 23:59:59.999"
# The REST envelope; its ``message`` is one large JSON string, which msgspec copies out far faster than json.loads.
_ENVELOPE = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class EkpSourceConfig:
    """Connection settings. ``base_url`` includes EKP's context path, e.g. ``http://oa.example.com/ekp``.

    An empty ``user`` means the access policy is anonymous (IP-limited) and no credentials are sent.
    ``include_non_business`` switches to the V2 methods with ``isBusiness`` unset; plain methods return only
    business elements.
    """

    base_url: str
    user: str = ""
    password: str = field(default="", repr=False)
    transport: Transport = "rest"
    soap_password_md5: bool = True
    page_size: int = 1000
    overlap_seconds: float = 60.0
    timeout_seconds: float = 60.0
    verify_tls: bool = True
    include_non_business: bool = False


@dataclass(frozen=True, slots=True)
class EkpConnectionCheck:
    """Outcome of :meth:`EkpOrgSource.check_connection`; ``message`` is ready to show on the settings page."""

    ok: bool
    message: str
    transport: Transport
    elapsed_ms: int
    error: EkpError | None = None


@dataclass(frozen=True, slots=True)
class _RawPage:
    items: list[EkpElement]
    count: int
    timestamp: str | None


class EkpOrgSource:
    """Reads EKP's organisation. The aiohttp session belongs to the caller (shared pool, closed by the caller)."""

    def __init__(self, session: aiohttp.ClientSession, config: EkpSourceConfig) -> None:
        if config.page_size <= 0:
            raise ValueError("page_size must be positive")
        self._session = session
        self._config = config
        self._base = config.base_url.rstrip("/")

    @property
    def config(self) -> EkpSourceConfig:
        return self._config

    # ---- paging -------------------------------------------------------------------------------------------------

    async def iter_changes(
        self,
        kind: CursorKind | str,
        cursor: str | None,
        *,
        known: Mapping[str, str] | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[EkpPage]:
        """Yield pages of elements of ``kind`` changed after ``cursor`` (``None`` = everything, a full read).

        Persist ``page.cursor`` only after the page is committed: if the run dies, the next run resumes there.
        ``known`` maps id -> alterTime already applied (e.g. rows inside the overlap window); matching elements are
        dropped, so the overlap re-read costs no work downstream.
        """
        kind = CursorKind(kind)
        types = CURSOR_TYPES[kind]
        size = page_size or self._config.page_size
        overlap = self._config.overlap_seconds
        begin = shift_timestamp(cursor, -overlap) if cursor and overlap > 0 else cursor
        current = cursor
        seen: set[tuple[str, str]] = set()
        while True:
            raw = await self._updated_page(types, begin, size)
            fresh: list[EkpElement] = []
            for element in raw.items:
                key = (element.id, element.alter_time)
                if key in seen or (known is not None and known.get(key[0]) == key[1]):
                    continue
                seen.add(key)
                fresh.append(element)
            requested_from = begin
            if raw.items:
                last = raw.timestamp or max(e.alter_time for e in raw.items)
                if begin is not None and last <= begin:
                    # Asking again from the same point would return the same page forever.
                    raise EkpProtocolError(f"EKP timeStamp {last!r} does not advance past {begin!r}")
                begin = last
                if current is None or last > current:
                    current = last
            is_last = len(raw.items) < size
            log.debug(
                "ekp page kind=%s from=%s received=%d new=%d cursor=%s",
                kind,
                requested_from,
                len(raw.items),
                len(fresh),
                current,
            )
            yield EkpPage(
                kind=kind,
                elements=fresh,
                cursor=current,
                requested_from=requested_from,
                received=len(raw.items),
                is_last=is_last,
                skipped_duplicates=len(raw.items) - len(fresh),
                server_timestamp=raw.timestamp,
            )
            if is_last:
                return

    async def get_updated_elements(
        self, types: Iterable[ElementType | str], begin: str | None, count: int
    ) -> tuple[list[EkpElement], str | None]:
        """One raw ``getUpdatedElements`` call: the elements and EKP's ``timeStamp``. Prefer :meth:`iter_changes`."""
        raw = await self._updated_page(tuple(ElementType(t) for t in types), begin, count)
        return raw.items, raw.timestamp

    async def _updated_page(self, types: tuple[ElementType, ...], begin: str | None, count: int) -> _RawPage:
        args: dict[str, Any] = {"returnOrgType": _org_types(types), "count": count, "beginTimeStamp": begin or None}
        method = "getUpdatedElements"
        if self._config.include_non_business:
            method = "getUpdatedElementsV2"
        result = await self._call(method, args)
        items = _decode_message(result, ELEMENTS)
        timestamp = result.get("timeStamp") or None
        if isinstance(timestamp, str) and len(timestamp) == 19:
            timestamp += ".000"  # same canonical form as element alterTimes, so string comparison holds
        return _RawPage(items=items, count=_to_int(result.get("count"), len(items)), timestamp=timestamp)

    # ---- base info / deletions --------------------------------------------------------------------------------

    async def get_elements_base_info(
        self, kind: CursorKind | str | None = None, *, extra: Iterable[str] = ()
    ) -> list[EkpBaseInfo]:
        """Every element present now (disabled ones included, hard-deleted ones absent). ``extra`` may name
        ``no``, ``order``, ``keyword``."""
        args: dict[str, Any] = {"returnOrgType": _org_types(CURSOR_TYPES[CursorKind(kind)]) if kind else None}
        extras = list(extra)
        if extras:
            args["returnType"] = json.dumps([{"type": name} for name in extras])
        method = "getElementsBaseInfoV2" if self._config.include_non_business else "getElementsBaseInfo"
        return _decode_message(await self._call(method, args), BASE_INFOS)

    async def find_missing(self, kind: CursorKind | str, known_ids: Iterable[str]) -> set[str]:
        """Ids we hold that EKP no longer has (hard deletes, or elements that left the business scope)."""
        present = {info.id for info in await self.get_elements_base_info(kind)}
        return {id_ for id_ in known_ids if id_ not in present}

    # ---- settings page / login ----------------------------------------------------------------------------------

    async def check_connection(self) -> EkpConnectionCheck:
        """Probe the org export with the configured account; never raises for EKP-side problems."""
        started = time.monotonic()
        error: EkpError | None = None
        try:
            await self._updated_page(CURSOR_TYPES[CursorKind.DEPT], _PROBE_TIMESTAMP, 1)
        except EkpError as exc:
            error = exc
        elapsed = int((time.monotonic() - started) * 1000)
        transport = self._config.transport
        if error is None:
            return EkpConnectionCheck(True, f"连接成功（{transport.upper()}，{elapsed} ms）", transport, elapsed)
        return EkpConnectionCheck(False, _describe(error), transport, elapsed, error)

    async def verify_password(self, login_name: str, password: str) -> bool:
        """True when EKP accepts ``password`` for the person ``login_name`` (domain-account login).

        Always REST with the service account. A wrong person password is ``False``; a broken integration (service
        account refused, EKP down) raises, so the login page can tell "wrong password" from "EKP unavailable".
        """
        if not login_name or not password:
            return False
        result = await self._rest(PASSWORD_CHECK_PATH, {"loginName": login_name, "password": password})
        _check_state(result)
        payload = result.get("message")
        if isinstance(payload, str):
            try:
                payload = json.loads(payload)
            except ValueError as exc:
                raise EkpProtocolError("password check message is not JSON") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("valid"), bool):
            raise EkpProtocolError("password check answer lacks a boolean 'valid'")
        return payload["valid"]

    # ---- transport -----------------------------------------------------------------------------------------------

    async def _call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if self._config.transport == "soap":
            return await self._soap(method, args)
        return await self._rest(f"{REST_SERVICE_PATH}/{method}", {k: v for k, v in args.items() if v is not None})

    async def _request(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        url = self._base + path
        timeout = aiohttp.ClientTimeout(total=self._config.timeout_seconds)
        try:
            async with self._session.post(
                url, data=body, headers=headers, timeout=timeout, ssl=self._config.verify_tls
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise EkpConnectionError(f"EKP did not answer within {self._config.timeout_seconds:g} s: {url}") from exc
        except aiohttp.ClientError as exc:
            raise EkpConnectionError(f"cannot reach EKP at {url}: {exc.__class__.__name__}: {exc}") from exc

    async def _rest(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
        if self._config.user:
            # EKP's REST filter takes the plain password over Basic and hashes it server-side (reference 2.2).
            headers["Authorization"] = aiohttp.encode_basic_auth(self._config.user, self._config.password)
        status, body = await self._request(path, json.dumps(payload).encode(), headers)
        _raise_for_status(status, body, path)
        try:
            result = _ENVELOPE.decode(body)
        except msgspec.DecodeError as exc:
            raise EkpProtocolError(f"EKP REST answer is not JSON: {_snippet(body)}") from exc
        if not isinstance(result, dict):
            raise EkpProtocolError("EKP REST answer is not a JSON object")
        return result

    async def _soap(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        password = self._config.password
        if self._config.user and self._config.soap_password_md5:
            password = md5_hex(password)
        envelope = soap.build_envelope(method, args, self._config.user or None, password)
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
        status, body = await self._request(SOAP_SERVICE_PATH, envelope, headers)
        if status in (401, 403) or (status != 200 and b"Fault" not in body):
            _raise_for_status(status, body, SOAP_SERVICE_PATH)
        try:
            fields = soap.parse_result(body)
        except soap.SoapFault as fault:
            raise _fault_error(fault, status) from None
        if status != 200:
            raise EkpServiceError(f"EKP SOAP HTTP {status}", status=status)
        return fields


# ---- decoding helpers ----------------------------------------------------------------------------------------------


def _org_types(types: Iterable[ElementType]) -> str:
    # returnOrgType is a *string* holding a JSON array, on REST as well as SOAP.
    return json.dumps([{"type": str(t)} for t in types])


def _to_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _check_state(result: Mapping[str, Any]) -> None:
    state = _to_int(result.get("returnState"), -1)
    if state == RETURN_SUCCESS:
        return
    message = result.get("message")
    text = message if isinstance(message, str) and message else "(no message)"
    if state == RETURN_FAILURE:
        raise EkpServiceError(text)
    if state == 0:
        raise EkpServiceError(f"EKP did not process the request: {text}")
    raise EkpProtocolError(f"unexpected returnState {result.get('returnState')!r}")


def _decode_message(result: Mapping[str, Any], decoder: msgspec.json.Decoder) -> list[Any]:
    _check_state(result)
    message = result.get("message")
    if message is None or (isinstance(message, str) and not message.strip()):
        return []
    if not isinstance(message, str | list):
        raise EkpProtocolError(f"EKP message has unexpected type {type(message).__name__}")
    try:
        return decode(decoder, message)
    except msgspec.ValidationError as exc:  # names the element and field, e.g. "... - at `$[3].alterTime`"
        raise EkpProtocolError(f"malformed element in EKP answer: {exc}") from None
    except msgspec.DecodeError as exc:
        raise EkpProtocolError(f"EKP message is not JSON: {exc}") from None


def _snippet(body: bytes, limit: int = 200) -> str:
    return body[:limit].decode("utf-8", "replace").replace("\n", " ")


def _raise_for_status(status: int, body: bytes, path: str) -> None:
    if status == 200:
        return
    if status == 401:
        raise EkpAuthError("EKP refused the account or password (HTTP 401)", status=status)
    if status == 403:
        raise EkpForbiddenError("EKP access policy refused this caller, check its IP list (HTTP 403)", status=status)
    if status == 404:
        raise EkpServiceError(f"EKP service not registered or disabled: {path} (HTTP 404)", status=status)
    raise EkpServiceError(f"EKP HTTP {status}: {_snippet(body)}", status=status)


def _fault_error(fault: soap.SoapFault, status: int) -> EkpError:
    text = fault.text or fault.code
    if FAULT_UNAUTHORIZED in text:
        return EkpAuthError(f"EKP refused the SOAP account or password ({text})", status=status)
    if FAULT_ILLEGAL_IP in text or FAULT_LOCKED in text:
        return EkpForbiddenError(f"EKP access policy refused this caller ({text})", status=status)
    return EkpServiceError(f"EKP SOAP fault: {text}", status=status)


def _describe(error: EkpError) -> str:
    if isinstance(error, EkpAuthError):
        return "验权失败：EKP 拒绝了验权账号或密码"
    if isinstance(error, EkpForbiddenError):
        return "访问被拒绝：请检查 EKP 组织架构接出服务的访问策略（账号、IP 限制）"
    if isinstance(error, EkpConnectionError):
        return f"无法连接 EKP：{error.message}"
    if isinstance(error, EkpServiceError):
        return f"EKP 返回错误：{error.message}"
    return f"EKP 应答无法识别：{error.message}"
