"""Sync runs against misbehaving peers (real HTTP to the simulators): EKP answering 500 or hanging in the middle of
a read, DingTalk failing half of all calls or throttling every one. Whatever happens, nothing is removed by
mistake, the run ends with a reason, and the next run after the peer recovers converges."""

from __future__ import annotations

from app import runtime
from app.models.contacts import Person
from app.models.sync import RunResult, SyncSettings
from app.sync import runner
from tests.integration.fault_proxy import FaultProxy
from tests.integration.sync_env import SyncEnv, env  # noqa: F401  (the fixture)


def _ekp_people(e: SyncEnv) -> list:
    return [x for x in e.ekp.state.elements.values() if x.type.value == "person" and x.is_available]


async def _converged(e: SyncEnv, already: set[str]) -> None:
    people = _ekp_people(e)
    local = await Person.filter(org_id=e.org.id, is_active=True).values_list("source_id", flat=True)
    assert sorted(local) == sorted(p.id for p in people)
    mobiles = [u.mobile for k, u in e.ding_users().items() if k not in already]
    assert len(mobiles) == len(set(mobiles)) == len(people)
    assert {p.mobile_no for p in people} == set(mobiles)


async def _through_proxy(e: SyncEnv) -> FaultProxy:
    proxy = await FaultProxy(e.ekp.base_url).start()
    await SyncSettings.filter(org_id=e.org.id).update(source_url=proxy.base_url)
    return proxy


async def test_ekp_answering_500_in_the_middle_of_a_full_read(env: SyncEnv) -> None:  # noqa: F811
    already = set(env.ding_users())
    first = await runner.run(env.org.id, rt=runtime.get())
    assert first.result == RunResult.SUCCESS, first.error
    before = await Person.filter(org_id=env.org.id, is_active=True).count()
    proxy = await _through_proxy(env)
    try:
        await SyncSettings.filter(org_id=env.org.id).update(cursors={})  # 清空同步时间戳: the next run is full
        proxy.fail_after = 2  # two pages come back, then EKP breaks
        broken = await runner.run(env.org.id, rt=runtime.get())
        assert broken.result == RunResult.FAILED
        assert "EKP" in broken.error
        # A half-read source is not "everyone else was deleted".
        assert await Person.filter(org_id=env.org.id, is_active=True).count() == before
        proxy.fail_after = None
        again = await runner.run(env.org.id, rt=runtime.get())
        assert again.result == RunResult.SUCCESS, again.error
        assert again.kind == "full"  # still owed: the broken full run did not complete
        await _converged(env, already)
    finally:
        await proxy.close()


async def test_ekp_hanging_in_the_middle_of_a_response(env: SyncEnv) -> None:  # noqa: F811
    already = set(env.ding_users())
    proxy = await _through_proxy(env)
    try:
        proxy.hang_at = 1  # the first page arrives whole; the second stops half-way and never finishes
        runtime.get().settings.ekp_timeout_seconds = 5  # LANDING_EKP_TIMEOUT_SECONDS; 60 s by default
        hung = await runner.run(env.org.id, rt=runtime.get())  # the EKP client gives up after its read timeout
        assert hung.result == RunResult.FAILED
        assert "EKP" in hung.error
        assert not await Person.filter(org_id=env.org.id, is_active=False).exists()
        proxy.hang_at = None
        again = await runner.run(env.org.id, rt=runtime.get())
        assert again.result == RunResult.SUCCESS, again.error
        await _converged(env, already)
    finally:
        await proxy.close()


async def test_dingtalk_failing_half_of_all_calls(env: SyncEnv) -> None:  # noqa: F811
    already = set(env.ding_users())
    await env.sim("POST", "/_sim/faults/transient", {"rate": 0.5, "errors": [-1, 502], "seed": 11})
    flaky = await runner.run(env.org.id, rt=runtime.get())
    # Retries absorb most failures; a call that still fails after every retry ends the run with the reason (or is
    # reported on its object), never as a silent success.
    if flaky.result == RunResult.FAILED:
        assert "钉钉" in flaky.error
    await env.sim("DELETE", "/_sim/faults")
    again = await runner.run(env.org.id, rt=runtime.get())
    assert again.result == RunResult.SUCCESS, again.error
    await _converged(env, already)


async def test_dingtalk_throttling_every_call(env: SyncEnv) -> None:  # noqa: F811
    already = set(env.ding_users())
    # Each throttled call waits before its retry (1 s, growing to 8 s, by default); the retries and the report are
    # what is tested, not the waiting.
    transport = runtime.get().dingtalk.transport
    transport.throttle_wait, transport.backoff_max = 0.05, 0.1
    await env.sim(
        "POST", "/_sim/faults/transient", {"rate": 1.0, "errors": [90018], "apis": ["/topapi/v2/user/create"]}
    )
    throttled = await runner.run(env.org.id, rt=runtime.get())
    assert throttled.result in (RunResult.WARNING, RunResult.FAILED)
    assert "90018" in (throttled.summary + throttled.error) or throttled.counters
    assert len(env.ding_users()) == len(already)  # nobody was created, nobody was touched twice
    await env.sim("DELETE", "/_sim/faults")
    again = await runner.run(env.org.id, rt=runtime.get())
    assert again.result == RunResult.SUCCESS, again.error
    await _converged(env, already)


async def test_a_first_import_broken_in_the_middle_resumes_without_doubles(env: SyncEnv) -> None:  # noqa: F811
    # A first import writes pages while it reads the next ones and looks nobody up (nobody is linked yet): the
    # pages committed before EKP broke must be found, not added again, by the run after it.
    from app.models.sync import SyncEntry

    already = set(env.ding_users())
    proxy = await _through_proxy(env)
    try:
        proxy.fail_after = 3  # three answers (the departments, the first page of people), then EKP breaks
        broken = await runner.run(env.org.id, rt=runtime.get())
        assert broken.result == RunResult.FAILED and "EKP" in broken.error
        written = await Person.filter(org_id=env.org.id).count()
        assert 0 < written < len(_ekp_people(env))  # the first page is committed, the rest is not
        proxy.fail_after = None
        again = await runner.run(env.org.id, rt=runtime.get())
        assert again.result == RunResult.SUCCESS, again.error
        assert not await SyncEntry.filter(run_id=again.id, stage="source", ok=False).exists()  # no clash, no double
        assert await Person.filter(org_id=env.org.id).count() == len(_ekp_people(env))
        await _converged(env, already)
    finally:
        await proxy.close()
