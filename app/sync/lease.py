"""One holder per org for sync work across replicas sharing one database: a lease row with an expiry.

Taking the lease is one INSERT (first time) or one conditional UPDATE (expired, or already ours), which works the
same on SQLite and PostgreSQL. A crashed holder's lease simply runs out.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from app.models.sync import Lease

HOLDER = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
TTL = timedelta(minutes=2)


def org_lease(org_id: int) -> str:
    return f"sync:org:{org_id}"


async def acquire(name: str, ttl: timedelta = TTL) -> bool:
    now = datetime.now(UTC)
    updated = await Lease.filter(Q(name=name) & (Q(expires_at__lt=now) | Q(holder=HOLDER))).update(
        holder=HOLDER, expires_at=now + ttl
    )
    if updated:
        return True
    if await Lease.filter(name=name).exists():
        return False
    try:
        await Lease.create(name=name, holder=HOLDER, expires_at=now + ttl)
    except IntegrityError:  # another replica inserted it first
        return False
    return True


async def renew(name: str, ttl: timedelta = TTL) -> bool:
    return bool(await Lease.filter(name=name, holder=HOLDER).update(expires_at=datetime.now(UTC) + ttl))


async def release(name: str) -> None:
    await Lease.filter(name=name, holder=HOLDER).delete()
