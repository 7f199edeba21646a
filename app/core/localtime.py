"""The time zone admins read times in (系统设置 > 时区, default Asia/Shanghai) and the one way times are shown.

The database keeps UTC; the container often runs in UTC too, which put every time on screen eight hours off for
users in China. So nothing may call ``datetime.astimezone()`` without a zone or ``datetime.now()`` for display:
pages, downloads and the cron schedule go through ``fmt`` / ``now`` here, which use the configured zone.

The zone is a process-wide value: the system-settings service loads it at start, sets it when an admin changes it
and re-reads it periodically so that every replica follows a change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_ZONE = "Asia/Shanghai"
FULL = "%Y-%m-%d %H:%M:%S"
MINUTES = "%Y-%m-%d %H:%M"
FILE_STAMP = "%Y%m%d-%H%M%S"

# Offered first in the 时区 picker; every IANA zone is accepted.
COMMON_ZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
)

_zone: ZoneInfo = ZoneInfo(DEFAULT_ZONE)


def zone_error(name: str) -> str | None:
    """None when ``name`` is an IANA time zone this machine knows, else the reason (Chinese, for the field)."""
    text = (name or "").strip()
    if not text:
        return "请选择时区"
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        return f"未知的时区：{text[:64]}（请使用 IANA 名称，例如 Asia/Shanghai）"
    return None


def all_zones() -> list[str]:
    rest = sorted(z for z in available_timezones() if z not in COMMON_ZONES and "/" in z)
    return [*COMMON_ZONES, *rest]


def set_zone(name: str) -> None:
    global _zone
    if zone_error(name) is None:
        _zone = ZoneInfo(name.strip())


def zone() -> ZoneInfo:
    return _zone


def zone_name() -> str:
    return _zone.key


def label(at: datetime | None = None) -> str:
    """``Asia/Shanghai (UTC+08:00)``: what a page prints next to times it shows."""
    offset = (at or datetime.now(UTC)).astimezone(_zone).utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{_zone.key} (UTC{sign}{minutes // 60:02d}:{minutes % 60:02d})"


def now() -> datetime:
    """The current time, aware, in the configured zone."""
    return datetime.now(_zone)


def local(value: datetime) -> datetime:
    """``value`` in the configured zone; a naive value is taken as UTC (what the database stores)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_zone)


def to_utc(wall: datetime) -> datetime:
    """A naive wall-clock time in the configured zone (as cron fires) as an aware UTC time."""
    return (wall.replace(tzinfo=_zone) if wall.tzinfo is None else wall).astimezone(UTC)


def fmt(value: datetime | None, pattern: str = FULL, empty: str = "") -> str:
    """The one formatter for every time shown to a person or written to a download."""
    return local(value).strftime(pattern) if value is not None else empty


def file_stamp() -> str:
    """For download names: ``20260301-093000`` in the configured zone."""
    return now().strftime(FILE_STAMP)
