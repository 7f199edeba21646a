"""Security state that must survive a restart and be shared by replicas: login throttles and OIDC grants."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


# Failed logins per key: an (account, address) pair, an address, or an account; see app/services/login_throttle.py.
class LoginThrottle(Model):
    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=160, unique=True)
    failures = fields.IntField(default=0)
    first_failure_at = fields.DatetimeField(null=True)
    blocked_until = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "sec_login_throttle"


# An OIDC authorisation code or access token; only a SHA-256 of the value is stored, so a database copy grants nothing.
class OidcGrant(Model):
    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    kind = fields.CharField(max_length=8)  # "code" | "access"
    client_id = fields.CharField(max_length=128)
    redirect_uri = fields.CharField(max_length=512)
    claims = fields.JSONField(default=dict)
    code_challenge = fields.CharField(max_length=128, default="")
    expires_at = fields.DatetimeField(db_index=True)
    used = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sec_oidc_grant"
