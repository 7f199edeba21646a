"""Exports of a large org: the contacts of the whole tree as xlsx and csv, and how the event loop fares meanwhile.

Prints, per format: wall time, rows per second, file size, and the worst event-loop lag a probe saw while the export
ran (what every open page would feel). Uses the same generated org as bench_contacts.py.
Run: .venv/bin/python tests/bench/bench_exports.py [--depts 2000 --people 20000] [--write-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cryptography.fernet import Fernet  # noqa: E402
from tortoise import Tortoise  # noqa: E402

from tests.bench.bench_contacts import fill  # noqa: E402
from tests.bench.record import Record  # noqa: E402

RECORD = Record("exports", "Exports", ("export", "rows", "time", "rows/s", "file", "worst loop lag"))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--depts", type=int, default=2_000)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--write-docs", action="store_true", help="record the numbers in docs/performance.md")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="bench-exports-")
    os.environ["LANDING_DATA_DIR"] = folder
    from app.core import metrics
    from app.core.config import reset_settings_cache
    from app.core.db import build_config, run_migrations
    from app.core.security import install_secret_key
    from app.core.tasks import TaskRegistry
    from app.services import accounts, exports

    reset_settings_cache()
    install_secret_key(Fernet.generate_key().decode())
    url = f"sqlite://{folder}/bench.sqlite3"
    await run_migrations(url)
    await Tortoise.init(config=build_config(url))
    await Tortoise.get_connection("default").execute_script("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    org_id, account_id, _, _ = await fill(args.depts, args.people, 100)
    actor = await accounts.load_actor(account_id, org_id)
    print(f"filled {args.depts} departments, {args.people} people")
    for fmt in exports.FORMATS:
        probe = metrics.LoopLagProbe(interval=0.05)
        watcher = asyncio.create_task(probe.run())
        start = time.perf_counter()
        job = await exports.start_contacts_export(actor, org_id, 1, fmt, tasks=TaskRegistry())
        await job.task
        took = time.perf_counter() - start
        watcher.cancel()
        assert job.state == "done", job.error
        size = job.path.stat().st_size / 1024 / 1024
        print(
            f"  contacts {fmt}: {job.done:,} rows in {took:.1f} s ({job.done / took:,.0f} rows/s), "
            f"{size:.1f} MB, worst loop lag {probe.worst * 1000:.0f} ms"
        )
        RECORD.add(
            f"contacts, whole tree, {fmt}",
            f"{job.done:,}",
            f"{took:.1f} s",
            f"{job.done / took:,.0f}",
            f"{size:.1f} MB",
            f"{probe.worst * 1000:.0f} ms",
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB (including the fill)")
    RECORD.note(
        f"{args.depts:,} departments, {args.people:,} people (10% with another department), SQLite. Batches of "
        f"{exports.BATCH} rows; the loop lag is the longest a page would have waited. Peak RSS {peak:.0f} MB, the fill "
        "included. The machine was shared with other work while this ran."
    )
    if args.write_docs:
        RECORD.write()
    await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main())
