"""``landing sync ORG [--full]``: one org's contacts sync in the foreground, for cron jobs and operators.

It runs the same runner as the console (same lease, so it never overlaps a run of the server or of another
replica), draws a progress bar on stderr from the runner's live progress, prints the run's summary on stdout and
exits 0 (成功/警告), 1 (失败), 2 (unknown org) or 3 (同步正在进行中). Starting a run is audited as the operator
``(cli)``: whoever can run this command already holds the server's data folder and keys.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, TextIO

from app.models.sync import RunResult
from app.sync import progress as live
from app.sync.progress import STAGE_LABELS

if TYPE_CHECKING:
    from app.runtime import Runtime

EXIT_OK, EXIT_FAILED, EXIT_NO_ORG, EXIT_BUSY = 0, 1, 2, 3
BAR_WIDTH = 30
POLL_SECONDS = 0.2


class ProgressBar:
    """A one-line bar redrawn in place on a terminal; on a pipe or log file, one line per stage step instead."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last = ""

    def show(self, p: live.Progress | None) -> None:
        if p is None:
            return
        label = f"{p.stage_label}{'：' + p.step if p.step else ''}"
        if self.tty:
            filled = int(BAR_WIDTH * p.fraction)
            count = f" {p.done}/{p.total}" if p.total else ""
            line = f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {int(p.fraction * 100):3d}% {label}{count}"
            self.stream.write(line.ljust(len(self.last)))
            self.last = line
        elif label != self.last:
            self.stream.write(f"{label}{f'（共 {p.total} 条）' if p.total else ''}\n")
            self.last = label
        self.stream.flush()

    def finish(self, result_label: str) -> None:
        done = f"[{'#' * BAR_WIDTH}] 100% {STAGE_LABELS['done']}：{result_label}"
        self.stream.write(("\r" + done.ljust(len(self.last)) if self.tty else done) + "\n")
        self.stream.flush()


async def sync_org(
    reference: str, rt: Runtime, *, full: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Run one sync of the org named or numbered ``reference`` with the ORM and runtime already started."""
    from app.services import sync_runs_remote
    from app.services.errors import NotFound
    from app.services.sync_runs import RESULT_LABELS
    from app.sync import runner

    try:
        org = await sync_runs_remote.find_org(reference)
    except NotFound as exc:
        err.write(exc.message + "\n")
        return EXIT_NO_ORG
    try:
        started = await sync_runs_remote.start_run_as_operator(org.id, rt=rt, full=full)
    except sync_runs_remote.RunBusy as exc:
        err.write(f"{org.name}：{exc.message}\n")
        return EXIT_BUSY
    err.write(f"开始同步「{org.name}」（{started.kind}，同步日志 {started.id}）\n")
    bar = ProgressBar(err)
    task = runner.task_of(org.id)
    while task is not None and not task.done():
        bar.show(live.current(org.id))
        await asyncio.wait({task}, timeout=POLL_SECONDS)
    run = await sync_runs_remote.operator_view(started.id)
    label = RESULT_LABELS.get(RunResult(run.result), run.result)
    bar.finish(label)
    out.write(f"结果：{label}\n")
    if run.summary:
        out.write(run.summary + "\n")
    if run.error and run.error not in run.summary:
        out.write(f"原因：{run.error}\n")
    out.flush()
    return EXIT_FAILED if run.result == RunResult.FAILED else EXIT_OK


async def main(reference: str, *, full: bool) -> int:
    """Open the database and the DingTalk client exactly as ``landing serve`` does, without its workers."""
    from tortoise import Tortoise

    from app import runtime
    from app.core.config import get_settings
    from app.core.db import build_config, run_migrations
    from app.core.security import install_secret_key

    settings = get_settings()
    settings.ensure_secrets()
    install_secret_key(settings.secret_key.get_secret_value())
    await run_migrations(settings.effective_database_url)
    await Tortoise.init(config=build_config(settings.effective_database_url))
    try:
        rt = await runtime.start(settings, run_workers=False)
        try:
            return await sync_org(reference, rt, full=full)
        finally:
            await runtime.stop()
    finally:
        await Tortoise.close_connections()
