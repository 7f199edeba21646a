"""Typed DingTalk contact callback events.

Input is the *decrypted* callback plaintext (see ``app.dingtalk.crypto``) in either generation:

- legacy ``register_call_back`` payloads: ``{"EventType", "CorpId", "UserId": [...], "DeptId": [...],
  "TimeStamp": "<ms>", "OptStaffId"}``;
- console "HTTP 推送" payloads: ``EventType``/``CorpId``/``EventTime``/``BizId`` plus camelCase ``eventId``,
  ``userId``, ``deptId``, ``timeStamp``, ``userIdList``/``labelIdList``, ``diffInfo``;

and the items of ``call_back/get_call_back_failed_result`` (``{"call_back_tag", "event_time", "<tag>": {...}}``
or the older flat shape with ``userid``/``deptid``/``corpid``).

Keys are matched case-insensitively because DingTalk mixes both spellings. Events carry only ids: fetch details
with the client. Unknown event types become ``EventKind.UNKNOWN`` (they are stored, not rejected); text that is not
a JSON object raises ``EventParseError``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["CONTACT_EVENT_TAGS", "DingTalkEvent", "EventKind", "EventParseError", "parse_event", "parse_failed_item"]


class EventKind(StrEnum):
    USER_ADD_ORG = "user_add_org"
    USER_MODIFY_ORG = "user_modify_org"
    USER_LEAVE_ORG = "user_leave_org"
    USER_ACTIVE_ORG = "user_active_org"
    ORG_ADMIN_ADD = "org_admin_add"
    ORG_ADMIN_REMOVE = "org_admin_remove"
    ORG_DEPT_CREATE = "org_dept_create"
    ORG_DEPT_MODIFY = "org_dept_modify"
    ORG_DEPT_REMOVE = "org_dept_remove"
    ORG_CHANGE = "org_change"
    ORG_REMOVE = "org_remove"
    LABEL_USER_CHANGE = "label_user_change"
    LABEL_CONF_ADD = "label_conf_add"
    LABEL_CONF_MODIFY = "label_conf_modify"
    LABEL_CONF_DEL = "label_conf_del"
    USER_DEPT_CHANGE = "user_dept_change"
    USER_ROLE_CHANGE = "user_role_change"
    CHECK_URL = "check_url"
    CHECK_CREATE_SUITE_URL = "check_create_suite_url"
    CHECK_UPDATE_SUITE_URL = "check_update_suite_url"
    UNKNOWN = "unknown"

    @property
    def is_user_event(self) -> bool:
        return self in _USER_KINDS

    @property
    def is_dept_event(self) -> bool:
        return self in _DEPT_KINDS

    @property
    def is_handshake(self) -> bool:
        return self in (EventKind.CHECK_URL, EventKind.CHECK_CREATE_SUITE_URL, EventKind.CHECK_UPDATE_SUITE_URL)


_USER_KINDS = frozenset(
    {
        EventKind.USER_ADD_ORG,
        EventKind.USER_MODIFY_ORG,
        EventKind.USER_LEAVE_ORG,
        EventKind.USER_ACTIVE_ORG,
        EventKind.ORG_ADMIN_ADD,
        EventKind.ORG_ADMIN_REMOVE,
        EventKind.USER_DEPT_CHANGE,
        EventKind.USER_ROLE_CHANGE,
    }
)
_DEPT_KINDS = frozenset({EventKind.ORG_DEPT_CREATE, EventKind.ORG_DEPT_MODIFY, EventKind.ORG_DEPT_REMOVE})
_KINDS_BY_VALUE = {k.value: k for k in EventKind if k is not EventKind.UNKNOWN}

# The contact tags worth registering for a contacts sync (the handshake is implicit).
CONTACT_EVENT_TAGS: tuple[str, ...] = (
    "user_add_org",
    "user_modify_org",
    "user_leave_org",
    "user_active_org",
    "org_admin_add",
    "org_admin_remove",
    "org_dept_create",
    "org_dept_modify",
    "org_dept_remove",
    "label_user_change",
)


class EventParseError(ValueError):
    """The callback plaintext is not a JSON object describing an event."""


@dataclass(frozen=True, slots=True)
class DingTalkEvent:
    """One DingTalk callback (or failed-list item) as parsed here; the inbox row that stores it is the model
    ``app.models.sync.CallbackEvent``."""

    kind: EventKind
    event_type: str  # as sent, also for UNKNOWN kinds
    corp_id: str | None
    user_ids: tuple[str, ...] = ()
    dept_ids: tuple[int, ...] = ()
    timestamp: int | None = None  # milliseconds since the epoch
    event_id: str | None = None  # console pushes only; the best de-duplication key when present
    operator_userid: str | None = None  # OptStaffId; absent e.g. for HR-onboarded users
    label_ids: tuple[int, ...] = ()
    action: str | None = None  # label_user_change: "add" / "remove"
    biz_id: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def dedup_key(self) -> str:
        """Stable across retried deliveries of the same event (DingTalk re-sends the same plaintext)."""
        if self.event_id:
            return f"event:{self.event_id}"
        basis = json.dumps(
            [
                self.event_type,
                self.corp_id or "",
                sorted(self.user_ids),
                sorted(self.dept_ids),
                sorted(self.label_ids),
                self.action or "",
                self.timestamp or 0,
            ],
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return "sha256:" + hashlib.sha256(basis.encode()).hexdigest()


def parse_event(payload: str | bytes | Mapping[str, Any]) -> DingTalkEvent:
    """Parse a decrypted callback payload (JSON text or an already-decoded object)."""
    data = _load_object(payload)
    fields = _CaseInsensitive(data)
    event_type = fields.get("EventType")
    if not isinstance(event_type, str) or not event_type.strip():
        raise EventParseError("callback payload has no EventType")
    event_type = event_type.strip()
    diff_info = fields.get("diffInfo")
    user_ids = _str_list(fields.first("UserId", "UserIdList", "userid"))
    if not user_ids and isinstance(diff_info, Mapping):
        # Some modify pushes name the user only inside diffInfo.
        user_ids = _str_list(_CaseInsensitive(diff_info).get("userid"))
    return DingTalkEvent(
        kind=_kind(event_type),
        event_type=event_type,
        corp_id=_opt_str(fields.first("CorpId", "corpid")),
        user_ids=user_ids,
        dept_ids=_int_list(fields.first("DeptId", "deptid")),
        timestamp=_millis(fields.first("TimeStamp", "EventTime")),
        event_id=_opt_str(fields.get("eventId")),
        operator_userid=_opt_str(fields.get("OptStaffId")),
        label_ids=_int_list(fields.first("LabelIdList", "LabelId")),
        action=_opt_str(fields.get("action")),
        biz_id=_opt_str(fields.get("BizId")),
        raw=data,
    )


def parse_failed_item(item: Mapping[str, Any]) -> DingTalkEvent:
    """Parse one element of ``failed_list`` from ``call_back/get_call_back_failed_result``.

    Never raises for a mapping: these items are deleted by DingTalk when read, so an odd one must still be kept
    (as UNKNOWN with its ``raw``) rather than lost.
    """
    fields = _CaseInsensitive(item)
    tag = _opt_str(fields.first("call_back_tag", "EventType")) or ""
    nested = fields.get(tag) if tag else None
    # Current shape nests the ids under the tag name; the older flat shape puts them on the item itself.
    inner = _CaseInsensitive(nested) if isinstance(nested, Mapping) else fields
    callback_data = inner.get("callbackData")
    if isinstance(callback_data, str):
        try:
            decoded = json.loads(callback_data)
        except ValueError:
            decoded = None
        if isinstance(decoded, Mapping):
            inner = _CaseInsensitive({**decoded, **dict(inner.items())})
    return DingTalkEvent(
        kind=_kind(tag) if tag else EventKind.UNKNOWN,
        event_type=tag,
        corp_id=_opt_str(inner.first("corpid", "CorpId") or fields.get("corpid")),
        user_ids=_str_list(inner.first("userid", "UserId", "UserIdList")),
        dept_ids=_int_list(inner.first("deptid", "DeptId")),
        timestamp=_millis(fields.first("event_time", "TimeStamp")),
        event_id=_opt_str(inner.get("eventId")),
        operator_userid=_opt_str(inner.get("OptStaffId")),
        label_ids=_int_list(inner.first("LabelIdList", "LabelId")),
        action=_opt_str(inner.get("action")),
        raw=dict(item),
    )


# ---------------------------------------------------------------------------------------------------------------


class _CaseInsensitive:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data: dict[str, Any] = {}
        for key, value in data.items():
            # Keep the first spelling seen so an explicit key wins over a later differently-cased duplicate.
            self._data.setdefault(str(key).lower(), value)

    def get(self, key: str) -> Any:
        return self._data.get(key.lower())

    def first(self, *keys: str) -> Any:
        for key in keys:
            value = self._data.get(key.lower())
            if value is not None:
                return value
        return None

    def items(self) -> Iterable[tuple[str, Any]]:
        return self._data.items()


def _load_object(payload: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(payload, Mapping):
        return dict(payload)
    if isinstance(payload, bytes | bytearray):
        try:
            payload = bytes(payload).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EventParseError(f"callback payload is not UTF-8: {exc}") from exc
    if not isinstance(payload, str):
        raise EventParseError(f"unsupported callback payload type {type(payload).__name__}")
    try:
        data = json.loads(payload)
    except ValueError as exc:
        raise EventParseError(f"callback payload is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise EventParseError("callback payload is not a JSON object")
    return data


def _kind(event_type: str) -> EventKind:
    return _KINDS_BY_VALUE.get(event_type.strip().lower(), EventKind.UNKNOWN)


def _opt_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                decoded = json.loads(text)
            except ValueError:
                decoded = None
            if isinstance(decoded, list):
                return decoded
        return [part for part in text.replace("|", ",").split(",") if part.strip()]
    return [value]


def _str_list(value: Any) -> tuple[str, ...]:
    return tuple(str(v).strip() for v in _as_list(value) if str(v).strip())


def _int_list(value: Any) -> tuple[int, ...]:
    result: list[int] = []
    for v in _as_list(value):
        try:
            result.append(int(str(v).strip()))
        except ValueError:
            continue  # a non-numeric dept id cannot be acted on; the raw payload keeps it for inspection
    return tuple(result)


def _millis(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(float(str(value).strip()))
    except ValueError:
        return None
    # Documentation samples use both seconds and milliseconds; normalise so dedup keys agree.
    return number * 1000 if number < 100_000_000_000 else number
