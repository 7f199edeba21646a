"""Typed view of what EKP's org export (``sysSynchroGetOrgWebService``) returns.

Wire names are camelCase; the structs expose snake_case attributes. Unknown keys are ignored so a
newer EKP does not break us, and the person ``password`` hash EKP sends is dropped on purpose (never stored/logged).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import msgspec

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
# Checked in msgspec's C decoder (no per-element Python call for the pattern). Values without milliseconds are
# completed in ``__post_init__`` so that cursors compare correctly as strings.
EkpTimestamp = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{3})?$")]


class ElementType(StrEnum):
    """EKP org element types; the comment gives EKP's numeric ``fdOrgType``."""

    ORG = "org"  # 1
    DEPT = "dept"  # 2
    POST = "post"  # 4
    PERSON = "person"  # 8
    GROUP = "group"  # 16


class CursorKind(StrEnum):
    """One ``alterTime`` cursor per kind: EKP's newer implementation pages each type separately, so mixing types
    under one cursor can skip elements (reference 1.6). Orgs and departments form one tree, hence one cursor."""

    DEPT = "dept"
    POST = "post"
    PERSON = "person"
    GROUP = "group"


CURSOR_TYPES: dict[CursorKind, tuple[ElementType, ...]] = {
    CursorKind.DEPT: (ElementType.ORG, ElementType.DEPT),
    CursorKind.POST: (ElementType.POST,),
    CursorKind.PERSON: (ElementType.PERSON,),
    CursorKind.GROUP: (ElementType.GROUP,),
}


def parse_timestamp(value: str) -> datetime:
    """Parse EKP's ``yyyy-MM-dd HH:mm:ss.SSS`` (also accepts the form without milliseconds)."""
    try:
        return datetime.strptime(value, TIMESTAMP_FORMAT)
    except ValueError:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S")


def format_timestamp(value: datetime) -> str:
    return value.strftime(TIMESTAMP_FORMAT)[:-3]


def shift_timestamp(value: str, seconds: float) -> str:
    """``value`` moved by ``seconds`` (negative = earlier), in EKP's format. EKP times are naive server-local times,
    so plain arithmetic is right."""
    return format_timestamp(parse_timestamp(value) + timedelta(seconds=seconds))


def _lenient_int(value: int | str | None) -> int | None:
    # EKP sends numbers as strings ("00210"); a non-numeric value is data noise, not a protocol error.
    if value is None or isinstance(value, int):
        return value
    try:
        return int(value.strip())
    except ValueError:
        return None


def _props_object(value: dict[str, Any] | str | None) -> dict[str, Any] | None:
    # Depending on the EKP version customProps is an object or a JSON string.
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else None
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


class EkpElement(msgspec.Struct, rename="camel", frozen=True, gc=False):
    """One element of ``getUpdatedElements``' ``message`` array (reference 1.5 / 6).

    A msgspec struct rather than a pydantic model: 100,000 people decode and validate in C in about a quarter of
    the time, which is most of the client's CPU on a full read (docs/performance.md). ``gc=False`` is safe because
    an element never refers back to itself.
    """

    id: str
    type: ElementType
    alter_time: EkpTimestamp
    name: str = ""
    lunid: str | None = None
    no: str | None = None
    order: int | str | None = None
    keyword: str | None = None
    memo: str | None = None
    is_available: bool | None = True
    is_business: bool | None = True
    is_external: bool | None = None
    org_email: str | None = None
    hierarchy_id: str | None = None
    lang_props: dict[str, str | None] | None = None
    parent: str | None = None
    # org / dept / post
    this_leader: str | None = None
    super_leader: str | None = None
    doc_creator: str | None = None
    admins: list[str] | None = []
    range: dict[str, Any] | None = None
    hide_range: dict[str, Any] | None = None
    persons: list[str] | None = []
    # person
    posts: list[str] | None = []
    login_name: str | None = None
    login_name_lower: str | None = None
    nick_name: str | None = None
    email: str | None = None
    mobile_no: str | None = None
    work_phone: str | None = None
    rtx: str | None = None
    wechat: str | None = None
    sex: str | None = None
    short_no: str | None = None
    scard: str | None = None
    is_activated: bool | None = None
    can_login: bool | None = None
    staffing_level_name: str | None = None
    staffing_level_value: int | str | None = None
    custom_props: dict[str, Any] | str | None = None
    # group
    members: list[str] | None = []
    group_cate_id: str | None = None
    auth_readers: list[str] | None = []
    auth_editors: list[str] | None = []
    auth_reader_flag: bool | None = None
    # EKP also sends the person's ``password`` hash: not declared, so it is dropped while decoding (never stored).

    def __post_init__(self) -> None:
        # Each check is one comparison for a well-formed element; only EKP's variants pay for a conversion.
        if len(self.alter_time) == 19:
            _set(self, "alter_time", self.alter_time + ".000")
        # EKP always writes these flags but may write null; an unset flag behaves as "yes" in EKP itself.
        if self.is_available is None:
            _set(self, "is_available", True)
        if self.is_business is None:
            _set(self, "is_business", True)
        if self.order is not None and not isinstance(self.order, int):
            _set(self, "order", _lenient_int(self.order))
        if self.staffing_level_value is not None and not isinstance(self.staffing_level_value, int):
            _set(self, "staffing_level_value", _lenient_int(self.staffing_level_value))
        if self.custom_props is not None and not isinstance(self.custom_props, dict):
            _set(self, "custom_props", _props_object(self.custom_props))
        for name in _ID_LISTS:
            if getattr(self, name) is None:
                _set(self, name, [])

    @property
    def key(self) -> tuple[str, str]:
        """De-duplication key: the same element changed again is a new event, the same change twice is not."""
        return (self.id, self.alter_time)

    @property
    def dept_ids(self) -> list[str]:
        """Departments of a person: EKP's org export gives exactly one (``parent``)."""
        return [self.parent] if self.parent else []


_ID_LISTS = ("admins", "persons", "posts", "members", "auth_readers", "auth_editors")
_set = msgspec.structs.force_setattr


class EkpBaseInfo(msgspec.Struct, frozen=True, gc=False):
    """One item of ``getElementsBaseInfo``: what exists now (disabled elements included, hard deletes absent)."""

    id: str
    type: ElementType
    name: str = ""
    no: str | None = None
    order: int | str | None = None
    keyword: str | None = None

    def __post_init__(self) -> None:
        if self.order is not None and not isinstance(self.order, int):
            _set(self, "order", _lenient_int(self.order))


ELEMENTS = msgspec.json.Decoder(list[EkpElement])
BASE_INFOS = msgspec.json.Decoder(list[EkpBaseInfo])


def decode(decoder: msgspec.json.Decoder, message: str | bytes | list[Any]) -> list[Any]:
    """Decode one ``message`` (REST double-encodes it as a JSON string; SOAP and tests may hand over a list).
    Raises :class:`msgspec.ValidationError` for a malformed element (naming where, e.g. ``$[3].alterTime``)."""
    if isinstance(message, list):
        return msgspec.convert(message, decoder.type)
    return decoder.decode(message)


@dataclass(slots=True)
class EkpPage:
    """One page of changes for one cursor kind.

    ``cursor`` is the value to persist once the page is committed; it never moves backwards and stays put on an
    empty page. ``elements`` are de-duplicated and exclude changes the caller declared as already applied.
    """

    kind: CursorKind
    elements: list[EkpElement]
    cursor: str | None
    requested_from: str | None
    received: int
    is_last: bool
    skipped_duplicates: int = 0
    server_timestamp: str | None = None
