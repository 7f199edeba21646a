"""Names shared by every source adapter (kept apart from the package root so adapters can import them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEPT = "dept"
PERSON = "person"


class SourceError(Exception):
    """The source system cannot be read (credentials, access policy, network, its own error). For the admin."""


@dataclass
class SourcePage:
    elements: list[Any]
    cursor: str | None
