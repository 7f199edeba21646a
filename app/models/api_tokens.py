"""Personal API tokens: how automation calls ``/api/v1/...`` as an admin without a browser session.

Only a SHA-256 hash of the token is stored (the token is shown once, at creation); ``prefix`` is its first
characters so an admin can tell tokens apart. A token has no permissions of its own: every call re-reads the
owner's current roles and org scope, so revoking a role or disabling the account takes effect at once.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ApiToken(Model):
    id = fields.IntField(primary_key=True)
    account = fields.ForeignKeyField("models.Account", related_name="api_tokens", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=64)
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    last_used_ip = fields.CharField(max_length=64, default="")
    revoked_at = fields.DatetimeField(null=True)
    revoked_by = fields.CharField(max_length=64, default="")

    class Meta:
        table = "api_token"
