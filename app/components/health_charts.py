"""ECharts options for the home page's run timeline (NiceGUI bundles ECharts: nothing comes from the internet).

ECharts formats a time axis in the browser's zone; the console shows every time in the 系统设置 zone. So the x
values are wall-clock times of that zone written as if they were UTC, and the chart is told ``useUTC``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from app.core import localtime

RESULT_COLOURS = {"success": "#21ba45", "warning": "#f2c037", "failed": "#c10015", "running": "#1976d2"}
RESULT_LABELS = {"success": "成功", "warning": "警告", "failed": "失败", "running": "进行中"}


def _wall_ms(value: datetime) -> int:
    return int(localtime.local(value).replace(tzinfo=UTC).timestamp() * 1000)


def run_timeline(runs: list, days: int, now: datetime | None = None) -> dict:
    """Scatter of runs: x = start, y = duration, colour = result, size = objects changed; one series per result."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days)
    series = []
    for result, colour in RESULT_COLOURS.items():
        points = [
            {
                "value": [_wall_ms(r.started_at), round(r.duration_s, 1), r.changed],
                "symbolSize": 8 + min(22, math.sqrt(r.changed) * 2),
                "tip": (
                    f"#{r.id} {localtime.fmt(r.started_at, localtime.MINUTES)} {RESULT_LABELS[result]}<br>"
                    f"耗时 {r.duration_s:.0f} 秒，变更 {r.changed} 个对象"
                ),
            }
            for r in runs
            if str(r.result) == result and r.started_at >= since
        ]
        series.append(
            {"name": RESULT_LABELS[result], "type": "scatter", "data": points, "itemStyle": {"color": colour}}
        )
    return {
        "useUTC": True,
        "animation": False,
        "grid": {"left": 56, "right": 16, "top": 36, "bottom": 32},
        "legend": {"top": 0, "right": 0, "itemWidth": 10, "itemHeight": 10},
        "tooltip": {"trigger": "item", ":formatter": "p => p.data.tip"},
        "xAxis": {"type": "time", "min": _wall_ms(since), "max": _wall_ms(now + timedelta(hours=days / 7 * 6))},
        "yAxis": {"type": "value", "name": "耗时(秒)", "minInterval": 1},
        "series": series,
    }
