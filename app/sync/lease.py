"""One holder per org for sync work across replicas sharing one database: a lease row with a heartbeat.

Taking the lease is one INSERT (first time) or one conditional UPDATE, which works the same on SQLite and
PostgreSQL. The row names its holder (machine, process id and a random part) and the holder renews it every
``HEARTBEAT`` seconds while it works. A lease is free when:

- it has expired (``TTL`` after the last renewal), or
- its heartbeat is older than ``STALE`` (the holder is dead or frozen: another replica takes over within 30 s), or
- its holder is a process on this machine that no longer exists (a process restarted after ``kill -9`` takes its
  own dead leases back at once instead of waiting).
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from app.models.sync import Lease

HOST = socket.gethostname()[:100]
PID = os.getpid()
HOLDER = f"{HOST}:{PID}:{uuid.uuid4().hex[:8]}"
TTL = timedelta(minutes=2)
STALE = timedelta(seconds=30)
HEARTBEAT = timedelta(seconds=5)


def org_lease(org_id: int) -> str:
    return f"sync:org:{org_id}"


def process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def holder_dead(row: Lease) -> bool:
    """Dead for certain: a process of this machine that is gone (or whose pid now belongs to us)."""
    if row.holder == HOLDER or row.host != HOST or not row.pid:
        return False
    return row.pid == PID or not process_alive(row.pid)


def is_free(row: Lease, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    if row.holder == HOLDER:
        return True
    if row.expires_at < now:
        return True
    if row.heartbeat_at is not None and row.heartbeat_at < now - STALE:
        return True
    return holder_dead(row)


def _ours(now: datetime, ttl: timedelta) -> dict:
    return {"holder": HOLDER, "host": HOST, "pid": PID, "expires_at": now + ttl, "heartbeat_at": now}


async def acquire(name: str, ttl: timedelta = TTL) -> bool:
    now = datetime.now(UTC)
    free = Q(expires_at__lt=now) | Q(holder=HOLDER) | Q(heartbeat_at__lt=now - STALE)
    if await Lease.filter(Q(name=name) & free).update(**_ours(now, ttl)):
        return True
    row = await Lease.get_or_none(name=name)
    if row is not None:
        if not holder_dead(row):
            return False
        # Compare-and-set on the dead holder, so two restarted processes cannot both take it.
        return bool(await Lease.filter(name=name, holder=row.holder).update(**_ours(now, ttl)))
    try:
        await Lease.create(name=name, **_ours(now, ttl))
    except IntegrityError:  # another replica inserted it first
        return False
    return True


async def renew(name: str, ttl: timedelta = TTL) -> bool:
    """The heartbeat: ``False`` when the lease is no longer ours."""
    now = datetime.now(UTC)
    return bool(await Lease.filter(name=name, holder=HOLDER).update(expires_at=now + ttl, heartbeat_at=now))


async def release(name: str) -> None:
    await Lease.filter(name=name, holder=HOLDER).delete()
