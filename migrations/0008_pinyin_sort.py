from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from app.core.pinyin import sort_key

BATCH = 1000


async def _fill(_apps, schema_editor) -> None:
    """Existing people and departments get their pinyin key (new writes keep it right themselves)."""
    client = schema_editor.client
    mark = (lambda i: f"${i}") if client.capabilities.dialect == "postgres" else (lambda i: "?")
    for table in ("department", "person"):
        last = 0
        while True:
            _, rows = await client.execute_query(
                f'SELECT "id", "name" FROM "{table}" WHERE "id" > {mark(1)} ORDER BY "id" LIMIT {BATCH}', [last]
            )
            if not rows:
                break
            pairs = [(row["name"], row["id"]) for row in rows]
            await client.execute_many(
                f'UPDATE "{table}" SET "name_sort" = {mark(1)} WHERE "id" = {mark(2)}',
                [[sort_key(name), id_] for name, id_ in pairs],
            )
            last = pairs[-1][1]


class Migration(migrations.Migration):
    # Lists order Chinese names by pinyin in the database (app/core/pinyin.py); the member list's index follows.
    dependencies = [("models", "0007_reliability")]

    operations = [
        ops.AddField(
            model_name="Department",
            name="name_sort",
            field=fields.CharField(default="", db_default="", max_length=255),
        ),
        ops.RemoveIndex(model_name="Person", name=None, fields=["main_dept_id", "is_active", "name"]),
        ops.AddField(
            model_name="Person",
            name="name_sort",
            field=fields.CharField(default="", db_default="", max_length=255),
        ),
        ops.AddIndex(model_name="Person", index=Index(fields=["main_dept_id", "is_active", "name_sort"])),
        ops.RunPython(_fill, ops.RunPython.noop),
    ]
