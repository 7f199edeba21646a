from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    # Members of a department through 其他部门 are looked up by department; the link table's own unique index
    # starts with person_id, so without this one every such lookup scans the whole table.
    dependencies = [("models", "0001_initial")]

    operations = [
        ops.RunSQL(
            'CREATE INDEX IF NOT EXISTS "idx_person_other_dept_department" '
            'ON "person_other_dept" ("department_id", "person_id")',
            reverse_sql='DROP INDEX IF EXISTS "idx_person_other_dept_department"',
        ),
    ]
