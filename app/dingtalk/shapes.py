"""What every resource's result models share: DingTalk's own field names, extra fields kept, lenient booleans.

Result models keep the fields DingTalk adds later (``extra="allow"``) so nothing is silently dropped, and accept
both the wire name and the Python name (``populate_by_name``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class DingTalkModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


def truthy(value: Any) -> bool:
    """A DingTalk boolean; some official samples return booleans as strings ("true")."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return bool(value)
