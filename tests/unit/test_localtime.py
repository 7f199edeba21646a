"""Times shown to people and the cron schedule follow the 系统设置 time zone; the database stays in UTC."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app.core import localtime
from app.sync import scheduler


@pytest.fixture(autouse=True)
def _default_zone() -> Iterator[None]:
    localtime.set_zone(localtime.DEFAULT_ZONE)
    yield
    localtime.set_zone(localtime.DEFAULT_ZONE)


def test_utc_from_the_database_is_shown_in_china_time_by_default() -> None:
    stored = datetime(2026, 3, 1, 16, 30, 5, tzinfo=UTC)
    assert localtime.fmt(stored) == "2026-03-02 00:30:05"
    assert localtime.fmt(stored.replace(tzinfo=None), localtime.MINUTES) == "2026-03-02 00:30"  # naive = UTC
    assert localtime.fmt(None, empty="—") == "—"
    assert localtime.label(stored) == "Asia/Shanghai (UTC+08:00)"


def test_another_zone_moves_every_formatted_time_and_a_bad_name_is_refused() -> None:
    assert localtime.zone_error("Mars/Olympus").startswith("未知的时区")
    assert localtime.zone_error("") == "请选择时区"
    localtime.set_zone("Mars/Olympus")
    assert localtime.zone_name() == "Asia/Shanghai"  # unchanged
    localtime.set_zone("America/New_York")
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert localtime.fmt(summer) == "2026-07-01 08:00:00"
    assert localtime.label(summer) == "America/New_York (UTC-04:00)"
    assert localtime.label(datetime(2026, 1, 1, tzinfo=UTC)) == "America/New_York (UTC-05:00)"
    assert localtime.all_zones()[0] == "Asia/Shanghai" and "Europe/Paris" in localtime.all_zones()


def test_cron_fires_at_wall_clock_time_in_the_configured_zone() -> None:
    # "every day at 09:00" in Shanghai is 01:00 UTC, whatever zone the server itself runs in.
    fire = scheduler.due_since("0 9 * * *", datetime(2026, 3, 2, 8, 59), datetime(2026, 3, 2, 9, 0, 30))
    assert fire == datetime(2026, 3, 2, 9, 0)
    assert localtime.to_utc(fire) == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    preview = scheduler.next_runs("0 9 * * *", 2, start=datetime(2026, 3, 2, 10, 0))
    assert preview == [datetime(2026, 3, 3, 9, 0), datetime(2026, 3, 4, 9, 0)]
    localtime.set_zone("UTC")
    assert localtime.to_utc(fire) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
