"""``/metrics``: refresh the values that live in the database or in other objects, then render our registry.

The metric families themselves are defined in ``app.core.metrics``; this module only knows where the scrape-time
values come from (row counts, the notification outbox, the DingTalk client's counters) and runs the event-loop
lag probe as a background worker.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from app import runtime
from app.core import metrics as m
from app.models.access import Notification
from app.models.accounts import Account
from app.models.contacts import Department, Person
from app.models.orgs import Org

# Counters a worker may bump by name; rendered as ``landing_<name>_total``.
COUNTERS: Counter[str] = Counter()


async def _refresh(rt: runtime.Runtime | None) -> None:
    m.ORGS.set(await Org.all().count())
    m.ACCOUNTS.set(await Account.all().count())
    m.DEPARTMENTS.set(await Department.filter(is_deleted=False).count())
    m.PEOPLE_ACTIVE.set(await Person.filter(is_active=True).count())
    waiting = Notification.filter(delivered_at=None, failed_at=None)
    m.OUTBOX_DEPTH.set(await waiting.count())
    oldest = await waiting.order_by("created_at").limit(1).values_list("created_at", flat=True)
    m.OUTBOX_OLDEST_AGE.set(max(0.0, (datetime.now(UTC) - oldest[0]).total_seconds()) if oldest else 0)
    values: dict[str, float] = {f"{k}": float(v) for k, v in COUNTERS.items()}
    if rt is not None:  # no runtime (CLI, some tests): the client counters stay at zero
        stats = rt.dingtalk.transport.stats
        values["dingtalk_retries"] = stats.get("retries", 0)
        values["dingtalk_token_fetches"] = stats.get("token_fetches", 0)
        values["dingtalk_token_refreshes"] = stats.get("token_refreshes", 0)
    m.SNAPSHOT.values = values


async def render(rt: runtime.Runtime | None) -> str:
    await _refresh(rt)
    return m.render().decode("utf-8")


async def probe_loop_lag(rt: runtime.Runtime) -> None:
    """The worker: measure how late the event loop wakes up (landing_event_loop_lag_seconds)."""
    await m.LoopLagProbe().run()
