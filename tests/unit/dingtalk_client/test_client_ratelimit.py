"""Token bucket maths (with a fake clock) and the per-key limiter."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.dingtalk.ratelimit import RateLimiter, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _max_in_window(times: list[float], window: float) -> int:
    best = 0
    start = 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_burst_one_spaces_requests_evenly() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=1, clock=clock)
    delays = [bucket.reserve() for _ in range(4)]
    assert delays == pytest.approx([0.0, 0.1, 0.2, 0.3])


def test_burst_allows_that_many_at_once_then_paces() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    delays = [bucket.reserve() for _ in range(5)]
    assert delays == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2])


def test_bucket_refills_while_idle_but_not_beyond_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=2, clock=clock)
    bucket.reserve()
    bucket.reserve()
    assert bucket.available() == pytest.approx(0.0)
    clock.now += 0.05
    assert bucket.available() == pytest.approx(0.5)
    clock.now += 10
    assert bucket.available() == pytest.approx(2.0)
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.1])


def test_invalid_parameters() -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=0)
    with pytest.raises(ValueError):
        TokenBucket(rate=1, burst=0)
    with pytest.raises(ValueError):
        RateLimiter(qps=20, safety=1.5)


@pytest.mark.parametrize("qps", [2, 5, 20, 40, 100])
def test_limiter_never_exceeds_qps_in_any_one_second_window(qps: int) -> None:
    """The server counts a sliding one-second window; a saturated client must stay at or below ``qps`` in it,
    even when requests arrive up to 40 ms late relative to each other."""
    clock = FakeClock()
    limiter = RateLimiter(qps, clock=clock)
    bucket = limiter.bucket(("app", "/api"))
    send_times = [clock.now + bucket.reserve() for _ in range(qps * 10)]
    assert _max_in_window(send_times, 1.0) <= qps
    # Jitter: every other request delayed by 40 ms, packing arrivals closer together.
    arrivals = sorted(t + (0.04 if i % 2 else 0.0) for i, t in enumerate(send_times))
    assert _max_in_window(arrivals, 1.0) <= qps
    # ...while still using at least 90 % of the allowance.
    achieved = (len(send_times) - 1) / (send_times[-1] - send_times[0])
    assert achieved >= 0.9 * qps


def test_buckets_are_independent_per_key() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, safety=1.0, clock=clock)
    assert limiter.bucket(("a", "/x")).reserve() == 0.0
    assert limiter.bucket(("a", "/y")).reserve() == 0.0
    assert limiter.bucket(("b", "/x")).reserve() == 0.0
    assert limiter.bucket(("a", "/x")).reserve() == pytest.approx(0.1)
    assert limiter.bucket(("a", "/x")) is limiter.bucket(("a", "/x"))
    assert len(limiter.keys()) == 3


async def test_acquire_waits_in_real_time() -> None:
    limiter = RateLimiter(50, safety=1.0)
    started = time.monotonic()
    await asyncio.gather(*(limiter.acquire("k") for _ in range(6)))
    # Five intervals of 20 ms after the first immediate token.
    assert time.monotonic() - started >= 0.09


def test_in_flight_window_counts_requests_until_a_window_after_their_answer() -> None:
    from app.dingtalk.ratelimit import InFlightWindow

    clock = FakeClock()
    guard = InFlightWindow(limit=2, window=1.0, clock=clock)
    assert guard.wait_time() == 0.0
    guard.inflight = 2  # two requests on the wire
    assert guard.wait_time() is None  # only an answer can free a slot
    guard.leave()
    assert guard.occupied() == 2  # answered just now: DingTalk may still count it in this second
    clock.now += 0.4
    assert guard.wait_time() == pytest.approx(0.6)
    clock.now += 0.6
    assert guard.occupied() == 1 and guard.wait_time() == 0.0
