"""Contacts on a large org: 10,000 departments (depth up to 8) and 100,000 people in SQLite.

Times the service calls the 通讯录 pages make (server side, no browser):
  open      the contacts page: top of the tree, root + first level with counts, root detail, both lists (page 1)
  expand    expanding one first-level node (its children with counts)
  big dept  opening a department with 1,000 members (detail, tree path, sub-departments, first page + total)
  search    a keyword search over departments and people
Every run starts cold (the few-second cache of count inputs is cleared first).
Run: .venv/bin/python tests/bench/bench_contacts.py [--depts 10000 --people 100000] [--write-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cryptography.fernet import Fernet  # noqa: E402
from tortoise import Tortoise  # noqa: E402

from tests.bench.record import Record  # noqa: E402

OPEN = "open the contacts page (root, first level with counts, root detail, both lists)"
BIG = "open a department of {:,} people (detail, tree path expanded, lists)"


async def fill(n_depts: int, n_people: int, big: int) -> tuple[int, int, int, int]:
    from app.models.accounts import Account, Role, RoleGrant
    from app.models.contacts import Department, Person
    from app.models.orgs import Company, Org

    company = await Company.create(name="压测企业", domain="bench.example.com")
    org = await Org.create(
        company=company, name="压测组织", corpid="benchcorp", appkey="benchkey", appsecret="s" * 32,
        agent_id="1", aes_key="a" * 43, callback_token="t",
    )  # fmt: skip
    rng = random.Random(7)
    rows = [(1, None, "/1/", 0)]
    level1 = 12
    for i in range(level1):
        rows.append((i + 2, 1, f"/1/{i + 2}/", 1))
    while len(rows) < n_depts:
        parent = rows[rng.randrange(1, len(rows))]
        if parent[3] >= 8:
            continue
        new_id = len(rows) + 1
        rows.append((new_id, parent[0], f"{parent[2]}{new_id}/", parent[3] + 1))
    depts = [
        Department(id=i, org_id=org.id, parent_id=p, name=f"部门{i}", path=path, depth=d, order=i)
        for i, p, path, d in rows
    ]
    await Department.bulk_create(depts, batch_size=2000)
    big_dept = rows[-1][0]
    surnames = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗"
    people = []
    for pid in range(1, n_people + 1):
        main = big_dept if pid <= big else rng.randrange(1, n_depts + 1)
        people.append(
            Person(
                id=pid,
                org_id=org.id,
                main_dept_id=main,
                name=f"{surnames[pid % 20]}{pid}",
                mobile=f"1{3 + pid % 6}{pid:09d}",
                login_name=f"user{pid}",
                title="员工",
                job_number=f"J{pid}",
            )  # fmt: skip
        )
    await Person.bulk_create(people, batch_size=2000)
    conn = Tortoise.get_connection("default")
    others = [(pid, rng.randrange(2, n_depts + 1)) for pid in rng.sample(range(1, n_people + 1), n_people // 10)]
    await conn.execute_many("INSERT OR IGNORE INTO person_other_dept (person_id, department_id) VALUES (?, ?)", others)
    await conn.execute_script("ANALYZE")
    account = await Account.create(login="bench", password_hash="x")
    await RoleGrant.create(account=account, role=Role.ORG_ADMIN, org=org)
    return org.id, account.id, big_dept, 2


RECORD = Record("contacts", "Contacts pages on a large org", ("action", "median", "max", "target"))


async def timed(label: str, fn, runs: int, record: str | None = None) -> None:
    from app.services.contacts import departments

    samples = []
    for _ in range(runs):
        departments.invalidate_counts()  # cold: no count inputs cached from the previous run
        start = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - start) * 1000)
    median = statistics.median(samples)
    print(f"  {label:<44} median {median:7.1f} ms   max {max(samples):7.1f} ms")
    if record:
        met = "met" if median <= 300 else "**not met**"
        RECORD.add(record, f"{median:.0f} ms", f"{max(samples):.0f} ms", f"≤ 300 ms: {met}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--depts", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write-docs", action="store_true", help="record the numbers in docs/performance.md")
    args = parser.parse_args()

    from app.core.db import build_config, run_migrations
    from app.core.security import install_secret_key
    from app.services import accounts
    from app.services.contacts import departments, people
    from app.services.contacts import search as contacts_search

    install_secret_key(Fernet.generate_key().decode())
    folder = tempfile.mkdtemp(prefix="bench-contacts-")
    url = f"sqlite://{folder}/bench.sqlite3"
    await run_migrations(url)  # the schema an install has, indexes added by migrations included
    await Tortoise.init(config=build_config(url))
    conn = Tortoise.get_connection("default")
    await conn.execute_script("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    start = time.perf_counter()
    org_id, account_id, big_dept, first = await fill(args.depts, args.people, args.big)
    print(f"filled {args.depts} departments, {args.people} people in {time.perf_counter() - start:.1f} s")
    actor = await accounts.load_actor(account_id, org_id)

    async def open_page() -> None:
        top = await departments.tree_children(actor, org_id, None)
        root = top[0].id
        await departments.get_department(actor, org_id, root)
        await departments.tree_children(actor, org_id, root)
        await departments.list_children(actor, org_id, root, page=1, size=10)
        await people.list_members(actor, org_id, root, page=1, size=20)

    async def expand() -> None:
        await departments.tree_children(actor, org_id, first)

    async def open_big() -> None:
        detail = await departments.get_department(actor, org_id, big_dept)
        await departments.tree_children(actor, org_id, None)
        for dept_id, _ in detail.path_names[:-1]:
            await departments.tree_children(actor, org_id, dept_id)
        await departments.list_children(actor, org_id, big_dept, page=1, size=10)
        page = await people.list_members(actor, org_id, big_dept, page=1, size=20)
        assert page.total >= args.big, page.total

    async def search() -> None:
        await contacts_search.search(actor, org_id, "张12")

    async def search_mobile() -> None:
        await contacts_search.search(actor, org_id, "1300001")

    print("server-side time per page action (2 cores, Debian 12, Python 3.11, SQLite):")
    await timed("open contacts page (root + level 1, counts)", open_page, args.runs, OPEN)
    await timed("expand a first-level node", expand, args.runs, "expand a first-level node")
    await timed(f"open a department of {args.big} people", open_big, args.runs, BIG.format(args.big))
    await timed("search by name", search, args.runs, "search by name")
    await timed("search by mobile", search_mobile, args.runs, "search by mobile")
    print("  -- pieces of 'open':")
    await timed("tree_children(None)", lambda: departments.tree_children(actor, org_id, None), args.runs)
    await timed("tree_children(root)", lambda: departments.tree_children(actor, org_id, 1), args.runs)
    await timed("get_department(root)", lambda: departments.get_department(actor, org_id, 1), args.runs)
    await timed("list_children(root)", lambda: departments.list_children(actor, org_id, 1), args.runs)
    await timed("list_members(root)", lambda: people.list_members(actor, org_id, 1), args.runs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB (including the fill)")
    RECORD.note(
        f"{args.depts:,} departments, {args.people:,} people; each run cold, median of {args.runs}. "
        f"Peak RSS of the process {peak:.0f} MB, the fill included."
    )
    if args.write_docs:
        RECORD.write()
    await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main())
