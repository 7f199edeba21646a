"""专属钉钉 settings kept per organisation (guide section 2).

``ExclusiveStorage``: the 专属数据存储 set-up (bucket, AccessKey; the secret encrypted at rest) and the last state
DingTalk reported, so the page can show it even while DingTalk is unreachable. ``ExclusiveAsset``: every login
background and logo an admin uploaded, kept as history (``is_current`` marks the one in use); ``ExclusiveLook``
holds the 主题色. The files themselves live in the database so every replica serves the same set.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from app.core.fields import EncryptedTextField


class StorageStep(StrEnum):
    PURCHASE = "purchase"  # 第一步：购买阿里云存储服务
    SETTINGS = "settings"  # 第二步：完成数据专属存储设置
    OPENED = "opened"  # 第三步：开启数据存储服务 (the check passed and DingTalk switched it on)


class AssetKind(StrEnum):
    PHONE_BACKGROUND = "phone_background"
    IPAD_BACKGROUND = "ipad_background"
    LOGO = "logo"


class ExclusiveStorage(Model):
    id = fields.IntField(primary_key=True)
    org: fields.OneToOneRelation = fields.OneToOneField(
        "models.Org", related_name="exclusive_storage", on_delete=fields.CASCADE
    )
    step = fields.CharEnumField(StorageStep, max_length=16, default=StorageStep.PURCHASE)
    oss_url = fields.CharField(max_length=255, default="")
    access_key_id = fields.CharField(max_length=128, default="")
    access_key_secret = EncryptedTextField(default="")
    checked_at = fields.DatetimeField(null=True)
    opened_at = fields.DatetimeField(null=True)
    open_status = fields.IntField(default=0)  # DingTalk's fileStorageOpenStatus, as last read
    storage_status = fields.IntField(default=0)  # DingTalk's storageStatus, as last read
    create_date = fields.CharField(max_length=32, default="")  # DingTalk's createDate text
    used_quota = fields.BigIntField(default=0)  # bytes
    state_read_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "exclusive_storage"


class ExclusiveAsset(Model):
    id = fields.IntField(primary_key=True)
    org: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Org", related_name="exclusive_assets", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(AssetKind, max_length=24)
    filename = fields.CharField(max_length=255)
    image_format = fields.CharField(max_length=16)  # PNG / JPEG, as decoded
    width = fields.IntField()
    height = fields.IntField()
    size_bytes = fields.IntField()
    sha256 = fields.CharField(max_length=64)
    contrast = fields.FloatField(null=True)  # white text on this background (WCAG ratio); None for logos
    data = fields.BinaryField()
    preview = fields.BinaryField()  # a small rendering for the page, made once at upload
    is_current = fields.BooleanField(default=True)
    uploaded_by = fields.CharField(max_length=64, default="")
    uploaded_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "exclusive_asset"
        indexes = (("org_id", "kind", "is_current"),)


class ExclusiveLook(Model):
    id = fields.IntField(primary_key=True)
    org: fields.OneToOneRelation = fields.OneToOneField(
        "models.Org", related_name="exclusive_look", on_delete=fields.CASCADE
    )
    theme_color = fields.CharField(max_length=7, default="#1677FF")
    updated_by = fields.CharField(max_length=64, default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "exclusive_look"
