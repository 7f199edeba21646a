"""In-memory EKP organisation with EKP's query semantics for the org export.

Every change stamps ``alterTime`` from :class:`Clock`; disabling keeps the row (``isAvailable`` false) and a hard
delete removes it, so it can only be noticed through ``getElementsBaseInfo``.
"""

from __future__ import annotations

import heapq
import random
from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.ekp.models import ElementType
from app.ekp.simulator.clock import Clock, ms_to_str

# EKP's newer per-type implementation walks the types in this order (reference 1.6).
IMPL_TYPE_ORDER = (ElementType.ORG, ElementType.DEPT, ElementType.POST, ElementType.GROUP, ElementType.PERSON)
DEFAULT_PERSON_PASSWORD = "ekp123456"


@dataclass(slots=True, eq=False)
class SimElement:
    id: str
    type: ElementType
    name: str
    alter_ms: int
    parent: str | None = None
    order: int | None = None
    no: str | None = None
    keyword: str | None = None
    memo: str | None = None
    is_available: bool = True
    is_business: bool = True
    this_leader: str | None = None
    super_leader: str | None = None
    # person
    login_name: str | None = None
    mobile_no: str | None = None
    email: str | None = None
    nick_name: str | None = None
    sex: str | None = None
    work_phone: str | None = None
    staffing_level_name: str | None = None
    staffing_level_value: int | None = None
    password: str = field(default=DEFAULT_PERSON_PASSWORD, repr=False)
    # relations, full snapshots as EKP sends them
    posts: list[str] = field(default_factory=list)
    persons: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)

    @property
    def alter_time(self) -> str:
        return ms_to_str(self.alter_ms)


@dataclass(slots=True)
class PageResult:
    items: list[SimElement]
    timestamp_ms: int | None


class OrgState:
    """All elements by id, plus one (alterTime, id)-sorted index per type for ``alterTime >`` range scans."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.elements: dict[str, SimElement] = {}
        self._index: dict[ElementType, list[tuple[int, str]]] = {t: [] for t in ElementType}
        self._dirty: set[ElementType] = set()
        self._id_rng = random.Random()

    # ---- loading / indexing ------------------------------------------------------------------------------------

    def load(self, elements: Iterable[SimElement]) -> None:
        for element in elements:
            self.elements[element.id] = element
            self.clock.observe(element.alter_ms)
        self._dirty.update(ElementType)

    def _sorted(self, type_: ElementType) -> list[tuple[int, str]]:
        if type_ in self._dirty:
            self._index[type_] = sorted((e.alter_ms, e.id) for e in self.elements.values() if e.type == type_)
            self._dirty.discard(type_)
        return self._index[type_]

    def _unindex(self, element: SimElement) -> None:
        if element.type in self._dirty:
            return
        index = self._index[element.type]
        pos = bisect_left(index, (element.alter_ms, element.id))
        if pos < len(index) and index[pos] == (element.alter_ms, element.id):
            del index[pos]

    def _index_add(self, element: SimElement) -> None:
        if element.type not in self._dirty:
            insort(self._index[element.type], (element.alter_ms, element.id))

    def touch(self, element: SimElement, ms: int | None = None) -> int:
        """Give ``element`` a new alterTime (now, or ``ms`` when forced) and keep the index sorted."""
        self._unindex(element)
        element.alter_ms = self.clock.now() if ms is None else ms
        self.clock.observe(element.alter_ms)
        self._index_add(element)
        return element.alter_ms

    def mark_bulk(self, types: Iterable[ElementType]) -> None:
        """Before many changes: rebuild the index once afterwards instead of moving entries one by one."""
        self._dirty.update(types)

    # ---- queries -------------------------------------------------------------------------------------------------

    def get(self, element_id: str) -> SimElement:
        try:
            return self.elements[element_id]
        except KeyError:
            raise KeyError(element_id) from None

    def of_type(self, *types: ElementType) -> list[SimElement]:
        return [e for e in self.elements.values() if e.type in types]

    def counts(self) -> dict[str, Any]:
        total: dict[str, int] = {t.value: 0 for t in ElementType}
        disabled: dict[str, int] = {t.value: 0 for t in ElementType}
        for element in self.elements.values():
            total[element.type.value] += 1
            if not element.is_available:
                disabled[element.type.value] += 1
        return {"total": sum(total.values()), "byType": total, "disabled": disabled}

    def updated(
        self, types: Iterable[ElementType], begin_ms: int | None, count: int, business: bool | None
    ) -> PageResult:
        """EKP's registered implementation: one stream ordered by alterTime over all requested types, strictly
        after ``begin_ms``; after ``count`` items it keeps going while the next item shares the last millisecond."""
        streams = [self._scan(t, begin_ms) for t in set(types)]
        items: list[SimElement] = []
        for _, element_id in heapq.merge(*streams):
            element = self.elements[element_id]
            if business is not None and element.is_business != business:
                continue
            if len(items) >= count and element.alter_ms != items[-1].alter_ms:
                break
            items.append(element)
        return PageResult(items, items[-1].alter_ms if items else begin_ms)

    def updated_per_type(
        self, types: Iterable[ElementType], begin_ms: int | None, count: int, business: bool | None
    ) -> PageResult:
        """EKP's newer ``Impl`` (a fault mode): count forced to >= 10000, one query per type in a fixed order,
        stopping mid-type at the limit; a later type's older rows are then skipped by the next cursor."""
        limit = max(count, 10000)
        wanted = set(types)
        items: list[SimElement] = []
        for type_ in IMPL_TYPE_ORDER:
            if type_ not in wanted:
                continue
            for _, element_id in self._scan(type_, begin_ms):
                element = self.elements[element_id]
                if business is not None and element.is_business != business:
                    continue
                if len(items) >= limit:
                    return PageResult(items, items[-1].alter_ms)
                items.append(element)
        return PageResult(items, items[-1].alter_ms if items else begin_ms)

    def _scan(self, type_: ElementType, begin_ms: int | None) -> Iterator[tuple[int, str]]:
        index = self._sorted(type_)
        start = 0 if begin_ms is None else bisect_left(index, (begin_ms + 1, ""))
        # Snapshot the slice: a control call could change the index while a response is being built.
        return iter(index[start:])

    def base_info(self, types: Iterable[ElementType], business: bool | None) -> list[SimElement]:
        wanted = set(types)
        return [
            e for e in self.elements.values() if e.type in wanted and (business is None or e.is_business == business)
        ]

    # ---- changes -------------------------------------------------------------------------------------------------

    def new_id(self) -> str:
        return f"{self._id_rng.getrandbits(128):032x}"

    def add(self, element: SimElement) -> SimElement:
        if element.id in self.elements:
            raise ValueError(f"id {element.id} exists")
        self.elements[element.id] = element
        self.clock.observe(element.alter_ms)
        self._index_add(element)
        return element

    def update(self, element_id: str, changes: dict[str, Any], *, alter_ms: int | None = None) -> SimElement:
        element = self.get(element_id)
        for key, value in changes.items():
            if key in {"id", "type", "alter_ms"} or not hasattr(element, key):
                raise ValueError(f"cannot change {key!r}")
            setattr(element, key, value)
        self.touch(element, alter_ms)
        return element

    def set_available(self, element_id: str, available: bool) -> SimElement:
        return self.update(element_id, {"is_available": available})

    def hard_delete(self, element_id: str) -> SimElement:
        element = self.elements.pop(element_id)
        self._unindex(element)
        # The row is gone; membership arrays must not keep pointing at it.
        for other in self.elements.values():
            for relation in (other.posts, other.persons, other.members):
                if element_id in relation:
                    relation.remove(element_id)
        return element

    def set_same_millisecond(self, element_ids: Iterable[str], ms: int | None = None) -> int:
        stamp = self.clock.now() if ms is None else ms
        for element_id in element_ids:
            self.touch(self.get(element_id), stamp)
        return stamp

    def find_person(self, login_name: str) -> SimElement | None:
        wanted = login_name.strip().lower()
        for element in self.elements.values():
            if element.type == ElementType.PERSON and (element.login_name or "").lower() == wanted:
                return element
        return None
