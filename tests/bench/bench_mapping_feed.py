"""Benchmark: the EKP mapping feed over loopback HTTP for an org of 10,000 departments and 100,000 people.

Run: .venv/bin/python tests/bench/bench_mapping_feed.py [--persons 100000] [--depts 10000] [--pg DSN]
Builds a throwaway SQLite database (or a PostgreSQL one with --pg), serves the feed with uvicorn on a free port and
pulls it the way EKP does: a full pull from timestamp 0, then an incremental pull after 100 changes. Prints times and
sizes; not a pytest test.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from tortoise import Tortoise  # noqa: E402

from app.core import change_tracking  # noqa: E402
from app.core.db import build_config  # noqa: E402
from app.core.security import install_secret_key  # noqa: E402
from app.models.access import AccessSystem  # noqa: E402
from app.models.contacts import Department, Person  # noqa: E402
from app.services import mapping_feed  # noqa: E402
from tests import factories  # noqa: E402
from tests.integration.access_support import FEED, free_port  # noqa: E402


async def _seed(depts: int, persons: int) -> tuple[int, int]:
    org = await factories.org("压测组织", "benchcorp", is_main=True)
    root = await Department.get(org_id=org.id, parent=None)
    t0 = change_tracking.now_ms() - 3_600_000
    batch = [
        Department(
            org=org,
            parent=root,
            name=f"部门{i}",
            path="/",
            depth=1,
            source_id=f"ekp-d-{i}",
            ding_id=1000 + i,
            feed_time=t0 + i // 50,  # many departments share a millisecond, as after a bulk sync
        )
        for i in range(depts)
    ]
    await Department.bulk_create(batch, batch_size=2000)
    people = [
        Person(
            org=org,
            name=f"人员{i}",
            main_dept=root,
            login_name=f"user{i}",
            mobile=f"138{i:08d}",
            source_id=f"ekp-p-{i}",
            ding_userid=f"u{i}",
            feed_time=t0 + i // 100,
        )
        for i in range(persons)
    ]
    await Person.bulk_create(people, batch_size=2000)
    await AccessSystem.create(
        org=org, name="EKP", identifier="bench", auth_account="bench", auth_password="bench-password"
    )
    return org.id, t0


async def _pull(http: aiohttp.ClientSession, base: str, kind: str, timestamp: int) -> tuple[float, int, int]:
    token = base64.b64encode(b"bench:bench-password").decode()
    headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
    start = time.perf_counter()
    async with http.post(f"{base}{FEED}/{kind}?timestamp={timestamp}", data="null", headers=headers) as response:
        body = await response.json()
        size = response.content_length or 0
    assert body["errcode"] == 0
    return time.perf_counter() - start, len(body["datas"]), size


async def main(args: argparse.Namespace) -> None:
    import uvicorn
    from fastapi import FastAPI

    from app.api import ekp_feed, v1_access

    install_secret_key(Fernet.generate_key().decode())
    with tempfile.TemporaryDirectory() as tmp:
        url = args.pg or f"sqlite://{tmp}/bench.sqlite3"
        await Tortoise.init(config=build_config(url))
        await Tortoise.generate_schemas()
        start = time.perf_counter()
        org_id, _ = await _seed(args.depts, args.persons)
        print(f"seeded {args.depts} departments and {args.persons} people in {time.perf_counter() - start:.1f} s")

        api = FastAPI()
        api.include_router(v1_access.router)
        api.include_router(ekp_feed.router)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn offers only this flag
            await asyncio.sleep(0.02)
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as http:
            for kind in ("dept", "person"):
                seconds, count, size = await _pull(http, base, kind, 0)
                print(f"full pull {kind:6}: {count:>7} items, {size / 1e6:6.1f} MB in {seconds:6.2f} s")
            cursor = change_tracking.now_ms() - mapping_feed.SETTLE_MS
            changed = await Person.filter(org_id=org_id).order_by("id").limit(100)
            for person in changed:
                person.is_active = False
                change_tracking.touch_feed(person)
                await person.save(update_fields=["is_active", "feed_time"])
            await asyncio.sleep(mapping_feed.SETTLE_MS / 1000 + 0.1)
            seconds, count, size = await _pull(http, base, "person", cursor)
            print(f"incremental pull person after 100 changes: {count} items in {seconds * 1000:.1f} ms")
        server.should_exit = True
        await task
        await Tortoise.close_connections()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--depts", type=int, default=10_000)
    parser.add_argument("--pg", default="", help="PostgreSQL URL of an empty database (default: SQLite in a temp dir)")
    asyncio.run(main(parser.parse_args()))
