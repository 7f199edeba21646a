"""Exports admins ask for: the contacts of a department subtree and the audit log, as xlsx or csv.

An export runs as a background task that reads the database a batch at a time and writes the file as it goes
(openpyxl's write-only mode, plain ``csv``), so memory stays bounded, the page keeps answering and shows progress.
The file lands under ``<data_dir>/exports`` and only the admin who started it may fetch it; files older than a day
are removed when the next export starts.

Permissions are the services' own: contacts exports go through the admin's contacts scope (a department admin only
gets their subtrees), the audit export through the audit page's filter. Mobile numbers are shown in full to admins
of the whole org; a department admin's export masks them (``138****0000``), and people marked 隐藏手机号 are masked
for everyone but org-wide admins.
"""

from __future__ import annotations

import asyncio
import csv
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from tortoise.expressions import Q

from app.core import localtime
from app.core.config import get_settings
from app.core.tasks import TaskRegistry
from app.models.contacts import Department, Person
from app.models.tree import subtree_range_q
from app.services import audit
from app.services.contacts.scope import get_dept, person_scope_q, resolve
from app.services.errors import NotFound, ValidationFailed
from app.services.permissions import Actor

log = logging.getLogger(__name__)

Format = Literal["xlsx", "csv"]
FORMATS: tuple[Format, ...] = ("xlsx", "csv")
BATCH = 500
KEEP_SECONDS = 24 * 3600
MAX_JOBS_PER_ACCOUNT = 3

CONTACT_COLUMNS = ("姓名", "主部门", "其他部门", "登录名", "手机号", "工号", "职位", "邮箱", "状态")
AUDIT_COLUMNS = ("时间", "操作人", "组织", "操作", "对象", "来源IP", "说明", "修改前", "修改后")


@dataclass
class ExportJob:
    id: str
    account_id: int
    title: str
    filename: str
    path: Path
    total: int = 0
    done: int = 0
    state: Literal["running", "done", "failed"] = "running"
    error: str = ""
    started: float = field(default_factory=time.time)
    task: asyncio.Task | None = field(default=None, repr=False)

    @property
    def percent(self) -> int:
        return 100 if self.state == "done" else int(self.done * 100 / self.total) if self.total else 0


_jobs: dict[str, ExportJob] = {}


def mask_mobile(mobile: str) -> str:
    """``13800001234`` -> ``138****1234``; short or foreign numbers keep only their last four digits."""
    text = mobile or ""
    if len(text) >= 11:
        return f"{text[:-8]}****{text[-4:]}"
    return ("*" * max(0, len(text) - 4)) + text[-4:] if text else ""


def finished(job_id: str) -> ExportJob | None:
    """The finished export behind a download link, or None (unknown, expired, failed or still running)."""
    job = _jobs.get(job_id)
    if job is None or job.state != "done" or not job.path.is_file():
        return None
    return job


MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def job_of(actor: Actor, job_id: str) -> ExportJob:
    job = _jobs.get(job_id)
    if job is None or job.account_id != actor.account_id:
        raise NotFound("导出任务不存在或已过期")
    return job


# -- writers --------------------------------------------------------------------------------------------------------


class _Writer:
    def __init__(self, path: Path, fmt: Format, title: str, header: tuple[str, ...]) -> None:
        self.path, self.fmt = path, fmt
        if fmt == "csv":
            # utf-8-sig: Excel opens Chinese csv files correctly only with the BOM.
            self._file = path.open("w", encoding="utf-8-sig", newline="")
            self._csv = csv.writer(self._file)
            self._csv.writerow(header)
        else:
            from openpyxl import Workbook

            self._book = Workbook(write_only=True)
            self._sheet = self._book.create_sheet(title[:31])
            self._sheet.append(list(header))

    def rows(self, rows: list[list[Any]]) -> None:
        if self.fmt == "csv":
            self._csv.writerows(rows)
        else:
            for row in rows:
                self._sheet.append([_cell(v) for v in row])

    def close(self) -> None:
        if self.fmt == "csv":
            self._file.close()
        else:
            self._book.save(self.path)


def _cell(value: Any) -> Any:
    # A text cell starting with = + - @ would be a formula in a spreadsheet: keep it text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


# -- jobs -------------------------------------------------------------------------------------------------------------


def _folder() -> Path:
    folder = get_settings().data_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in folder.iterdir():
        if old.is_file() and now - old.stat().st_mtime > KEEP_SECONDS:
            old.unlink(missing_ok=True)
    return folder


def _start(
    actor: Actor,
    fmt: str,
    title: str,
    header: tuple[str, ...],
    total: int,
    batches: Callable[[], AsyncIterator[list[list[Any]]]],
    tasks: TaskRegistry,
) -> ExportJob:
    if fmt not in FORMATS:
        raise ValidationFailed("导出格式只能是 xlsx 或 csv", field="format")
    running = [j for j in _jobs.values() if j.account_id == actor.account_id and j.state == "running"]
    if len(running) >= MAX_JOBS_PER_ACCOUNT:
        raise ValidationFailed("已有导出正在进行，请等待完成后再试", field="format")
    job_id = secrets.token_urlsafe(24)  # also the download link's only key: unguessable, gone after a day
    filename = f"{title}-{localtime.file_stamp()}.{fmt}"
    job = ExportJob(job_id, actor.account_id, title, filename, _folder() / f"{job_id}.{fmt}", total=total)

    async def run() -> None:
        writer = _Writer(job.path, fmt, title, header)  # type: ignore[arg-type]
        try:
            async for rows in batches():
                writer.rows(rows)
                job.done += len(rows)
                await asyncio.sleep(0)  # let pages answer between batches
            job.total = max(job.total, job.done)
            writer.close()
            job.state = "done"
        except Exception as exc:  # the page shows the failure; the log keeps the details
            log.exception("export %s (%s) failed", job.id, title)
            job.state, job.error = "failed", f"导出失败：{exc.__class__.__name__}"
            job.path.unlink(missing_ok=True)

    job.task = tasks.spawn(f"export-{job_id}", run())  # shutdown cancels it with every other task
    _jobs[job_id] = job
    for stale in [k for k, j in _jobs.items() if time.time() - j.started > KEEP_SECONDS]:
        _jobs.pop(stale, None)
    return job


async def start_contacts_export(
    actor: Actor, org_id: int | None, dept_id: int, fmt: str, *, tasks: TaskRegistry
) -> ExportJob:
    """Everyone whose main or other department lies in the subtree of ``dept_id`` (within the admin's scope)."""
    scope = await resolve(actor, org_id)
    root = await get_dept(scope, dept_id)
    full_mobiles = scope.whole_org
    names = await _dept_paths(scope.org_id)
    in_subtree = subtree_range_q(root.path, "main_dept__path") | subtree_range_q(root.path, "other_depts__path")
    query = Person.filter(person_scope_q(scope) & Q(org_id=scope.org_id) & in_subtree).distinct()
    total = await query.count()

    async def batches() -> AsyncIterator[list[list[Any]]]:
        last = 0
        while True:
            ids = list(await query.filter(id__gt=last).order_by("id").limit(BATCH).values_list("id", flat=True))
            if not ids:
                return
            last = ids[-1]
            people = await Person.filter(id__in=ids).order_by("id").prefetch_related("other_depts")
            yield [_person_row(p, names, full_mobiles) for p in people]

    return _start(actor, fmt, f"通讯录-{root.name}", CONTACT_COLUMNS, total, batches, tasks)


async def _dept_paths(org_id: int) -> dict[int, str]:
    """Department id -> "总部/研发部/后端组" for every live department of the org."""
    rows = await Department.filter(org_id=org_id, is_deleted=False).values_list("id", "name", "path")
    name_of = {int(i): str(n) for i, n, _ in rows}
    return {
        int(i): "/".join(name_of.get(int(part), "") for part in str(p).strip("/").split("/") if part.isdigit())
        for i, _, p in rows
    }


def _person_row(p: Person, names: dict[int, str], full_mobiles: bool) -> list[Any]:
    mobile = p.mobile or ""
    if mobile and (not full_mobiles):
        mobile = mask_mobile(mobile)
    others = "；".join(names.get(d.id, d.name) for d in p.other_depts if not d.is_deleted)
    return [
        p.name,
        names.get(p.main_dept_id, ""),
        others,
        p.login_name or "",
        mobile,
        p.job_number,
        p.title,
        p.email,
        "有效" if p.is_active else "无效",
    ]


async def start_audit_export(
    actor: Actor,
    fmt: str,
    *,
    keyword: str = "",
    action: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    tasks: TaskRegistry,
) -> ExportJob:
    query = audit.filtered(actor, keyword=keyword, action=action, since=since, until=until)
    total = await query.count()

    async def batches() -> AsyncIterator[list[list[Any]]]:
        before = None
        while True:
            page = query.filter(id__lt=before) if before is not None else query
            rows = await page.order_by("-id").limit(BATCH)
            if not rows:
                return
            before = rows[-1].id
            yield [
                [
                    localtime.fmt(r.at),
                    r.account_login,
                    r.org_name,
                    audit.action_label(r.action),
                    r.object_name or r.object_id,
                    r.ip,
                    r.detail,
                    json.dumps(r.before, ensure_ascii=False) if r.before else "",
                    json.dumps(r.after, ensure_ascii=False) if r.after else "",
                ]
                for r in rows
            ]

    return _start(actor, fmt, "审计日志", AUDIT_COLUMNS, total, batches, tasks)
