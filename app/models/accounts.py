"""Login accounts and the roles they hold (one account may hold roles in several organisations)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    SUPER_ADMIN = "super_admin"
    ORG_ADMIN = "org_admin"
    SUB_ADMIN = "sub_admin"
    DEPT_ADMIN = "dept_admin"


class Account(Model):
    id = fields.IntField(primary_key=True)
    login = fields.CharField(max_length=64, unique=True)
    display_name = fields.CharField(max_length=64, default="")
    password_hash = fields.CharField(max_length=255)
    must_change_password = fields.BooleanField(default=True)
    failed_attempts = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    is_active = fields.BooleanField(default=True)
    # Bumped to end every open session of the account (logout, password change or reset, role removal ...).
    session_epoch = fields.IntField(default=0)
    last_login_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    grants: fields.ReverseRelation[RoleGrant]

    class Meta:
        table = "account"


# One role of one account; ``org`` is empty for the super admin, ``dept_ids`` scopes a department admin.
class RoleGrant(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="grants", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(Role, max_length=16)
    org = fields.ForeignKeyField("models.Org", related_name="grants", null=True, on_delete=fields.CASCADE)
    person = fields.ForeignKeyField("models.Person", related_name="grants", null=True, on_delete=fields.SET_NULL)
    dept_ids = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "role_grant"
        unique_together = (("account", "role", "org"),)
