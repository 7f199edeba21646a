"""Sync settings, runs, per-object entries, the callback inbox and the scheduling lease."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from app.core.fields import EncryptedTextField


class RunTrigger(StrEnum):
    AUTO = "auto"  # 自动同步
    MANUAL = "manual"  # 手动同步


class RunKind(StrEnum):
    INCREMENTAL = "incremental"  # 增量
    FULL = "full"  # 全量


class RunResult(StrEnum):
    RUNNING = "running"
    SUCCESS = "success"  # 成功
    WARNING = "warning"  # 警告
    FAILED = "failed"  # 失败


class SyncSettings(Model):
    id = fields.IntField(primary_key=True)
    org = fields.OneToOneField("models.Org", related_name="sync_settings", on_delete=fields.CASCADE)
    cron = fields.CharField(max_length=64, default="0 */2 * * *")
    delete_threshold = fields.IntField(default=20)  # percent; 100 = no limit
    source_enabled = fields.BooleanField(default=False)
    source_type = fields.CharField(max_length=16, default="EKP")
    source_name = fields.CharField(max_length=64, default="")
    source_url = fields.CharField(max_length=255, default="")
    source_user = fields.CharField(max_length=64, default="")
    source_password = EncryptedTextField(default="")
    source_transport = fields.CharField(max_length=8, default="rest")
    cursors = fields.JSONField(default=dict)
    # A run stopped by the delete threshold that an org admin approved: the next run performs its removals.
    approved_run_id = fields.IntField(null=True)
    # Removals an admin refused (拒绝) on a threshold-blocked run: {"person": [ids], "dept": [ids]}; runs keep them.
    kept_removals = fields.JSONField(default=dict, db_default={})
    # A full run that compares every object with what DingTalk holds, at most this many days apart (0 = never).
    reconcile_days = fields.IntField(default=7, db_default=7)
    # Source-health guard: a full read with more than this percent fewer active people or departments than we
    # hold from the source means the source is broken; the run changes nothing (100 = off).
    source_drop_guard = fields.IntField(default=20, db_default=20)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "sync_settings"


class SyncRun(Model):
    id = fields.IntField(primary_key=True)
    org = fields.ForeignKeyField("models.Org", related_name="sync_runs", on_delete=fields.CASCADE)
    started_at = fields.DatetimeField(auto_now_add=True)
    ended_at = fields.DatetimeField(null=True)
    trigger = fields.CharEnumField(RunTrigger, max_length=8)
    kind = fields.CharEnumField(RunKind, max_length=12)
    result = fields.CharEnumField(RunResult, max_length=8, default=RunResult.RUNNING)
    stage = fields.CharField(max_length=32, default="")
    progress_done = fields.IntField(default=0)
    progress_total = fields.IntField(default=0)
    summary = fields.TextField(default="")
    counters = fields.JSONField(default=dict)
    error = fields.TextField(default="")
    threshold_blocked = fields.BooleanField(default=False)
    approved_by = fields.CharField(max_length=64, default="")
    # What the threshold held back: [{kind, id, name, ding_id, source_id, why}], listed on the run's log page.
    pending_removals = fields.JSONField(default=list, db_default=[])
    decision = fields.CharField(max_length=16, default="", db_default="")  # approved | rejected, once an admin decided

    class Meta:
        table = "sync_run"


class SyncEntry(Model):
    id = fields.IntField(primary_key=True)
    run = fields.ForeignKeyField("models.SyncRun", related_name="entries", on_delete=fields.CASCADE)
    at = fields.DatetimeField(auto_now_add=True)
    stage = fields.CharField(max_length=16)
    action = fields.CharField(max_length=16)
    object_type = fields.CharField(max_length=8)
    object_name = fields.CharField(max_length=128, default="")
    local_id = fields.IntField(null=True)
    ding_id = fields.CharField(max_length=64, default="")
    source_id = fields.CharField(max_length=64, default="")
    ok = fields.BooleanField(default=True)
    error_code = fields.CharField(max_length=16, default="")
    message = fields.TextField(default="")

    class Meta:
        table = "sync_entry"


# Inbox of DingTalk callbacks: stored and acknowledged at once, applied afterwards.
class CallbackEvent(Model):
    id = fields.IntField(primary_key=True)
    org = fields.ForeignKeyField("models.Org", related_name="callback_events", on_delete=fields.CASCADE)
    event_type = fields.CharField(max_length=64)
    payload = fields.JSONField()
    dedup_key = fields.CharField(max_length=128, unique=True)
    received_at = fields.DatetimeField(auto_now_add=True)
    processed_at = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default="")

    class Meta:
        table = "callback_event"


# Who runs an org's scheduled jobs when several replicas share one database.
class Lease(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=128, unique=True)
    holder = fields.CharField(max_length=128)
    expires_at = fields.DatetimeField()
    # Who holds it (machine and process id) and when the holder last said it is alive: a dead holder's lease is
    # taken over at once by its own restarted process and within ``lease.STALE`` by anyone else.
    host = fields.CharField(max_length=128, default="")
    pid = fields.IntField(default=0)
    heartbeat_at = fields.DatetimeField(null=True)

    class Meta:
        table = "lease"


# Every running process writes its row every few seconds: the health check's proof that the database accepts a
# write, and a record of which processes are alive.
class ProcessHeartbeat(Model):
    id = fields.IntField(primary_key=True)
    holder = fields.CharField(max_length=128, unique=True)
    host = fields.CharField(max_length=128, default="")
    pid = fields.IntField(default=0)
    started_at = fields.DatetimeField(auto_now_add=True)
    beat_at = fields.DatetimeField()

    class Meta:
        table = "process_heartbeat"
