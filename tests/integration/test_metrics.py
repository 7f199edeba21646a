"""``/metrics`` as Prometheus reads it: every family documented, and each one moves when its event happens.

The console's callback endpoint and health routes run on a real port; DingTalk and EKP are the simulators. The text
is parsed with ``prometheus_client``'s own parser, as a scraper would.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from app import runtime
from app.api import dingtalk_callback, health
from app.core import metrics as core_metrics
from app.dingtalk.events import CONTACT_EVENT_TAGS
from app.models.access import AccessSystem
from app.models.accounts import Role
from app.models.sync import RunResult
from app.services import access_notify, accounts
from app.services.errors import LoginFailed
from app.sync import runner, scheduler
from tests import factories
from tests.integration import sync_env
from tests.integration.sync_env import CORPID, SyncEnv

FAMILIES = {
    "landing_orgs": "gauge",
    "landing_accounts": "gauge",
    "landing_departments": "gauge",
    "landing_people_active": "gauge",
    "landing_sync_runs": "counter",
    "landing_sync_run_duration_seconds": "histogram",
    "landing_sync_objects": "counter",
    "landing_callbacks_received": "counter",
    "landing_callbacks_refused": "counter",
    "landing_callbacks_processed": "counter",
    "landing_callback_lag_seconds": "histogram",
    "landing_dingtalk_calls": "counter",
    "landing_dingtalk_throttles": "counter",
    "landing_dingtalk_retries": "counter",
    "landing_dingtalk_token_fetches": "counter",
    "landing_dingtalk_token_refreshes": "counter",
    "landing_access_notifications": "counter",
    "landing_access_outbox_depth": "gauge",
    "landing_access_outbox_oldest_age_seconds": "gauge",
    "landing_logins": "counter",
    "landing_event_loop_lag_seconds": "gauge",
    "landing_event_loop_lag_max_seconds": "gauge",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Scrape:
    def __init__(self, text: str) -> None:
        self.families = {f.name: f for f in text_string_to_metric_families(text)}

    def value(self, sample: str, **labels: str) -> float:
        """Sum of the samples named ``sample`` whose labels include ``labels``."""
        total = 0.0
        for family in self.families.values():
            for s in family.samples:
                if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                    total += s.value
        return total


@pytest.fixture
async def live(orm: str) -> AsyncIterator[tuple[SyncEnv, str]]:
    env = await sync_env.make_env(depts=4, persons=8)
    api = FastAPI()
    api.include_router(dingtalk_callback.router)
    api.include_router(health.router)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers only this flag
        await asyncio.sleep(0.02)
    try:
        yield env, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        await sync_env.close_env(env)


async def _scrape(base: str) -> Scrape:
    async with httpx.AsyncClient() as http:
        resp = await http.get(f"{base}/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    return Scrape(resp.text)


async def test_every_family_is_documented_and_moves_with_its_event(live: tuple[SyncEnv, str]) -> None:
    env, base = live
    org = env.org
    before = await _scrape(base)
    for name, kind in FAMILIES.items():
        assert name in before.families, f"{name} missing from /metrics"
        assert before.families[name].type == kind, name
        assert before.families[name].documentation.strip(), f"{name} has no HELP text"
    assert before.value("landing_orgs") == 1

    # A full sync run against the simulators; DingTalk throttles one department call on the way.
    await env.sim(
        "POST", "/_sim/faults/transient", {"apis": ["/topapi/v2/department/*"], "errors": [90018], "count": 1}
    )
    runtime.get().dingtalk.transport.throttle_wait = 0.01
    url = f"{base}/api/ding_console/contacts/callback?corpid={CORPID}"
    await runtime.get().dingtalk.contacts.register_callback(
        sync_env.app_of(org), url=url, token=org.callback_token, aes_key=org.aes_key, tags=CONTACT_EVENT_TAGS
    )
    run = await runner.run(org.id, rt=runtime.get())
    assert run.result == RunResult.SUCCESS, run.error
    await env.sim("POST", "/_sim/callbacks/wait", {"timeout": 20})
    assert await scheduler.process_callbacks_once(runtime.get().dingtalk) > 0

    # Refused callbacks: an unknown corpid and a forged signature.
    async with httpx.AsyncClient() as http:
        unknown = await http.post(f"{base}/api/ding_console/contacts/callback?corpid=nobody", json={"encrypt": "x"})
        forged = await http.post(
            f"{url}&msg_signature=bad&timestamp={int(time.time() * 1000)}&nonce=n1", json={"encrypt": "AAAA"}
        )
    assert (unknown.status_code, forged.status_code) == (404, 403)

    # Logins: one wrong password, one right one.
    await factories.account("ops", Role.ORG_ADMIN, org)
    with pytest.raises(LoginFailed):
        await accounts.authenticate("ops", "wrong")
    await accounts.authenticate("ops", factories.PASSWORD)

    # An access system whose notify URL refuses connections: the attempt fails and the outbox keeps the note.
    await AccessSystem.create(
        org=org,
        name="EKP",
        identifier="ekp-metrics",
        auth_account="ekp-m",
        auth_password="pw",
        notify_url=f"http://127.0.0.1:{_free_port()}/notify",
    )
    assert await access_notify.enqueue(org.id, "contacts_changed") == 1
    delivered, failed = await access_notify.deliver_due(
        runtime.get().http, now=datetime.now(UTC) + timedelta(minutes=5)
    )
    assert (delivered, failed) == (0, 1)

    after = await _scrape(base)

    def moved(sample: str, **labels: str) -> float:
        return after.value(sample, **labels) - before.value(sample, **labels)

    assert moved("landing_sync_runs_total", org=str(org.id), kind="full", result="success") == 1
    assert moved("landing_sync_run_duration_seconds_count", kind="full") == 1
    assert moved("landing_sync_objects_total", stage="push", object="person", action="added") == 8
    assert moved("landing_callbacks_received_total") > 0
    assert moved("landing_callbacks_refused_total", reason="unknown_corpid") == 1
    assert moved("landing_callbacks_refused_total", reason="signature") == 1
    assert moved("landing_callbacks_processed_total", result="applied") > 0
    assert moved("landing_callback_lag_seconds_count") == moved("landing_callbacks_processed_total", result="applied")
    assert moved("landing_dingtalk_calls_total", errcode="0") > 0
    assert moved("landing_dingtalk_calls_total", errcode="90018") == 1
    assert moved("landing_dingtalk_throttles_total") == 1
    assert after.value("landing_dingtalk_retries_total") >= 1
    assert after.value("landing_dingtalk_token_fetches_total") >= 1
    assert moved("landing_logins_total", method="password", result="failed") == 1
    assert moved("landing_logins_total", method="password", result="success") == 1
    assert moved("landing_access_notifications_total", result="failed") == 1
    assert after.value("landing_access_outbox_depth") == 1
    assert after.value("landing_people_active") == 8
    # Labels stay bounded: no API label carries an id or a query string.
    apis = {s.labels["api"] for s in after.families["landing_dingtalk_calls"].samples}
    assert apis and not [a for a in apis if "?" in a or "access_token" in a]


async def test_event_loop_lag_probe_sees_a_blocked_loop() -> None:
    probe = core_metrics.LoopLagProbe(interval=0.01)
    task = asyncio.create_task(probe.run())
    await asyncio.sleep(0)  # let the probe start its sleep
    time.sleep(0.2)  # noqa: ASYNC251 - block the loop the way a synchronous call in a handler would
    for _ in range(500):
        if probe.worst > 0:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert probe.worst >= 0.15
    text = core_metrics.render().decode()
    lag_max: Any = Scrape(text).value("landing_event_loop_lag_max_seconds")
    assert lag_max >= 0.15
