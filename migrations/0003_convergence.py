# Convergence of the contacts sync: refused DingTalk fields kept per person, removals held back by the delete
# threshold listed per run with the admin's decision, removals an admin refused, the reconcile period, the
# source-health guard, and 分机号 (telephone) as a synced person field.
from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_other_dept_lookup_index')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='FeedTombstone',
            options={'table': 'access_feed_tombstone', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An object that left DingTalk (deleted there, or removed for good): the mapping feed keeps telling business'},
        ),
        ops.AddField(
            model_name='Person',
            name='sync_conflicts',
            field=fields.JSONField(default=dict, db_default={}, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='Person',
            name='telephone',
            field=fields.CharField(default='', db_default='', max_length=50),
        ),
        ops.AddField(
            model_name='SyncRun',
            name='decision',
            field=fields.CharField(default='', db_default='', max_length=16),
        ),
        ops.AddField(
            model_name='SyncRun',
            name='pending_removals',
            field=fields.JSONField(default=list, db_default=[], encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='SyncSettings',
            name='kept_removals',
            field=fields.JSONField(default=dict, db_default={}, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='SyncSettings',
            name='reconcile_days',
            field=fields.IntField(default=7, db_default=7),
        ),
        ops.AddField(
            model_name='SyncSettings',
            name='source_drop_guard',
            field=fields.IntField(default=20, db_default=20),
        ),
    ]
