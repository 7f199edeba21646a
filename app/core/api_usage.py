"""DingTalk API use per app and API in this process, in the detail the home page needs and Prometheus does not.

Prometheus gets totals by API (``app.core.metrics``); an admin looking at one org wants that org's calls per API,
the busiest second against the QPS limit, and the calls DingTalk meters against the monthly quota (standard edition:
5000 a month; contacts, token and SSO APIs are exempt, messages, todo, work records and callback management are
not). The tally lives in memory: it starts at zero with the process, and the page says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.core import localtime

MONTHLY_QUOTA = 5000
# Path prefixes DingTalk meters against the monthly call volume (reference: throttling dimensions, section 9.1).
METERED_PREFIXES = (
    "/topapi/message/",
    "/message/",
    "/topapi/workrecord/",
    "/v1.0/todo/",
    "/call_back/",
    "/chat/",
    "/topapi/chat/",
    "/v1.0/im/",
    "/v1.0/robot/",
)


def is_metered(api: str) -> bool:
    return api.startswith(METERED_PREFIXES)


@dataclass
class ApiTally:
    calls: int = 0
    errors: int = 0
    throttles: int = 0
    peak_per_second: int = 0
    _second: int = -1
    _in_second: int = 0

    def add(self, now: float, *, error: bool, throttled: bool) -> None:
        self.calls += 1
        self.errors += int(error)
        self.throttles += int(throttled)
        second = int(now)
        if second != self._second:
            self._second, self._in_second = second, 0
        self._in_second += 1
        self.peak_per_second = max(self.peak_per_second, self._in_second)


@dataclass
class AppUsage:
    apis: dict[str, ApiTally] = field(default_factory=dict)
    metered_by_month: dict[str, int] = field(default_factory=dict)  # "2026-03" (系统设置 zone) -> metered calls


class ApiUsage:
    """Per app key: per-API tallies and metered calls per month since ``started``."""

    def __init__(self, clock=time.time) -> None:
        self._clock = clock
        self.started = datetime.fromtimestamp(clock(), UTC)
        self.apps: dict[str, AppUsage] = {}

    def record(self, owner: str, api: str, *, error: bool = False, throttled: bool = False) -> None:
        now = self._clock()
        usage = self.apps.setdefault(owner, AppUsage())
        usage.apis.setdefault(api, ApiTally()).add(now, error=error, throttled=throttled)
        if is_metered(api):
            month = localtime.local(datetime.fromtimestamp(now, UTC)).strftime("%Y-%m")
            usage.metered_by_month[month] = usage.metered_by_month.get(month, 0) + 1

    def of(self, owner: str) -> AppUsage:
        return self.apps.get(owner) or AppUsage()

    def metered_this_month(self, owner: str, now: datetime | None = None) -> int:
        month = localtime.local(now or datetime.fromtimestamp(self._clock(), UTC)).strftime("%Y-%m")
        return self.of(owner).metered_by_month.get(month, 0)


USAGE = ApiUsage()
