"""DingTalk API use as the home page reports it: per API, the busiest second, and the metered monthly calls."""

from __future__ import annotations

from datetime import UTC, datetime

from app.core import localtime
from app.core.api_usage import ApiUsage, is_metered
from app.services.home_health import fires_until


def test_tally_counts_calls_peak_second_and_metered_month() -> None:
    clock = iter([100.0, 100.1, 100.5, 100.9, 101.2, 2_000_000_000.0]).__next__
    usage = ApiUsage(clock=lambda: clock())
    for _ in range(3):
        usage.record("key", "/topapi/v2/user/list")
    usage.record("key", "/topapi/v2/user/list", error=True, throttled=True)
    usage.record("key", "/topapi/message/corpconversation/asyncsend_v2")
    tally = usage.of("key").apis["/topapi/v2/user/list"]
    assert (tally.calls, tally.peak_per_second, tally.errors, tally.throttles) == (4, 3, 1, 1)
    month = datetime.fromtimestamp(2_000_000_000, UTC)
    assert usage.metered_this_month("key", month) == 1  # contacts APIs are exempt, messages are metered
    assert usage.metered_this_month("other", month) == 0
    assert is_metered("/v1.0/todo/users/{unionId}/tasks") and not is_metered("/gettoken")


def test_cron_fires_left_in_the_month_in_the_configured_zone() -> None:
    localtime.set_zone("Asia/Shanghai")
    start = datetime(2026, 3, 30, 16, 0, tzinfo=UTC)  # 2026-03-31 00:00 in Shanghai
    end = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)  # 08:00 on April 1st in Shanghai
    assert fires_until("0 */2 * * *", start, end) == 16  # 02:00 ... 08:00 next day, every two hours
    assert fires_until("not a cron", start, end) == 0
