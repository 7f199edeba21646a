"""EKP-style timestamps for the simulator: naive server-local time (China, UTC+8) with millisecond precision.

Times are kept as integer milliseconds so comparisons are exact; string conversion is integer arithmetic too, never
floats, so a timestamp read back from a client maps to the same millisecond.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from functools import lru_cache

_LOCAL_OFFSET_MS = 8 * 3600 * 1000
_EPOCH = datetime(1970, 1, 1)
_MS = timedelta(milliseconds=1)


_DAY_MS = 86_400_000


@lru_cache(maxsize=4096)
def _day(days: int) -> str:
    return (_EPOCH + timedelta(days=days)).strftime("%Y-%m-%d")


def ms_to_str(ms: int) -> str:
    # strftime per element dominated a 100,000-person read; only the date part needs the calendar.
    days, rest = divmod(ms + _LOCAL_OFFSET_MS, _DAY_MS)
    seconds, millis = divmod(rest, 1000)
    minutes, sec = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{_day(days)} {hours:02d}:{minute:02d}:{sec:02d}.{millis:03d}"


def str_to_ms(value: str) -> int:
    """Parse ``yyyy-MM-dd HH:mm:ss.SSS`` (or without ``.SSS``); raises ``ValueError`` on anything else."""
    value = value.strip()
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in value else "%Y-%m-%d %H:%M:%S"
    if fmt.endswith("%f") and len(value.rsplit(".", 1)[1]) != 3:
        raise ValueError(f"expected milliseconds in {value!r}")
    return (datetime.strptime(value, fmt) - _EPOCH) // _MS - _LOCAL_OFFSET_MS


class Clock:
    """Wall-clock milliseconds that never go backwards. Consecutive changes may share a millisecond, as in EKP."""

    def __init__(self) -> None:
        self._last = 0

    def now(self) -> int:
        self._last = max(self._last, time.time_ns() // 1_000_000)
        return self._last

    def observe(self, ms: int) -> None:
        """Generated or forced timestamps count as issued, so later changes sort after them."""
        self._last = max(self._last, ms)
