"""Access systems (接入系统) that bind to an org, and the durable outbox of their change notifications."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from app.core.fields import EncryptedTextField


class AccessSystem(Model):
    id = fields.IntField(primary_key=True)
    org = fields.ForeignKeyField("models.Org", related_name="access_systems", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=64)
    identifier = fields.CharField(max_length=64, unique=True)  # 接入标识
    auth_account = fields.CharField(max_length=64, unique=True)  # 认证账号
    auth_password = EncryptedTextField()  # 认证密码
    scan_appid = fields.CharField(max_length=64, default="")
    scan_appsecret = EncryptedTextField(default="")
    notify_url = fields.CharField(max_length=512, default="")  # 接收通知接口, written by the business system
    identifier_used = fields.BooleanField(default=False)
    ip_allowlist = fields.TextField(default="")  # comma/newline separated IPs or CIDRs; empty = any address
    bound_at = fields.DatetimeField(null=True)
    bound_ip = fields.CharField(max_length=64, default="")
    last_pull_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "access_system"


class Notification(Model):
    id = fields.IntField(primary_key=True)
    system = fields.ForeignKeyField("models.AccessSystem", related_name="notifications", on_delete=fields.CASCADE)
    event_type = fields.CharField(max_length=32)
    payload = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    delivered_at = fields.DatetimeField(null=True)
    failed_at = fields.DatetimeField(null=True)  # gave up after the last retry; 重新发送 re-arms it
    last_attempt_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")

    class Meta:
        table = "access_notification"


# Tombstones outlive the longest catch-up a business system may make with an old cursor (docs/integration.md).
TOMBSTONE_DAYS = 90


class FeedTombstone(Model):
    """An object that left DingTalk (deleted there, or removed for good): the mapping feed keeps telling business
    systems to drop it (dingIsDel) for ``TOMBSTONE_DAYS``, after the row itself has lost its DingTalk id."""

    id = fields.IntField(primary_key=True)
    org = fields.ForeignKeyField("models.Org", related_name="feed_tombstones", on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=8, default="person")  # person | dept
    ding_id = fields.CharField(max_length=64)
    business_id = fields.CharField(max_length=64)
    login_name = fields.CharField(max_length=64, null=True)
    mobile = fields.CharField(max_length=32, null=True)
    feed_time = fields.BigIntField(db_index=True)

    class Meta:
        table = "access_feed_tombstone"
