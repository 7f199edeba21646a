"""A big callback event cannot block an org: it is applied in bounded parts, other events and a manual run get
their turn in between, and repeated events for the same object cost one DingTalk read."""

from __future__ import annotations

import asyncio
import time

from app import runtime
from app.models.contacts import Person
from app.models.sync import CallbackEvent, RunResult, RunTrigger
from app.sync import callbacks, runner, scheduler, turns
from tests.integration.sync_env import CORPID, SyncEnv
from tests.integration.test_sync_callbacks import live  # noqa: F401  (the fixture)

BIG = 230  # user ids in one event: five parts of ``callbacks.CHUNK``


async def _event(org_id: int, user_ids: list[str], tag: str) -> CallbackEvent:
    payload = {"EventType": "user_modify_org", "CorpId": CORPID, "UserId": user_ids, "TimeStamp": tag}
    return await CallbackEvent.create(
        org_id=org_id, event_type="user_modify_org", payload=payload, dedup_key=f"test:{tag}"
    )


async def test_a_big_event_is_applied_in_parts_and_does_not_hold_back_the_next_one(live: SyncEnv) -> None:  # noqa: F811
    await scheduler.process_callbacks_once(runtime.get().dingtalk)  # the echoes of the first push
    people = await Person.filter(org_id=live.org.id, is_active=True).order_by("id")
    known = [p.ding_userid for p in people]
    big = await _event(live.org.id, [*known, *(f"nobody{n}" for n in range(BIG - len(known)))], "big")
    changed = people[0]
    await live.sim("PATCH", f"/_sim/corps/{CORPID}/users/{changed.ding_userid}", {"name": "后来的改名"})
    await _event(live.org.id, [changed.ding_userid], "small")

    client = runtime.get().dingtalk
    tried, processed = await callbacks.process_round(client, live.org)
    assert (tried, processed) >= (1, 1)
    # The big event was cut into parts in its place, and the small event behind it was applied in the first round.
    assert (await CallbackEvent.get(id=big.id)).processed_at is not None
    parts = await CallbackEvent.filter(dedup_key__startswith=f"part:{big.id}:")
    assert len(parts) == -(-BIG // callbacks.CHUNK)
    assert all(len(p.payload[callbacks.PART]["ids"]) <= callbacks.CHUNK for p in parts)
    assert (await Person.get(id=changed.id)).name == "后来的改名"

    await scheduler.process_callbacks_once(runtime.get().dingtalk)
    assert not await CallbackEvent.filter(org_id=live.org.id, processed_at__isnull=True).exists()


async def test_a_manual_run_takes_its_turn_between_rounds(live: SyncEnv) -> None:  # noqa: F811
    await scheduler.process_callbacks_once(runtime.get().dingtalk)
    await _event(live.org.id, [f"nobody{n}" for n in range(BIG)], "big")
    processing = asyncio.create_task(scheduler.process_callbacks_once(runtime.get().dingtalk))
    deadline = time.monotonic() + 60
    while live.org.id not in turns._rounds:  # a round of the big event is being applied
        assert time.monotonic() < deadline and not processing.done()
        await asyncio.sleep(0.001)
    # 立即同步 now is not answered 同步正在进行中: it waits for the round and runs.
    run = await runner.run(live.org.id, RunTrigger.MANUAL, rt=runtime.get())
    assert run.result == RunResult.SUCCESS, run.error
    await processing
    await scheduler.process_callbacks_once(runtime.get().dingtalk)
    assert not await CallbackEvent.filter(org_id=live.org.id, processed_at__isnull=True).exists()


async def test_repeated_events_for_one_user_cost_one_read(live: SyncEnv) -> None:  # noqa: F811
    await scheduler.process_callbacks_once(runtime.get().dingtalk)
    person = await Person.filter(org_id=live.org.id, is_active=True).order_by("id").first()
    for n in range(10):
        await _event(live.org.id, [person.ding_userid], f"again{n}")
    await live.reset_counters()
    await scheduler.process_callbacks_once(runtime.get().dingtalk)
    calls = await live.counters()
    assert calls.get("/topapi/v2/user/get") == 1
    assert await CallbackEvent.filter(dedup_key__startswith="test:again", processed_at__isnull=False).count() == 10
