"""Proof that the database accepts writes, for ``/healthz``: every process writes its heartbeat row every few
seconds in the background, and the health check answers from the last result at once.

A full disk, a read-only data folder or a database that stopped answering turn ``/healthz`` into a 503 with the
reason within ``INTERVAL`` seconds, without making the health check itself wait on the database (under load it
must stay fast). A process without the background writer (tests, tools) checks with one write inline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app import runtime
from app.models.sync import ProcessHeartbeat
from app.sync import lease

log = logging.getLogger(__name__)

INTERVAL = 5.0
SILENT_AFTER = 20.0  # no successful write for this long: the database is not answering
MIN_FREE_BYTES = 1024 * 1024  # below this, the next write may fail at any moment
FORGET_AFTER = timedelta(days=1)


@dataclass
class Beat:
    ok: bool
    at: float  # monotonic time of the attempt
    reason: str = ""


_last: Beat | None = None
_last_ok_at: float | None = None


async def beat() -> Beat:
    """Write this process's heartbeat row; remember and return the outcome."""
    global _last, _last_ok_at
    now = datetime.now(UTC)
    try:
        updated = await ProcessHeartbeat.filter(holder=lease.HOLDER).update(beat_at=now)
        if not updated:
            await ProcessHeartbeat.create(holder=lease.HOLDER, host=lease.HOST, pid=lease.PID, beat_at=now)
    except Exception as exc:
        log.warning("database write check failed: %s", exc)
        _last = Beat(False, time.monotonic(), _reason(exc))
        return _last
    _last = Beat(True, time.monotonic())
    _last_ok_at = _last.at
    return _last


def _reason(exc: Exception) -> str:
    text = str(exc).lower()
    if "full" in text or "no space" in text:
        return "数据库无法写入：磁盘已满"
    if "readonly" in text or "read-only" in text or "read only" in text:
        return "数据库无法写入：数据库或数据目录只读"
    return f"数据库无法写入：{exc.__class__.__name__}"


def folder_problem(folder: Path) -> str:
    """A reason when the data folder cannot take writes (checked on every health request: two system calls)."""
    try:
        if not os.access(folder, os.W_OK):
            return f"数据目录 {folder} 只读"
        if shutil.disk_usage(folder).free < MIN_FREE_BYTES:
            return f"数据目录 {folder} 所在磁盘已满（剩余不足 {MIN_FREE_BYTES // (1024 * 1024)} MB）"
    except OSError as exc:
        return f"数据目录 {folder} 不可用：{exc.strerror or exc}"
    return ""


async def status(rt: runtime.Runtime | None) -> tuple[bool, str]:
    """(healthy, reason) for ``/healthz``; the data folder is checked when the runtime is started."""
    folder: Path | None = rt.settings.data_dir if rt is not None else None
    if folder is not None and (problem := folder_problem(folder)):
        return False, problem
    current = _last
    if current is None or not _running:
        current = await beat()
    if not current.ok:
        return False, current.reason
    if _last_ok_at is None or time.monotonic() - _last_ok_at > SILENT_AFTER:
        return False, f"数据库超过 {SILENT_AFTER:.0f} 秒未能完成写入"
    return True, ""


_running = False


async def run_heartbeat(rt: runtime.Runtime) -> None:
    """The worker: beat every ``INTERVAL`` and forget the rows of processes long gone."""
    global _running
    _running = True
    last_cleanup = 0.0
    try:
        while True:
            await beat()
            if time.monotonic() - last_cleanup > 3600:
                last_cleanup = time.monotonic()
                with contextlib.suppress(Exception):
                    await ProcessHeartbeat.filter(beat_at__lt=datetime.now(UTC) - FORGET_AFTER).delete()
            await asyncio.sleep(INTERVAL)
    finally:
        _running = False


async def prepare_heartbeat(rt: runtime.Runtime) -> Callable[[], Awaitable[None]]:
    """A first beat before the console serves; the returned clean-up removes this process's row at shutdown."""
    global _last, _last_ok_at
    _last = _last_ok_at = None
    await beat()

    async def forget_this_process() -> None:
        with contextlib.suppress(Exception):
            await ProcessHeartbeat.filter(holder=lease.HOLDER).delete()

    return forget_this_process
