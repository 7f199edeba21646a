"""One replica at a time: the lease row that guards each org's sync and the access notifier, and how a dead
holder's lease is taken over (at once by its own restarted process, within 30 s by anyone else)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from app.models.sync import Lease
from app.sync import lease


def _another_replica(**extra) -> dict:
    now = datetime.now(UTC)
    return {
        "holder": "other-host:42:abcd",
        "host": "other-host",
        "pid": 42,
        "heartbeat_at": now,
        "expires_at": now + timedelta(minutes=1),
        **extra,
    }


async def test_a_lease_held_by_another_replica_is_refused_until_it_expires(orm: str) -> None:
    assert await lease.acquire("sync:org:1")
    assert await lease.acquire("sync:org:1")  # ours already: renewed
    row = await Lease.get(name="sync:org:1")
    assert (row.host, row.pid, row.holder) == (lease.HOST, lease.PID, lease.HOLDER)
    # Another replica holds it now, for another minute.
    await Lease.filter(name="sync:org:1").update(**_another_replica())
    assert not await lease.acquire("sync:org:1")
    assert not await lease.renew("sync:org:1")
    # That replica died: its lease runs out and we take over.
    await Lease.filter(name="sync:org:1").update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert await lease.acquire("sync:org:1")
    assert (await Lease.get(name="sync:org:1")).holder == lease.HOLDER
    await lease.release("sync:org:1")
    assert not await Lease.exists(name="sync:org:1")


async def test_a_holder_whose_heartbeat_stopped_loses_the_lease_after_30_seconds(orm: str) -> None:
    now = datetime.now(UTC)
    await Lease.create(name="sync:org:2", **_another_replica(heartbeat_at=now - timedelta(seconds=20)))
    assert not await lease.acquire("sync:org:2")  # 20 s without a heartbeat: maybe just busy
    await Lease.filter(name="sync:org:2").update(heartbeat_at=now - lease.STALE - timedelta(seconds=1))
    assert await lease.acquire("sync:org:2")


async def test_a_restarted_process_takes_its_own_dead_lease_back_at_once(orm: str) -> None:
    gone = await asyncio.create_subprocess_exec("true")
    await gone.wait()  # a process of this machine that no longer exists, as after kill -9
    await Lease.create(
        name="sync:org:3", **_another_replica(holder=f"{lease.HOST}:{gone.pid}:dead", host=lease.HOST, pid=gone.pid)
    )
    assert await lease.acquire("sync:org:3")
    # A live process of this machine keeps its lease.
    alive = await asyncio.create_subprocess_exec("sleep", "30")
    try:
        await Lease.create(
            name="sync:org:4",
            **_another_replica(holder=f"{lease.HOST}:{alive.pid}:live", host=lease.HOST, pid=alive.pid),
        )
        assert not await lease.acquire("sync:org:4")
    finally:
        alive.kill()
        await alive.wait()


async def test_leases_are_independent_per_name(orm: str) -> None:
    await Lease.create(name="access:notifier", **_another_replica())
    assert not await lease.acquire("access:notifier")
    assert await lease.acquire("sync:org:7")
