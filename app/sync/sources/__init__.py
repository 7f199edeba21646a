"""Source systems the contacts sync reads (源系统类型), behind one small interface.

The source stage (``app.sync.source``) talks only to a ``SourceAdapter``: read the changes since a cursor, read
the ids of everything that exists now (a full run's hard-delete detection and health guard), check the connection.
EKP is the first implementation (``ekp.py``). Another source type (an HR system, a CSV or LDAP import) is one
module with a class like ``EkpAdapter`` plus one line in ``ADAPTERS``; the stage and the push need no change.

Elements an adapter yields carry the attributes the field table names as ``SyncField.source`` (for people:
``name``, ``login_name``, ``mobile_no``, ``email``, ``no``) plus ``id``, ``parent``, ``order``, ``is_available``
and ``alter_time``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from app.sync.sources.base import DEPT, PERSON, SourceError, SourcePage

__all__ = ["ADAPTERS", "DEPT", "PERSON", "ConnectionResult", "SourceAdapter", "SourceError", "SourcePage", "make"]


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str


class SourceAdapter(Protocol):
    """What the source stage needs from a source system. ``kind`` is ``DEPT`` or ``PERSON``."""

    def iter_changes(self, kind: str, cursor: str | None, *, known: dict[str, str] | None) -> AsyncIterator[Any]:
        """Pages (``.elements``, ``.cursor``) of elements changed after ``cursor`` (all of them when None)."""
        ...

    async def present_ids(self, kind: str) -> set[str]:
        """Ids of every element that exists now, disabled ones included (hard deletes are absent)."""
        ...

    async def check(self) -> ConnectionResult: ...

    def is_top(self, element: Any) -> bool:
        """The element is the organisation itself (our root department)."""
        ...

    def cursor_floor(self, cursor: str) -> str:
        """The oldest change time the next read re-reads (the overlap window), in the cursor's own format."""
        ...


@dataclass(frozen=True)
class SourceConfig:
    url: str
    user: str
    password: str
    transport: str = "rest"
    page_size: int = 500
    timeout_seconds: float | None = None


def _ekp(http: aiohttp.ClientSession, config: SourceConfig) -> SourceAdapter:
    from app.sync.sources.ekp import EkpAdapter

    return EkpAdapter(http, config)


ADAPTERS: dict[str, Callable[[aiohttp.ClientSession, SourceConfig], SourceAdapter]] = {"EKP": _ekp}


def make(source_type: str, http: aiohttp.ClientSession, config: SourceConfig) -> SourceAdapter:
    factory = ADAPTERS.get(source_type or "EKP")
    if factory is None:
        raise SourceError(f"不支持的源系统类型：{source_type}")
    return factory(http, config)
