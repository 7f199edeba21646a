"""The connector's own tables (Tortoise app ``connector``), kept in its own database.

Names follow the EKP component's tables (ekp.md 4.3/4.4): the mapping table, the todo and its per-person
targets, the push queue whose failed rows are the 钉钉集成异常信息, and the interface log.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from app.core.fields import EncryptedTextField


class Admin(Model):
    """An administrator of the connector's pages (the initial ``admin`` / ``1`` must change its password)."""

    id = fields.IntField(primary_key=True)
    login = fields.CharField(max_length=64, unique=True)
    password_hash = fields.CharField(max_length=255)
    must_change = fields.BooleanField(default=True)
    failed_logins = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "connector_admin"


class Binding(Model):
    """The single binding to a console (4.1), absent when not bound."""

    id = fields.IntField(primary_key=True)
    console_url = fields.CharField(max_length=512)
    identifier = fields.CharField(max_length=64)
    org_name = fields.CharField(max_length=128, default="")
    corp_id = fields.CharField(max_length=128)
    app_key = fields.CharField(max_length=128)
    app_secret = EncryptedTextField()
    agent_id = fields.CharField(max_length=32, default="")
    scan_app_id = fields.CharField(max_length=128, default="")
    scan_app_secret = EncryptedTextField(default="")
    auth_account = fields.CharField(max_length=64)
    auth_password = EncryptedTextField()
    notify_url = fields.CharField(max_length=512, default="")
    bound_at = fields.DatetimeField()
    dept_cursor = fields.BigIntField(default=0)
    person_cursor = fields.BigIntField(default=0)
    last_sync_at = fields.DatetimeField(null=True)
    last_sync_result = fields.CharField(max_length=500, default="")

    class Meta:
        table = "connector_binding"


class Setting(Model):
    """Key/value configuration (登录配置, 待办通知配置), defaults in services/options.py."""

    key = fields.CharField(max_length=64, primary_key=True)
    value = fields.TextField()

    class Meta:
        table = "connector_setting"


class DeptMapping(Model):
    """部门映射表: EKP dept fdId <-> DingTalk dept id, the name comes from DingTalk."""

    id = fields.IntField(primary_key=True)
    ekp_id = fields.CharField(max_length=128, unique=True)
    ding_id = fields.CharField(max_length=64, db_index=True)
    name = fields.CharField(max_length=128, default="")
    ding_status = fields.CharField(max_length=8, default="")  # "" not looked up yet, ok, missing (not in DingTalk)
    feed_time = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "connector_dept_mapping"


class PersonMapping(Model):
    """人员映射表: EKP person fdId / login name <-> DingTalk userid (and its unionId, needed by the v1.0 todo)."""

    id = fields.IntField(primary_key=True)
    ekp_id = fields.CharField(max_length=128, unique=True)
    login_name = fields.CharField(max_length=128, default="", db_index=True)
    mobile = fields.CharField(max_length=32, default="")
    ding_userid = fields.CharField(max_length=128, default="", db_index=True)
    union_id = fields.CharField(max_length=128, default="", db_index=True)
    name = fields.CharField(max_length=128, default="")
    ding_status = fields.CharField(max_length=8, default="")  # "" not looked up yet, ok, missing (not in DingTalk)
    feed_time = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "connector_person_mapping"


class Todo(Model):
    """One todo as the business system sent it, identity = appName+modelName+modelId+key+param1+param2."""

    id = fields.IntField(primary_key=True)
    identity = fields.CharField(max_length=64, unique=True)  # sha256 of the identity fields
    app_name = fields.CharField(max_length=128, default="")
    model_name = fields.CharField(max_length=255)
    model_id = fields.CharField(max_length=255)
    key = fields.CharField(max_length=255, default="")
    param1 = fields.CharField(max_length=255, default="")
    param2 = fields.CharField(max_length=255, default="")
    subject = fields.TextField()
    link = fields.TextField(default="")
    mobile_link = fields.TextField(default="")
    pad_link = fields.TextField(default="")
    type = fields.IntField(default=1)
    level = fields.IntField(default=3)
    create_time = fields.CharField(max_length=32, default="")
    creator = fields.CharField(max_length=255, default="")
    extend_content = fields.TextField(default="")
    deleted = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "connector_todo"


class TodoTarget(Model):
    """One recipient of a todo and what DingTalk holds for them."""

    id = fields.IntField(primary_key=True)
    todo = fields.ForeignKeyField("connector.Todo", related_name="targets", on_delete=fields.CASCADE)
    ref_type = fields.CharField(max_length=16)  # LoginName, Id, PersonNo ... as sent
    ref_value = fields.CharField(max_length=255)
    ekp_id = fields.CharField(max_length=128, default="", db_index=True)
    login_name = fields.CharField(max_length=128, default="", db_index=True)
    ding_userid = fields.CharField(max_length=128, default="")
    union_id = fields.CharField(max_length=128, default="")
    task_id = fields.CharField(max_length=128, default="")  # v1.0 todo task id
    record_id = fields.CharField(max_length=128, default="")  # legacy work record id
    notified = fields.BooleanField(default=False)
    notice_task_id = fields.BigIntField(null=True)  # the work notification that reached this person
    state = fields.CharField(max_length=8, default="open")  # open / done / removed
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "connector_todo_target"
        unique_together = (("todo", "ref_type", "ref_value"),)


class PushJob(Model):
    """The durable push queue. A job that failed stays with its error: these rows are 钉钉集成异常信息 (4.4)."""

    id = fields.IntField(primary_key=True)
    todo = fields.ForeignKeyField("connector.Todo", related_name="jobs", on_delete=fields.CASCADE)
    target = fields.ForeignKeyField("connector.TodoTarget", related_name="jobs", null=True, on_delete=fields.CASCADE)
    action = fields.CharField(max_length=16)  # send / done / remove / update / notify
    method = fields.CharField(max_length=32)  # the todo API method that caused it (sendTodo ...)
    subject = fields.TextField(default="")
    recipient = fields.CharField(max_length=255, default="")
    state = fields.CharField(max_length=8, default="pending", db_index=True)  # pending/done/error/ignored/failed
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "connector_push_job"


class InterfaceLog(Model):
    """接口日志 (4.3): one row per DingTalk call made and per todo/SSO call received."""

    id = fields.IntField(primary_key=True)
    function = fields.CharField(max_length=16, db_index=True)  # 待办 / 单点登录 / 组织架构 / 钉钉集成
    interface = fields.CharField(max_length=64)
    request = fields.TextField(default="")
    sent_at = fields.DatetimeField(db_index=True)
    response = fields.TextField(default="")
    returned_at = fields.DatetimeField(null=True)
    ok = fields.BooleanField(default=True)

    class Meta:
        table = "connector_interface_log"


class LoginTicket(Model):
    """A one-time login ticket handed to the business system (stored hashed, redeemed once)."""

    id = fields.IntField(primary_key=True)
    digest = fields.CharField(max_length=64, unique=True)
    login_name = fields.CharField(max_length=128)
    ekp_id = fields.CharField(max_length=128, default="")
    ding_userid = fields.CharField(max_length=128, default="")
    name = fields.CharField(max_length=128, default="")
    flow = fields.CharField(max_length=16)  # free / sns / oauth2
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "connector_login_ticket"


class AuditEntry(Model):
    """操作日志: every write an administrator makes on the connector's pages (kept, not cleaned with the logs)."""

    id = fields.IntField(primary_key=True)
    actor = fields.CharField(max_length=64)
    action = fields.CharField(max_length=64)
    detail = fields.JSONField(default=dict)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "connector_audit"
