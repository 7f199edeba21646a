"""How much five simultaneous logins stall the event loop: argon2 on the loop vs. in the bounded thread pool.

A ticker measures the loop's worst lag (how late a 5 ms sleep wakes up) while five password checks run; every page,
callback and API answer of the process waits at least that long. Run: ``python -m tests.bench.bench_login_loop
[--write-docs]``.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from app.core.security import hash_password, verify_password, verify_password_async
from tests.bench.record import Record

LOGINS = 5


async def _worst_lag(work) -> tuple[float, float]:
    done = asyncio.Event()
    worst = 0.0

    async def ticker() -> None:
        nonlocal worst
        while not done.is_set():
            start = time.perf_counter()
            await asyncio.sleep(0.005)
            worst = max(worst, time.perf_counter() - start - 0.005)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.02)
    started = time.perf_counter()
    await work()
    elapsed = time.perf_counter() - started
    done.set()
    await task
    return worst, elapsed


async def main(write_docs: bool) -> None:
    hashed = hash_password("Landing2026x")

    async def inline() -> None:
        for _ in range(LOGINS):
            verify_password("wrong-password", hashed)
            await asyncio.sleep(0)

    async def pooled() -> None:
        await asyncio.gather(*(verify_password_async("wrong-password", hashed) for _ in range(LOGINS)))

    record = Record(
        "login-loop",
        "Five simultaneous logins and the event loop",
        ("argon2 runs", "worst loop lag", "five checks took"),
    )
    for label, work in (("on the event loop (before)", inline), ("in the bounded pool (now)", pooled)):
        lag, elapsed = await _worst_lag(work)
        record.add(label, f"{lag * 1000:.0f} ms", f"{elapsed * 1000:.0f} ms")
        print(f"{label:28s} worst loop lag {lag * 1000:6.0f} ms   five checks {elapsed * 1000:6.0f} ms")
    record.note("The machine was shared with other work while this ran; lags are indicative.")
    if write_docs:
        record.write()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write-docs", action="store_true")
    asyncio.run(main(parser.parse_args().write_docs))
