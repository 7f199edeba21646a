"""Typed view of what EKP's org export (``sysSynchroGetOrgWebService``) returns.

Wire names are camelCase; the model exposes snake_case attributes and accepts either. Unknown keys are ignored so a
newer EKP does not break us, and the person ``password`` hash EKP sends is dropped on purpose (never stored/logged).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic.alias_generators import to_camel

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
# Checked in pydantic's core (no per-element Python call): 100,000 persons must parse in about a second.
# Values without milliseconds are completed so that cursors compare correctly as strings.
EkpTimestamp = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{3})?$"),
    AfterValidator(lambda value: value if len(value) == 23 else value + ".000"),
]


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


def _lenient_int(value: Any) -> int | None:
    # EKP sends numbers as strings ("00210"); a non-numeric value is data noise, not a protocol error.
    if value is None or isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


class EkpElement(BaseModel):
    """One element of ``getUpdatedElements``' ``message`` array (reference 1.5 / 6)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)

    id: str
    name: str = ""
    type: ElementType
    alter_time: EkpTimestamp
    lunid: str | None = None
    no: str | None = None
    order: int | None = None
    keyword: str | None = None
    memo: str | None = None
    is_available: bool = True
    is_business: bool = True
    is_external: bool | None = None
    org_email: str | None = None
    hierarchy_id: str | None = None
    lang_props: dict[str, str | None] | None = None
    parent: str | None = None
    # org / dept / post
    this_leader: str | None = None
    super_leader: str | None = None
    doc_creator: str | None = None
    admins: list[str] = Field(default_factory=list)
    range: dict[str, Any] | None = None
    hide_range: dict[str, Any] | None = None
    persons: list[str] = Field(default_factory=list)
    # person
    posts: list[str] = Field(default_factory=list)
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
    staffing_level_value: int | None = None
    custom_props: dict[str, Any] | None = None
    # group
    members: list[str] = Field(default_factory=list)
    group_cate_id: str | None = None
    auth_readers: list[str] = Field(default_factory=list)
    auth_editors: list[str] = Field(default_factory=list)
    auth_reader_flag: bool | None = None

    @field_validator("is_available", "is_business", mode="before")
    @classmethod
    def _null_means_true(cls, value: Any) -> Any:
        # EKP always writes these keys but may write null; an unset flag behaves as "yes" in EKP itself.
        return True if value is None else value

    _ints = field_validator("order", "staffing_level_value", mode="before")(_lenient_int)

    @field_validator("custom_props", mode="before")
    @classmethod
    def _props_object(cls, value: Any) -> Any:
        # Depending on the EKP version customProps is an object or a JSON string.
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else None
            except ValueError:
                return None
        return value if isinstance(value, dict) or value is None else None

    @field_validator("admins", "persons", "posts", "members", "auth_readers", "auth_editors", mode="before")
    @classmethod
    def _id_list(cls, value: Any) -> Any:
        return [] if value is None else value

    @property
    def key(self) -> tuple[str, str]:
        """De-duplication key: the same element changed again is a new event, the same change twice is not."""
        return (self.id, self.alter_time)

    @property
    def dept_ids(self) -> list[str]:
        """Departments of a person: EKP's org export gives exactly one (``parent``)."""
        return [self.parent] if self.parent else []


class EkpBaseInfo(BaseModel):
    """One item of ``getElementsBaseInfo``: what exists now (disabled elements included, hard deletes absent)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    name: str = ""
    type: ElementType
    no: str | None = None
    order: int | None = None
    keyword: str | None = None

    _ints = field_validator("order", mode="before")(_lenient_int)


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
