from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    # Leases name their holder's machine and process and carry a heartbeat, so a dead holder's lease is taken over
    # in seconds; every process writes a heartbeat row, which the health check uses to prove the database writes.
    dependencies = [("models", "0006_security")]

    operations = [
        ops.AddField(model_name="Lease", name="host", field=fields.CharField(default="", max_length=128)),
        ops.AddField(model_name="Lease", name="pid", field=fields.IntField(default=0)),
        ops.AddField(
            model_name="Lease",
            name="heartbeat_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.CreateModel(
            name="ProcessHeartbeat",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("holder", fields.CharField(unique=True, max_length=128)),
                ("host", fields.CharField(default="", max_length=128)),
                ("pid", fields.IntField(default=0)),
                ("started_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("beat_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "process_heartbeat", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
