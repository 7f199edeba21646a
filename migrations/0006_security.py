from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.data import JSON_DUMPS
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    # Sessions that can be ended (Account.session_epoch), login throttles per (account, address) and OIDC
    # codes/tokens in the database so several replicas and a restart keep working.
    dependencies = [("models", "0005_exclusive_dingtalk")]

    operations = [
        ops.AddField(model_name="Account", name="session_epoch", field=fields.IntField(default=0)),
        ops.CreateModel(
            name="LoginThrottle",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("key", fields.CharField(unique=True, max_length=160)),
                ("failures", fields.IntField(default=0)),
                ("first_failure_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("blocked_until", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={"table": "sec_login_throttle", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OidcGrant",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("kind", fields.CharField(max_length=8)),
                ("client_id", fields.CharField(max_length=128)),
                ("redirect_uri", fields.CharField(max_length=512)),
                ("claims", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("code_challenge", fields.CharField(default="", max_length=128)),
                ("expires_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ("used", fields.BooleanField(default=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "sec_oidc_grant", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
