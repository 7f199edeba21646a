"""Client-side rate limiting for DingTalk calls.

DingTalk limits each app per API path (standard edition: 20 QPS, errcode 90018 when exceeded). We keep every
process under that limit ourselves instead of discovering it in production.

``TokenBucket`` is a reservation-style token bucket (the GCRA formulation): each ``acquire`` claims the next free
slot and sleeps until it, so waiters are served in arrival order, no lock or background task is needed, and nothing
binds to an event loop at construction time.

Pacing the *start* of requests is not enough on a busy machine: a request that got its token may leave late (the
event loop was busy), so several can reach DingTalk within one second although their tokens were spaced out.
``InFlightWindow`` closes that gap by counting what the server may count: DingTalk sees a request at some moment
between our send and our receipt of the answer, so a new request may only leave while fewer than ``limit``
requests are either still in flight or were answered less than ``window`` seconds ago. Whatever the delays, no
``window`` of server time then holds more than ``limit`` of our requests. Retrying 90018 stays the last line.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Hashable


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


class InFlightWindow:
    """At most ``limit`` requests in flight or answered within the last ``window`` seconds."""

    def __init__(self, limit: int, window: float = 1.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self._clock = clock
        self.inflight = 0
        self._answered: deque[float] = deque()
        self._changed: asyncio.Event | None = None

    def occupied(self, now: float | None = None) -> int:
        now = self._clock() if now is None else now
        while self._answered and self._answered[0] <= now - self.window:
            self._answered.popleft()
        return self.inflight + len(self._answered)

    def wait_time(self, now: float | None = None) -> float | None:
        """0 when a request may leave now; seconds until a slot frees; None when only an answer can free one."""
        now = self._clock() if now is None else now
        if self.occupied(now) < self.limit:
            return 0.0
        if self._answered:
            return max(0.0, self._answered[0] + self.window - now)
        return None

    async def enter(self) -> None:
        while True:
            wait = self.wait_time()
            if wait == 0.0:
                self.inflight += 1
                return
            if self._changed is None:
                self._changed = asyncio.Event()
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=wait)

    def leave(self) -> None:
        self.inflight -= 1
        self._answered.append(self._clock())
        if self._changed is not None:
            self._changed.set()
            self._changed = None


class RateLimiter:
    """One ``TokenBucket`` per key (the client uses ``(appkey, api path)``), created on first use.

    ``qps`` is the server's limit; the buckets run at ``qps * safety`` with a burst of one, and each key's
    ``InFlightWindow`` lets at most ``qps`` requests be in flight or answered within the last ``window`` seconds
    (one second plus a margin for timer granularity), however late the event loop lets them leave.
    """

    def __init__(
        self,
        qps: float,
        *,
        safety: float = 0.95,
        burst: int = 1,
        window: float = 1.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if qps <= 0:
            raise ValueError("qps must be positive")
        if not 0 < safety <= 1:
            raise ValueError("safety must be in (0, 1]")
        self.qps = float(qps)
        self.rate = self.qps * safety
        self.burst = burst
        self._clock = clock
        self.window = window
        self._buckets: dict[Hashable, TokenBucket] = {}
        self._windows: dict[Hashable, InFlightWindow] = {}

    def bucket(self, key: Hashable) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, clock=self._clock)
        return bucket

    def in_flight(self, key: Hashable) -> InFlightWindow:
        found = self._windows.get(key)
        if found is None:
            found = self._windows[key] = InFlightWindow(max(1, int(self.qps)), self.window, clock=self._clock)
        return found

    async def acquire(self, key: Hashable) -> None:
        """Pacing only (callers that cannot report when their request was answered)."""
        await self.bucket(key).acquire()

    @contextlib.asynccontextmanager
    async def slot(self, key: Hashable) -> AsyncIterator[None]:
        """Around one request: paced by the bucket, counted by the in-flight window until its answer is in."""
        await self.bucket(key).acquire()
        guard = self.in_flight(key)
        await guard.enter()
        try:
            yield
        finally:
            guard.leave()

    def keys(self) -> list[Hashable]:
        return list(self._buckets)
