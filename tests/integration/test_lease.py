"""One replica at a time: the lease row that guards each org's sync and the access notifier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.models.sync import Lease
from app.sync import lease


async def test_a_lease_held_by_another_replica_is_refused_until_it_expires(orm: str) -> None:
    assert await lease.acquire("sync:org:1")
    assert await lease.acquire("sync:org:1")  # ours already: renewed
    # Another replica holds it now, for another minute.
    await Lease.filter(name="sync:org:1").update(
        holder="other-host:42", expires_at=datetime.now(UTC) + timedelta(minutes=1)
    )
    assert not await lease.acquire("sync:org:1")
    assert not await lease.renew("sync:org:1")
    # That replica died: its lease runs out and we take over.
    await Lease.filter(name="sync:org:1").update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert await lease.acquire("sync:org:1")
    assert (await Lease.get(name="sync:org:1")).holder == lease.HOLDER
    await lease.release("sync:org:1")
    assert not await Lease.exists(name="sync:org:1")


async def test_leases_are_independent_per_name(orm: str) -> None:
    await Lease.create(
        name="access:notifier", holder="other-host:1", expires_at=datetime.now(UTC) + timedelta(minutes=1)
    )
    assert not await lease.acquire("access:notifier")
    assert await lease.acquire("sync:org:7")
