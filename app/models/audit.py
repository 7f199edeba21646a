"""The audit log. Org and account are copied as plain values so entries outlive a dissolved org or account."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class AuditLog(Model):
    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    account_id = fields.IntField(null=True)
    account_login = fields.CharField(max_length=64, default="")
    org_id = fields.IntField(null=True, db_index=True)
    org_name = fields.CharField(max_length=128, default="")
    action = fields.CharField(max_length=64)
    object_type = fields.CharField(max_length=32, default="")
    object_id = fields.CharField(max_length=64, default="")
    object_name = fields.CharField(max_length=255, default="")
    before = fields.JSONField(null=True)
    after = fields.JSONField(null=True)
    ip = fields.CharField(max_length=64, default="")
    detail = fields.TextField(default="")

    class Meta:
        table = "audit_log"
