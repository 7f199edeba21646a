"""The sync's plain-SQL writes (app/sync/bulk.py) store exactly what the ORM would, on SQLite and PostgreSQL.

SQLite inserts are ``INSERT ... SELECT`` statements over one JSON array of rows, with the columns that are alike in
every row written as literals; these tests read the rows back through the ORM, so a wrong literal, a lost type or a
shifted column shows as a wrong value.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from app.models.contacts import Department, Person
from app.models.sync import RunKind, RunTrigger, SyncEntry, SyncRun
from app.sync import bulk
from tests import factories

COLUMNS = ("org_id", "name", "mobile", "login_name", "main_dept_id", "is_active", "source_id", "needs_push")
COLUMNS += ("feed_time",)


async def _root(org) -> Department:
    return await Department.get(org_id=org.id, parent_id=None)  # the factory's org has its root department


async def test_multi_row_insert_keeps_every_value_and_type(orm: str) -> None:
    org = await factories.org()
    root = await _root(org)
    # Alike in every row: org, department, needs_push, feed_time (written as literals on SQLite); a quote, Chinese
    # text, None and a boolean that differs between rows travel as values.
    names = [f"O'Brien {i}" if i % 2 else f"张三{i}" for i in range(2_500)]
    rows = [
        (org.id, name, f"1380000{i:04d}", None, root.id, i % 3 != 0, f"s{i}", True, 7) for i, name in enumerate(names)
    ]
    statement = bulk.insert_new_statement(Person, COLUMNS, rows, returning=("source_id", "id"))
    async with in_transaction():
        returned = await statement.run()
    assert statement.count == 2_500
    people = {p.source_id: p for p in await Person.filter(org_id=org.id)}
    assert len(people) == 2_500
    if returned is not None:  # SQLite answers the new ids itself
        assert dict(returned) == {sid: p.id for sid, p in people.items()}
    for i in (0, 1, 2, 1_999, 2_499):
        person = people[f"s{i}"]
        assert person.name == (f"O'Brien {i}" if i % 2 else f"张三{i}")
        assert person.mobile == f"1380000{i:04d}" and person.login_name is None
        assert person.is_active is (i % 3 != 0) and person.needs_push is True and person.feed_time == 7
        assert person.main_dept_id == root.id
        assert person.sync_conflicts == {} and person.avatar_url == ""  # defaults filled in
        assert person.name_sort  # derived from the name by the insert itself


async def test_rows_that_are_all_alike_and_a_single_row(orm: str) -> None:
    org = await factories.org()
    run = await SyncRun.create(org=org, trigger=RunTrigger.MANUAL, kind=RunKind.FULL)
    at = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    same = (run.id, at, "source", "add", "person", "同名", None, "", "", True, "", "新增成功")
    columns = ("run_id", "at", "stage", "action", "object_type", "object_name", "local_id", "ding_id", "source_id")
    columns += ("ok", "error_code", "message")
    assert await bulk.insert_rows(SyncEntry, columns, [same] * 3) == 3
    assert await bulk.insert_rows(SyncEntry, columns, [(*same[:5], "一个", 5, *same[7:])]) == 1
    assert await bulk.insert_rows(SyncEntry, columns, []) == 0
    entries = await SyncEntry.filter(run_id=run.id).order_by("id")
    assert [(e.object_name, e.local_id, e.ok, e.at) for e in entries] == [("同名", None, True, at)] * 3 + [
        ("一个", 5, True, at)
    ]


async def test_updates_write_each_row(orm: str) -> None:
    org = await factories.org()
    root = await _root(org)
    rows = [(org.id, f"人{i}", None, None, root.id, True, f"u{i}", False, 0) for i in range(3)]
    await bulk.insert_new(Person, COLUMNS, rows)
    ids = dict(await bulk.select(Person, ("source_id", "id"), '"org_id" = {}', [org.id]))
    assert await bulk.update_rows(Person, ("name", "is_active"), [("改名", False, ids["u1"])]) == 1
    people = {p.source_id: p for p in await Person.filter(org_id=org.id)}
    assert (people["u1"].name, people["u1"].is_active) == ("改名", False)
    assert (people["u0"].name, people["u0"].is_active) == ("人0", True)


async def test_bytes_and_floats_keep_their_type(orm: str) -> None:
    # JSON would turn bytes into text and may round floats: such rows take the row-by-row statement.
    from app.models.exclusive import AssetKind, ExclusiveAsset

    org = await factories.org()
    columns = ("org_id", "kind", "filename", "image_format", "width", "height", "size_bytes", "sha256", "contrast")
    columns += ("data", "preview")
    png = b"\x00\x89PNG"
    rows = [(org.id, AssetKind.LOGO, f"l{i}.png", "PNG", 1, 1, 3, "0" * 64, 4.5 + i, png, b"") for i in (0, 1)]
    assert await bulk.insert_new(ExclusiveAsset, columns, rows) == 2
    assets = await ExclusiveAsset.filter(org_id=org.id).order_by("filename")
    assert [(a.data, a.contrast, a.kind) for a in assets] == [(png, 4.5, "logo"), (png, 5.5, "logo")]
