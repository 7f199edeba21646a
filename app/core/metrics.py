"""Every Prometheus metric of the console, defined once, in a registry of our own.

Why one module: the places that produce events (the DingTalk client, the callback endpoint, the sync runner, the
access-system notifier, logins) belong to different areas and should each spend one line on metrics. The families,
their HELP text, their label sets and the rules that keep labels bounded live here; the call sites only say what
happened.

Label values are bounded: organisations by id (a handful), sync kinds/results and stages from fixed enums, DingTalk
APIs by the path template the rate limiter already uses, error codes cut to short tokens, refusal reasons from a
fixed table. Nothing user-controlled (a corpid from the query string, an error message) becomes a label.

The registry is separate from ``prometheus_client``'s global one so that tests and the ``/metrics`` route see only
our families (and no per-process collectors we do not document).
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from app.core import api_usage

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# -- inventory (set at scrape time from the database) --------------------------------------------------------------

ORGS = Gauge("landing_orgs", "Organisations (DingTalk orgs) held by the console.", registry=REGISTRY)
ACCOUNTS = Gauge("landing_accounts", "Console login accounts.", registry=REGISTRY)
DEPARTMENTS = Gauge("landing_departments", "Departments in the contacts directory (not deleted).", registry=REGISTRY)
PEOPLE_ACTIVE = Gauge("landing_people_active", "Active people in the contacts directory.", registry=REGISTRY)

# -- sync runs ------------------------------------------------------------------------------------------------------

SYNC_RUNS = Counter(
    "landing_sync_runs",
    "Finished contacts sync runs by organisation id, kind (incremental/full) and result (success/warning/failed).",
    ["org", "kind", "result"],
    registry=REGISTRY,
)
SYNC_DURATION = Histogram(
    "landing_sync_run_duration_seconds",
    "Wall time of finished contacts sync runs, from start to the run row being closed.",
    ["kind"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
    registry=REGISTRY,
)
SYNC_OBJECTS = Counter(
    "landing_sync_objects",
    "Objects handled by sync runs by stage (ding_in/source/push), object (dept/person) and action (added, ...).",
    ["stage", "object", "action"],
    registry=REGISTRY,
)

# -- DingTalk callbacks ---------------------------------------------------------------------------------------------

CALLBACKS_RECEIVED = Counter(
    "landing_callbacks_received",
    "Contacts callback requests that passed every check and were stored (or were a known duplicate).",
    registry=REGISTRY,
)
CALLBACKS_REFUSED = Counter(
    "landing_callbacks_refused",
    "Contacts callback requests refused, by reason (unknown_corpid, too_large, bad_request, stale, signature).",
    ["reason"],
    registry=REGISTRY,
)
CALLBACKS_PROCESSED = Counter(
    "landing_callbacks_processed",
    "Stored callback events the processor handled, by result (applied, failed).",
    ["result"],
    registry=REGISTRY,
)
CALLBACK_LAG = Histogram(
    "landing_callback_lag_seconds",
    "Time from a callback event being received to being applied to the contacts directory.",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 7200),
    registry=REGISTRY,
)

# -- DingTalk API ---------------------------------------------------------------------------------------------------

DINGTALK_CALLS = Counter(
    "landing_dingtalk_calls",
    "HTTP exchanges with DingTalk by API (path template) and errcode ('0' ok, 'transport' for network/HTTP errors).",
    ["api", "errcode"],
    registry=REGISTRY,
)
DINGTALK_THROTTLES = Counter(
    "landing_dingtalk_throttles",
    "DingTalk answers that asked us to slow down (QPS limit errcodes, flood protection), by API.",
    ["api"],
    registry=REGISTRY,
)

# -- access-system notifications ------------------------------------------------------------------------------------

NOTIFICATIONS = Counter(
    "landing_access_notifications",
    "Delivery attempts of access-system notifications by result (delivered, failed, gave_up = last attempt failed).",
    ["result"],
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge(
    "landing_access_outbox_depth", "Access-system notifications waiting for delivery.", registry=REGISTRY
)
OUTBOX_OLDEST_AGE = Gauge(
    "landing_access_outbox_oldest_age_seconds",
    "Age of the oldest access-system notification still waiting for delivery (0 when none waits).",
    registry=REGISTRY,
)

# -- logins and the process ------------------------------------------------------------------------------------------

LOGINS = Counter(
    "landing_logins",
    "Login attempts by method (password = console accounts, domain = domain-account SSO) and result.",
    ["method", "result"],
    registry=REGISTRY,
)
EVENT_LOOP_LAG = Gauge(
    "landing_event_loop_lag_seconds",
    "How late the event loop woke a periodic probe at its last tick; high values mean blocked or saturated.",
    registry=REGISTRY,
)
EVENT_LOOP_LAG_MAX = Gauge(
    "landing_event_loop_lag_max_seconds",
    "The worst event-loop lag seen by the probe since the process started.",
    registry=REGISTRY,
)


# -- values kept by other objects, read at scrape time ---------------------------------------------------------------


class _SnapshotCollector(Collector):
    """Counters whose value another object already keeps (the DingTalk client's ``stats``, the legacy counters).

    ``render`` in the services layer copies them into ``values`` before every scrape; collecting only reads.
    """

    FAMILIES = {
        "dingtalk_retries": "DingTalk requests retried after a transient failure (throttling, timeouts, 5xx).",
        "dingtalk_token_fetches": "Access tokens fetched from DingTalk (first use and scheduled refresh).",
        "dingtalk_token_refreshes": "Access tokens DingTalk rejected, so a fresh one was fetched and the call retried.",
    }

    def __init__(self) -> None:
        self.values: dict[str, float] = {}

    def collect(self) -> Iterable[Metric]:
        for name, text in self.FAMILIES.items():
            family = CounterMetricFamily(f"landing_{name}", text)
            family.add_metric([], self.values.get(name, 0))
            yield family
        for name, value in sorted(self.values.items()):
            if name not in self.FAMILIES:
                family = CounterMetricFamily(f"landing_{_token(name, 60)}", f"Worker counter {name}.")
                family.add_metric([], value)
                yield family

    def describe(self) -> Iterable[Metric]:
        return []  # families appear once values exist; nothing to check for name clashes up front


SNAPSHOT = _SnapshotCollector()
REGISTRY.register(SNAPSHOT)


def render() -> bytes:
    return generate_latest(REGISTRY)


# -- helpers for the call sites -------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^A-Za-z0-9_.:/{}-]+")
T = TypeVar("T")


def _token(value: Any, limit: int = 32) -> str:
    text = _TOKEN.sub("_", str(value if value is not None else "")).strip("_")
    return text[:limit] or "none"


async def dingtalk_call(bucket: tuple[str, str], call: Awaitable[T]) -> T:
    """Await one HTTP exchange with DingTalk and count it by API and outcome (the client's only hook).

    ``bucket`` is the rate limiter's key: (app key, API path template)."""
    owner, api = bucket[0], _token(bucket[1], 96)
    try:
        result = await call
    except Exception as exc:
        code = getattr(exc, "errcode", None)
        DINGTALK_CALLS.labels(api, _token(code) if code not in (None, "") else "transport").inc()
        throttled = bool(getattr(exc, "is_throttled", False) or getattr(exc, "retry_after", None))
        if throttled:
            DINGTALK_THROTTLES.labels(api).inc()
        api_usage.USAGE.record(owner, api, error=True, throttled=throttled)
        raise
    DINGTALK_CALLS.labels(api, "0").inc()
    api_usage.USAGE.record(owner, api)
    return result


def sync_run_finished(
    org_id: int, kind: str, result: str, started: datetime | None, ended: datetime | None, counters: Mapping
) -> None:
    """A run row was closed: count it, its duration and every non-zero object counter."""
    SYNC_RUNS.labels(str(org_id), _token(kind), _token(result)).inc()
    if started is not None and ended is not None:
        SYNC_DURATION.labels(_token(kind)).observe(max(0.0, (ended - started).total_seconds()))
    for stage, objects in (counters or {}).items():
        if not isinstance(objects, Mapping):
            continue
        for obj, actions in objects.items():
            if not isinstance(actions, Mapping):
                continue
            for action, n in actions.items():
                if isinstance(n, int | float) and n > 0:
                    SYNC_OBJECTS.labels(_token(stage), _token(obj), _token(action)).inc(n)


# The callback endpoint answers refusals with these (status, errmsg) pairs; anything else counts as bad_request.
_REFUSALS = {
    404: "unknown_corpid",
    413: "too_large",
    400: "bad_request",
}
_REFUSAL_MESSAGES = {"stale timestamp": "stale", "signature or decryption failed": "signature"}


def callback_answered(status: int, errmsg: str = "") -> None:
    """Count one answer of the callback endpoint by what the caller got."""
    if status < 300:
        CALLBACKS_RECEIVED.inc()
        return
    reason = _REFUSAL_MESSAGES.get(errmsg) or _REFUSALS.get(status, "bad_request")
    CALLBACKS_REFUSED.labels(reason).inc()


def callback_route(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Decorate the callback route: count what it answered without touching its logic."""
    import functools
    import json

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        response = await handler(*args, **kwargs)
        status = getattr(response, "status_code", 200)
        errmsg = ""
        if status >= 300:
            try:
                errmsg = str(json.loads(bytes(response.body)).get("errmsg", ""))
            except (ValueError, AttributeError, TypeError):
                errmsg = ""
        callback_answered(status, errmsg)
        return response

    return wrapper


def callback_applied(received: datetime | None, applied: datetime | None) -> None:
    CALLBACKS_PROCESSED.labels("applied").inc()
    if received is not None and applied is not None:
        CALLBACK_LAG.observe(max(0.0, (applied - received).total_seconds()))


def callback_failed() -> None:
    CALLBACKS_PROCESSED.labels("failed").inc()


def notification_attempted(error: str, *, gave_up: bool) -> None:
    NOTIFICATIONS.labels("delivered" if not error else ("gave_up" if gave_up else "failed")).inc()


# Audit actions of login attempts -> (method, result). Audit is the one place every login path already reports to.
_LOGIN_ACTIONS = {
    "login.success": ("password", "success"),
    "login.failed": ("password", "failed"),
    "login.locked": ("password", "locked"),
    "oidc.login.success": ("domain", "success"),
    "oidc.login.failed": ("domain", "failed"),
    "oidc.login.blocked": ("domain", "blocked"),
}


def audit_recorded(action: str) -> None:
    pair = _LOGIN_ACTIONS.get(action)
    if pair is not None:
        LOGINS.labels(*pair).inc()


class LoopLagProbe:
    """Sleep ``interval`` seconds again and again; how much later than asked we wake is the loop's lag."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.worst = 0.0

    def observe(self, asked: float, slept: float) -> float:
        lag = max(0.0, slept - asked)
        self.worst = max(self.worst, lag)
        EVENT_LOOP_LAG.set(lag)
        EVENT_LOOP_LAG_MAX.set(self.worst)
        return lag

    async def run(self) -> None:
        import asyncio

        while True:
            started = time.monotonic()
            await asyncio.sleep(self.interval)
            self.observe(self.interval, time.monotonic() - started)


# -- reading back, for the home page --------------------------------------------------------------------------------


def _samples(family: Counter, suffix: str = "_total") -> Iterable[tuple[dict[str, str], float]]:
    for metric in family.collect():
        for sample in metric.samples:
            if sample.name.endswith(suffix):
                yield sample.labels, sample.value


def callbacks_refused() -> dict[str, int]:
    return {labels["reason"]: int(v) for labels, v in _samples(CALLBACKS_REFUSED) if v}


def sync_runs_of(org_id: int) -> int:
    return int(sum(v for labels, v in _samples(SYNC_RUNS) if labels.get("org") == str(org_id)))


# Known label values start at zero, so alerts on increase() see the series before the first event.
for _reason in {*_REFUSALS.values(), *_REFUSAL_MESSAGES.values()}:
    CALLBACKS_REFUSED.labels(_reason)
for _result in ("applied", "failed"):
    CALLBACKS_PROCESSED.labels(_result)
for _result in ("delivered", "failed", "gave_up"):
    NOTIFICATIONS.labels(_result)
for _pair in _LOGIN_ACTIONS.values():
    LOGINS.labels(*_pair)
