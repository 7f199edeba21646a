"""The org export service itself, independent of transport: takes the context fields, returns the result object.

Validation and Chinese failure texts follow EKP's behaviour (reference 1.3): a bad ``count`` or ``returnOrgType``
yields ``returnState=1``, never an HTTP error. The exact wording of EKP's messages is not known; ours are close.
"""

from __future__ import annotations

import json
from typing import Any

from app.ekp.models import ElementType
from app.ekp.protocol import RETURN_FAILURE, RETURN_SUCCESS
from app.ekp.simulator.clock import ms_to_str, str_to_ms
from app.ekp.simulator.serialize import base_info_json, element_json
from app.ekp.simulator.state import OrgState

UPDATED_METHODS = {"getUpdatedElements", "getUpdatedElementsV2"}
BASE_INFO_METHODS = {"getElementsBaseInfo", "getElementsBaseInfoV2"}
METHODS = UPDATED_METHODS | BASE_INFO_METHODS
_EXTRAS = ("no", "order", "keyword")


class ExportFailure(Exception):
    """Becomes ``{"returnState": 1, "message": text}``."""


def failure(message: str) -> dict[str, Any]:
    return {"returnState": RETURN_FAILURE, "message": message, "count": 0}


def _types(raw: Any) -> list[ElementType]:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return list(ElementType)
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
        result = [ElementType(str(item["type"]).lower()) for item in items]
    except (ValueError, TypeError, KeyError):
        raise ExportFailure(f"returnOrgType参数格式错误：{raw}") from None
    return result or list(ElementType)


def _extras(raw: Any) -> list[str]:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return []
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
        names = [str(item["type"]).lower() for item in items]
    except (ValueError, TypeError, KeyError):
        raise ExportFailure(f"returnType参数格式错误：{raw}") from None
    if any(name not in _EXTRAS for name in names):
        raise ExportFailure(f"returnType参数只支持no、order、keyword：{raw}")
    return names


def _business(method: str, args: dict[str, Any]) -> bool | None:
    if not method.endswith("V2"):
        return True  # plain methods always filter fdIsBusiness = true
    value = args.get("isBusiness")
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def run(state: OrgState, method: str, args: dict[str, Any], *, per_type_paging: bool = False) -> dict[str, Any]:
    """Execute ``method`` with the context ``args``; the result's ``message`` is a Python list (the transport
    encodes it)."""
    try:
        types = _types(args.get("returnOrgType"))
        business = _business(method, args)
        if method in BASE_INFO_METHODS:
            extras = _extras(args.get("returnType"))
            rows = [base_info_json(e, extras) for e in state.base_info(types, business)]
            return {"returnState": RETURN_SUCCESS, "message": rows, "count": len(rows)}
        try:
            count = int(args.get("count") or 0)
        except (TypeError, ValueError):
            count = 0
        if count <= 0:
            raise ExportFailure("count不能为空，且必须大于0")
        begin_raw = args.get("beginTimeStamp")
        try:
            begin_ms = str_to_ms(begin_raw) if begin_raw else None
        except ValueError:
            raise ExportFailure(f"beginTimeStamp格式错误，应为yyyy-MM-dd HH:mm:ss.SSS：{begin_raw}") from None
        query = state.updated_per_type if per_type_paging else state.updated
        page = query(types, begin_ms, count, business)
    except ExportFailure as exc:
        return failure(str(exc))
    cache: dict[str, str] = {}
    rows = [element_json(e, state.elements, cache) for e in page.items]
    # An empty page echoes the request's beginTimeStamp (possibly null), as EKP does.
    timestamp = ms_to_str(page.timestamp_ms) if page.items and page.timestamp_ms is not None else begin_raw or None
    return {"returnState": RETURN_SUCCESS, "message": rows, "count": len(rows), "timeStamp": timestamp}
