"""Full reconcile against DingTalk (a script that prints numbers; nothing here is a timed assertion).

    .venv/bin/python tests/bench/bench_reconcile.py [--depts 1000] [--persons 10000] [--qps 50] [--write-docs]

An org is imported from the EKP simulator (child process), the DingTalk simulator (this process) is filled with the
same directory as if it had been pushed, 1 % of the users are renamed directly in DingTalk, and one reconcile reads
everything back and marks the differences. The result is the reconcile's time against the least time DingTalk's
per-API read QPS allows for the calls it had to make (``calls / qps`` for the busiest API): the target is at most
1.2x. The simulator's lists are linear scans, so very large orgs measure the simulator more than our code; the
default size keeps its share small.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from tortoise import Tortoise  # noqa: E402

from app import runtime  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.dingtalk.simulator import start_simulator as start_dingtalk  # noqa: E402
from app.dingtalk.simulator.state import Department as SimDept  # noqa: E402
from app.dingtalk.simulator.state import User as SimUser  # noqa: E402
from app.models.contacts import Department, Person  # noqa: E402
from app.models.sync import SyncSettings  # noqa: E402
from app.sync import bulk, fields, reconcile, source  # noqa: E402
from tests import factories  # noqa: E402
from tests.bench.bench_sync import ChildEkp, context, open_db  # noqa: E402
from tests.bench.record import Record  # noqa: E402

RECORD = Record("reconcile", "Full reconcile against DingTalk", ("benchmark", "result", "target"))
CORP = "recocorp"


async def fill_dingtalk(ding, org_id: int) -> int:
    """Put the local directory into the simulator as the push would have, and link the local rows to it."""
    corp = ding.state.corps[CORP]
    depts = await Department.filter(org_id=org_id).order_by("depth", "id").values_list("id", "parent_id", "name")
    ding_of: dict[int, int] = {}
    links = []
    for local_id, parent_id, name in depts:
        if parent_id is None:
            ding_of[local_id] = 1
            continue
        dept_id = corp.new_dept_id()
        corp.departments[dept_id] = SimDept(dept_id=dept_id, name=name, parent_id=ding_of[parent_id], seq=corp.seq())
        ding_of[local_id] = dept_id
        links.append((dept_id, local_id))
    await bulk.update_rows(Department, ("ding_id",), links)
    people = []
    for person in await Person.filter(org_id=org_id, is_active=True):
        userid = f"u{person.id}"
        values = fields.person_values(person)
        values["senior"] = values.pop("senior_mode")
        corp.users[userid] = SimUser(
            userid=userid,
            unionid=f"un{person.id}",
            dept_id_list=[ding_of[person.main_dept_id]],
            seq=corp.seq(),
            **values,
        )
        people.append((userid, person.id))
    await bulk.update_rows(Person, ("ding_userid",), people)
    return len(people)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--depts", type=int, default=1000)
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--qps", type=int, default=50)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await open_db(Path(tmp))
        ding = await start_dingtalk(corps=[f"{CORP}:key-{CORP}:secret-{CORP}-0123456789abcdef:9"], qps=args.qps)
        await runtime.start(
            Settings(
                dingtalk_oapi_base=ding.base_url,
                dingtalk_api_base=ding.base_url,
                dingtalk_qps=args.qps,
                outbound_allowed_ranges="127.0.0.0/8",  # the EKP simulator is on loopback
            ),
            run_workers=False,
        )
        ekp = await ChildEkp.start(depts=args.depts, persons=args.persons, seed=13)
        try:
            org = await factories.org("核对测试", CORP)
            settings = await SyncSettings.create(
                org=org,
                delete_threshold=100,
                source_enabled=True,
                source_url=ekp.base_url,
                source_user="ekp",
                source_password="ekp",
            )
            await source.run(await context(org, settings, full=True))
            linked = await fill_dingtalk(ding, org.id)
            corp = ding.state.corps[CORP]
            drifted = [u for u in corp.users.values() if u.userid.startswith("u")][::100]
            for user in drifted:
                user.name = user.name + "（钉钉里改）"
            async with aiohttp.ClientSession() as http:
                await http.delete(ding.base_url + "/_sim/counters")
                ctx = await context(org, settings, full=True)
                started = time.perf_counter()
                await reconcile.run(ctx)
                elapsed = time.perf_counter() - started
                async with http.get(ding.base_url + "/_sim/counters") as resp:
                    calls = (await resp.json())["calls"]
        finally:
            await ekp.close()
            await runtime.stop()
            await ding.close()
            await Tortoise.close_connections()
    reads = {api: n for api, n in calls.items() if not api.startswith("/gettoken")}
    busiest = max(reads, key=reads.get)
    bound = reads[busiest] / args.qps
    repaired = ctx.counters["reconcile"]["person"]["repaired"]
    ratio = elapsed / bound
    print(
        f"reconcile of {linked} people / {len(corp.departments)} departments: {elapsed:.1f} s; calls {reads}; "
        f"QPS-bound time {bound:.1f} s ({busiest}); ratio {ratio:.2f} (target <= 1.2); "
        f"{repaired} of {len(drifted)} drifted users marked for repair"
    )
    RECORD.add(
        f"reconcile, {linked:,} people / {len(corp.departments):,} departments at {args.qps} QPS",
        f"{elapsed:.1f} s = {ratio:.2f}x the QPS-bound {bound:.1f} s; {repaired}/{len(drifted)} drifts found",
        f"≤ 1.2x: {'met' if ratio <= 1.2 and repaired == len(drifted) else '**not met**'}",
    )
    if args.write_docs:
        RECORD.write()


if __name__ == "__main__":
    asyncio.run(main())
