"""The company and its DingTalk organisations."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from app.core.fields import EncryptedTextField


class CallbackStatus(StrEnum):
    NONE = "none"  # no callback domain: DingTalk will not notify us
    SUCCESS = "success"
    FAILED = "failed"


class BaselineStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Company(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=128)
    domain = fields.CharField(max_length=128)  # 公司标识: the domain registered with DingTalk
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "company"


class Org(Model):
    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="orgs", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=128)
    is_main = fields.BooleanField(default=False)
    corpid = fields.CharField(max_length=64, unique=True)
    appkey = fields.CharField(max_length=64, unique=True)
    appsecret = EncryptedTextField()
    agent_id = fields.CharField(max_length=32, null=True, unique=True)
    callback_domain = fields.CharField(max_length=255, default="")
    aes_key = EncryptedTextField()
    callback_token = EncryptedTextField()
    callback_status = fields.CharEnumField(CallbackStatus, max_length=16, default=CallbackStatus.NONE)
    callback_error = fields.TextField(default="")
    # A plain id, not a foreign key: Org -> Person -> Org would be a cycle that migrations cannot order.
    main_admin_id = fields.IntField(null=True)
    baseline_status = fields.CharEnumField(BaselineStatus, max_length=16, default=BaselineStatus.PENDING)
    baseline_message = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "org"

    @property
    def callback_url(self) -> str:
        if not self.callback_domain:
            return ""
        return f"{self.callback_domain.rstrip('/')}/api/ding_console/contacts/callback?corpid={self.corpid}"
