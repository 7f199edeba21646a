"""What one run carries through its stages: the org, the run row, counters, the per-object log and progress."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from app.core import pressure
from app.dingtalk.client import App, DingTalkClient
from app.models.orgs import Org
from app.models.sync import SyncEntry, SyncRun, SyncSettings
from app.runtime import Runtime
from app.sync import bulk
from app.sync import progress as live
from app.sync.summary import empty_counters

ENTRY_BATCH = 500
ENTRY_COLUMNS = (
    "run_id",
    "at",
    "stage",
    "action",
    "object_type",
    "object_name",
    "local_id",
    "ding_id",
    "source_id",
    "ok",
    "error_code",
    "message",
)
SAVE_EVERY = 1.0  # seconds between progress writes to the run row
STEP_ASIDE_SECONDS = 0.005  # longest wait per object while callbacks are being acknowledged


class ConfigFailure(Exception):
    """The run cannot go on: credentials, permissions, the source system. The message is for the admin."""


@dataclass
class RunContext:
    org: Org
    run: SyncRun
    settings: SyncSettings
    rt: Runtime  # the runtime the run belongs to: the source stage reads EKP with its HTTP session and settings
    client: DingTalkClient | None = None
    full: bool = False
    approved: bool = False  # an admin approved removals above the threshold for this run
    counters: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: int = 0
    reconcile: bool = False  # compare every object with what DingTalk holds (full runs, the weekly reconcile)
    blocked_removals: list[dict[str, Any]] = field(default_factory=list)  # held back by the delete threshold
    _entries: list[tuple] = field(default_factory=list)
    _last_save: float = 0.0
    progress: live.Progress | None = None

    @property
    def app(self) -> App:
        agent = (self.org.agent_id or "").strip()
        return App(self.org.corpid, self.org.appkey, self.org.appsecret, int(agent) if agent.isdigit() else None)

    @property
    def threshold_blocked(self) -> bool:
        return bool(self.blocked_removals)

    def block_removals(self, items: list[dict[str, Any]], message: str) -> None:
        """The threshold held these removals back: the run lists them and ends 警告 (never 成功)."""
        if not self.blocked_removals:
            self.notes.append(message)
        self.blocked_removals.extend(items)
        self.warnings += 1

    # -- counters and entries -----------------------------------------------------------------------------------

    def stage(self, name: str, total: int = 0, step: str = "") -> None:
        self.counters.setdefault(name, empty_counters())
        self.run.stage = name
        if self.progress is not None:
            self.progress.stage = name
            self.progress.step = step
            self.progress.done = 0
            self.progress.total = total
            self.progress.counters = self.counters

    def set_total(self, total: int, step: str = "") -> None:
        if self.progress is not None:
            self.progress.total = total
            self.progress.done = 0
            if step:
                self.progress.step = step

    def count(self, stage: str, kind: str, key: str, n: int = 1) -> None:
        counters = self.counters.get(stage)  # called once per object: build the empty set only when missing
        if counters is None:
            counters = self.counters[stage] = empty_counters()
        counters[kind][key] += n

    def entry(
        self,
        stage: str,
        action: str,
        kind: str,
        name: str,
        *,
        local_id: int | None = None,
        ding_id: Any = "",
        source_id: str | None = "",
        ok: bool = True,
        code: Any = "",
        message: str = "",
    ) -> None:
        if not ok:
            self.warnings += 1
        self._entries.append(
            (
                self.run.id,
                bulk.now(),
                stage,
                action,
                kind,
                (name or "")[:128],
                local_id,
                str(ding_id or "")[:64],
                (source_id or "")[:64],
                ok,
                str(code or "")[:16],
                message,
            )
        )

    async def flush(self, force: bool = False) -> None:
        if self._entries and (force or len(self._entries) >= ENTRY_BATCH):
            batch, self._entries = self._entries, []
            await bulk.insert_rows(SyncEntry, ENTRY_COLUMNS, batch)
        await self.save_progress(force)

    def advance(self, n: int = 1) -> None:
        if self.progress is not None:
            self.progress.done += n

    async def tick(self, n: int = 1) -> None:
        """One more object done: update progress, and now and then the run row and the entry log.

        Also the run's point to step aside for callback acknowledgements (``app.core.pressure``)."""
        self.advance(n)
        if len(self._entries) >= ENTRY_BATCH or time.monotonic() - self._last_save >= SAVE_EVERY:
            await self.flush()
        await pressure.step_aside(STEP_ASIDE_SECONDS)

    async def save_progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_save < SAVE_EVERY:
            return
        self._last_save = now
        if self.progress is not None:
            self.run.progress_done = self.progress.done
            self.run.progress_total = self.progress.total
        self.run.counters = self.counters
        await self.run.save(update_fields=["stage", "progress_done", "progress_total", "counters"])
