"""The contacts directory: departments (a tree with a materialised id path) and people.

``path`` ("/1/5/23/") makes "this department and everything below it" one indexed prefix query, which is what
department-admin scoping, member counts and the delete check need on trees of 10,000 departments.
``needs_push`` and ``pushed_hash`` drive the push to DingTalk; ``feed_time`` (ms) orders the mapping feed that
business systems read.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from app.core import pinyin


class HideMode(StrEnum):
    OFF = "off"  # 关闭
    ALL = "all"  # 向所有部门/人员隐藏
    SOME = "some"  # 指定部分部门/人员可见


class RestrictMode(StrEnum):
    OFF = "off"  # 关闭
    NONE = "none"  # 不能查看所有通讯录
    SELF = "self"  # 只能查看所在部门及下级部门/人员通讯录
    SOME = "some"  # 只能查看指定部分部门/人员通讯录


class SortedByName:
    """Keeps ``name_sort`` (the pinyin key of ``name``, app/core/pinyin.py) right on every ORM write: ``save`` (and
    so ``create``), ``bulk_create`` and ``bulk_update``. The sync's plain-SQL writes get it from app/sync/bulk.py
    (``DERIVED``). Lists then order by pinyin in the database, page by page."""

    DERIVED = {"name_sort": ("name", pinyin.sort_key)}

    async def save(self, *args: Any, update_fields: Iterable[str] | None = None, **kwargs: Any) -> None:
        self.name_sort = pinyin.sort_key(self.name)
        if update_fields is not None:
            update_fields = list(update_fields)
            if "name" in update_fields and "name_sort" not in update_fields:
                update_fields.append("name_sort")
        await super().save(*args, update_fields=update_fields, **kwargs)  # type: ignore[misc]

    @classmethod
    def bulk_create(cls, objects: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        objects = list(objects)
        for obj in objects:
            obj.name_sort = pinyin.sort_key(obj.name)
        return super().bulk_create(objects, *args, **kwargs)  # type: ignore[misc]

    @classmethod
    def bulk_update(cls, objects: Iterable[Any], fields: Iterable[str], *args: Any, **kwargs: Any) -> Any:
        objects, fields = list(objects), list(fields)
        if "name" in fields and "name_sort" not in fields:
            for obj in objects:
                obj.name_sort = pinyin.sort_key(obj.name)
            fields.append("name_sort")
        return super().bulk_update(objects, fields, *args, **kwargs)  # type: ignore[misc]


class Department(SortedByName, Model):
    id = fields.IntField(primary_key=True)
    org = fields.ForeignKeyField("models.Org", related_name="departments", on_delete=fields.CASCADE)
    parent = fields.ForeignKeyField("models.Department", related_name="children", null=True, on_delete=fields.RESTRICT)
    name = fields.CharField(max_length=64)
    name_sort = fields.CharField(max_length=pinyin.MAX_LENGTH, default="", db_default="")  # SortedByName
    order = fields.BigIntField(default=0)
    path = fields.CharField(max_length=1024, db_index=True)
    depth = fields.IntField(default=0)
    manager_ids = fields.JSONField(default=list)  # 部门主管 (person ids)
    admin_ids = fields.JSONField(default=list)  # 部门管理员 (person ids)
    create_group = fields.BooleanField(default=False)
    group_chat_id = fields.CharField(max_length=64, default="")
    group_owner_id = fields.IntField(null=True)
    group_include_sub = fields.BooleanField(default=False)
    hide_mode = fields.CharEnumField(HideMode, max_length=8, default=HideMode.OFF)
    hide_visible_person_ids = fields.JSONField(default=list)
    hide_visible_dept_ids = fields.JSONField(default=list)
    restrict_mode = fields.CharEnumField(RestrictMode, max_length=8, default=RestrictMode.OFF)
    restrict_person_ids = fields.JSONField(default=list)
    restrict_dept_ids = fields.JSONField(default=list)
    source_id = fields.CharField(max_length=64, null=True)
    ding_id = fields.BigIntField(null=True)
    is_deleted = fields.BooleanField(default=False)  # tombstone until DingTalk has the delete
    needs_push = fields.BooleanField(default=True, db_index=True)
    pushed_hash = fields.CharField(max_length=64, default="")
    feed_time = fields.BigIntField(default=0, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "department"
        unique_together = (("org", "source_id"), ("org", "ding_id"))
        # Children of one node (lazy tree) and subtree scans by path prefix within one org.
        indexes = (("org_id", "parent_id", "is_deleted"), ("org_id", "path"))


class Person(SortedByName, Model):
    id = fields.IntField(primary_key=True)
    org = fields.ForeignKeyField("models.Org", related_name="people", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=64)
    name_sort = fields.CharField(max_length=pinyin.MAX_LENGTH, default="", db_default="")  # SortedByName
    avatar_url = fields.CharField(max_length=512, default="")
    main_dept = fields.ForeignKeyField("models.Department", related_name="main_people", on_delete=fields.RESTRICT)
    other_depts: fields.ManyToManyRelation[Department] = fields.ManyToManyField(
        "models.Department", related_name="other_people", through="person_other_dept"
    )
    login_name = fields.CharField(max_length=64, null=True)
    mobile = fields.CharField(max_length=32, null=True)
    hide_mobile = fields.BooleanField(default=False)
    senior_mode = fields.BooleanField(default=False)  # 高管模式
    email = fields.CharField(max_length=128, default="")
    job_number = fields.CharField(max_length=64, default="")
    title = fields.CharField(max_length=64, default="")
    telephone = fields.CharField(max_length=50, default="", db_default="")  # 分机号 (EKP workPhone)
    is_active = fields.BooleanField(default=True)
    source_id = fields.CharField(max_length=64, null=True)
    ding_userid = fields.CharField(max_length=64, null=True)
    unionid = fields.CharField(max_length=64, null=True)
    needs_push = fields.BooleanField(default=True, db_index=True)
    pushed_hash = fields.CharField(max_length=64, default="")
    # Fields DingTalk refused to take (e.g. 40022 for the mobile of a user who joined): field -> {local, ding,
    # code}. LanDing keeps its value; callbacks and pulls leave the field alone until an admin resolves it.
    sync_conflicts = fields.JSONField(default=dict, db_default={})
    feed_time = fields.BigIntField(default=0, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "person"
        unique_together = (("org", "mobile"), ("org", "login_name"), ("org", "source_id"), ("org", "ding_userid"))
        # Members of one department (paged list, delete check) and per-department counts of one org in one
        # covering index scan (the GROUP BY behind the tree's member counts).
        indexes = (("main_dept_id", "is_active", "name_sort"), ("org_id", "is_active", "main_dept_id"))
