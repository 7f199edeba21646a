"""What system initialisation imports (guide 3.2.1): roles, permissions, menus, parameters, jobs, dictionaries."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from app.core.fields import EncryptedTextField


class RoleDef(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=32)
    level = fields.IntField()
    description = fields.CharField(max_length=255, default="")

    class Meta:
        table = "sys_role"


class PermissionDef(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=64)
    group = fields.CharField(max_length=32)

    class Meta:
        table = "sys_permission"


class RolePermission(Model):
    id = fields.IntField(primary_key=True)
    role_code = fields.CharField(max_length=32)
    permission_code = fields.CharField(max_length=64)

    class Meta:
        table = "sys_role_permission"
        unique_together = (("role_code", "permission_code"),)


class MenuItem(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    section = fields.CharField(max_length=32)
    label = fields.CharField(max_length=64)
    path = fields.CharField(max_length=128)
    permission_code = fields.CharField(max_length=64)
    sort = fields.IntField(default=0)

    class Meta:
        table = "sys_menu"


class SystemParam(Model):
    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=64, unique=True)
    label = fields.CharField(max_length=64, default="")
    value = fields.JSONField(null=True)  # {"value": ...}: a bare JSON string would be read back as JSON text
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "sys_param"


class ScheduledJob(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=64)
    cron = fields.CharField(max_length=64)
    enabled = fields.BooleanField(default=True)

    class Meta:
        table = "sys_job"


class DictEntry(Model):
    id = fields.IntField(primary_key=True)
    dict_type = fields.CharField(max_length=32)
    code = fields.CharField(max_length=64)
    label = fields.CharField(max_length=255)
    sort = fields.IntField(default=0)

    class Meta:
        table = "sys_dict"
        unique_together = (("dict_type", "code"),)


# One run of system initialisation: who ran it, when, and the per-item result.
class InitRun(Model):
    id = fields.IntField(primary_key=True)
    ran_at = fields.DatetimeField(auto_now_add=True)
    account_login = fields.CharField(max_length=64)
    items = fields.JSONField(default=list)

    class Meta:
        table = "sys_init_run"


# Keys of the OpenID Connect identity provider (domain-account login); the private key is encrypted.
class SigningKey(Model):
    id = fields.IntField(primary_key=True)
    kid = fields.CharField(max_length=64, unique=True)
    private_pem = EncryptedTextField()
    public_jwk = fields.JSONField()
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sys_signing_key"
