"""Marks contacts as changed: for the push to DingTalk (``needs_push``) and for the mapping feed (``feed_time``).

Services reach these through their unit of work (``app.services.write``: ``w.push`` / ``w.feed`` before saving,
``w.contacts_changed`` after commit); the sync engine calls them directly. Listeners (the access-system notifier)
subscribe at startup; a failing listener is logged and never undoes the write that triggered it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Listener = Callable[[int, str, dict[str, Any]], Awaitable[None]]
_listeners: list[Listener] = []


def now_ms() -> int:
    return int(time.time() * 1000)


def mark_for_push(obj: Any) -> None:
    """The object differs (or may differ) from DingTalk: the next push compares hashes and sends it."""
    obj.needs_push = True


def touch_feed(obj: Any, at_ms: int | None = None) -> None:
    """The EKP id <-> DingTalk id mapping of the object changed: business systems reading the feed will see it."""
    obj.feed_time = at_ms or now_ms()


def subscribe(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def clear_listeners() -> None:
    _listeners.clear()


async def contacts_changed(
    org_id: int, event_type: str = "contacts.changed", detail: dict[str, Any] | None = None
) -> None:
    for listener in list(_listeners):
        try:
            await listener(org_id, event_type, detail or {})
        except Exception:  # a notifier problem must not fail the admin's write
            log.exception("change listener failed for org %s", org_id)
