"""Client-side rate limiting for DingTalk calls.

DingTalk limits each app per API path (standard edition: 20 QPS, errcode 90018 when exceeded). We keep every
process under that limit ourselves instead of discovering it in production.

``TokenBucket`` is a reservation-style token bucket (the GCRA formulation): each ``acquire`` claims the next free
slot and sleeps until it, so waiters are served in arrival order, no lock or background task is needed, and nothing
binds to an event loop at construction time.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Hashable


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` available at once.

    In any time window of length ``L`` at most ``burst + floor(rate * L)`` acquisitions complete, which is what
    the client relies on to stay below a server-side "N requests per second" limit.
    """

    def __init__(self, rate: float, burst: int = 1, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = float(rate)
        self.burst = burst
        self._interval = 1.0 / self.rate
        self._clock = clock
        # Theoretical arrival time of the next request when the bucket is drained; -inf means "full".
        self._tat = -math.inf

    def reserve(self, now: float | None = None) -> float:
        """Claim one token and return how many seconds the caller must wait before using it."""
        if now is None:
            now = self._clock()
        tat = max(self._tat, now)
        allowed_at = tat - (self.burst - 1) * self._interval
        self._tat = tat + self._interval
        return max(0.0, allowed_at - now)

    def available(self, now: float | None = None) -> float:
        """Tokens that could be taken right now without waiting (fractional, for inspection and tests)."""
        if now is None:
            now = self._clock()
        if self._tat == -math.inf:
            return float(self.burst)
        return max(0.0, min(float(self.burst), self.burst - (self._tat - now) * self.rate))

    async def acquire(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)


class RateLimiter:
    """One ``TokenBucket`` per key (the client uses ``(appkey, api path)``), created on first use.

    ``qps`` is the server's limit; the buckets run at ``qps * safety`` with a burst of one, so even requests that
    reach the server up to ~50 ms late relative to each other never make it count more than ``qps`` in a second.
    """

    def __init__(
        self, qps: float, *, safety: float = 0.95, burst: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if qps <= 0:
            raise ValueError("qps must be positive")
        if not 0 < safety <= 1:
            raise ValueError("safety must be in (0, 1]")
        self.qps = float(qps)
        self.rate = self.qps * safety
        self.burst = burst
        self._clock = clock
        self._buckets: dict[Hashable, TokenBucket] = {}

    def bucket(self, key: Hashable) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, clock=self._clock)
        return bucket

    async def acquire(self, key: Hashable) -> None:
        await self.bucket(key).acquire()

    def keys(self) -> list[Hashable]:
        return list(self._buckets)
