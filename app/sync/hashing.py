"""Hashes of what DingTalk sees of a department or a person, to decide whether a push is needed.

The hash input is a "DingTalk view" (``app.sync.fields``): field names and normalised values, fields at their
default left out, built either from our rows (push) or from what DingTalk returns (callbacks, reconcile).
Equal views mean equal hashes, so an unchanged object costs no API
call, and a callback echoing our own push is recognised as "nothing new".

A department's ``pushed_hash`` has two halves of 32 hex characters: the *main* half (name, parent, order, group
creation) is pushed before people exist; the *relations* half (managers, group owner, visibility lists) names
people and is pushed after them, because DingTalk refuses managers and owners who are not members yet.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

HALF = 32


def _digest(view: dict[str, Any], size: int) -> str:
    text = json.dumps(view, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def view_hash(view: dict[str, Any]) -> str:
    """A 32-hex hash of one view (one half of a department hash)."""
    return _digest(view, HALF // 2)


def person_hash(view: dict[str, Any]) -> str:
    return _digest(view, 32)


def dept_hash(main: dict[str, Any], rel: dict[str, Any]) -> str:
    return view_hash(main) + view_hash(rel)


def main_half(pushed: str) -> str:
    return pushed[:HALF] if len(pushed) >= HALF else ""


def rel_half(pushed: str) -> str:
    return pushed[HALF : 2 * HALF] if len(pushed) >= 2 * HALF else ""


__all__ = ["dept_hash", "main_half", "person_hash", "rel_half", "view_hash"]
