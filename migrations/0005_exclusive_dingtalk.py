from tortoise import migrations
from tortoise.migrations import operations as ops
from app.core.fields import EncryptedTextField
from app.models.exclusive import AssetKind, StorageStep
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    # 设置 > 专属钉钉 (guide section 2): 专属数据存储 set-up, login backgrounds and logo with history, 主题色.
    dependencies = [("models", "0004_api_tokens")]

    initial = False

    operations = [
        ops.CreateModel(
            name='ExclusiveAsset',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('org', fields.ForeignKeyField('models.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='exclusive_assets', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='PHONE_BACKGROUND: phone_background\nIPAD_BACKGROUND: ipad_background\nLOGO: logo', enum_type=AssetKind, max_length=24)),
                ('filename', fields.CharField(max_length=255)),
                ('image_format', fields.CharField(max_length=16)),
                ('width', fields.IntField()),
                ('height', fields.IntField()),
                ('size_bytes', fields.IntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('contrast', fields.FloatField(null=True)),
                ('data', fields.BinaryField()),
                ('preview', fields.BinaryField()),
                ('is_current', fields.BooleanField(default=True)),
                ('uploaded_by', fields.CharField(default='', max_length=64)),
                ('uploaded_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'exclusive_asset', 'app': 'models', 'indexes': [Index(fields=['org_id', 'kind', 'is_current'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ExclusiveLook',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('org', fields.OneToOneField('models.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='exclusive_look', on_delete=OnDelete.CASCADE)),
                ('theme_color', fields.CharField(default='#1677FF', max_length=7)),
                ('updated_by', fields.CharField(default='', max_length=64)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'exclusive_look', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ExclusiveStorage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('org', fields.OneToOneField('models.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='exclusive_storage', on_delete=OnDelete.CASCADE)),
                ('step', fields.CharEnumField(default=StorageStep.PURCHASE, description='PURCHASE: purchase\nSETTINGS: settings\nOPENED: opened', enum_type=StorageStep, max_length=16)),
                ('oss_url', fields.CharField(default='', max_length=255)),
                ('access_key_id', fields.CharField(default='', max_length=128)),
                ('access_key_secret', EncryptedTextField(default='', unique=False)),
                ('checked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('opened_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('open_status', fields.IntField(default=0)),
                ('storage_status', fields.IntField(default=0)),
                ('create_date', fields.CharField(default='', max_length=32)),
                ('used_quota', fields.BigIntField(default=0)),
                ('state_read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'exclusive_storage', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
