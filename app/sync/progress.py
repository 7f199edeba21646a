"""Live progress of running syncs, per org, for every admin watching the sync pages.

The runner writes here on every step (cheap, in memory) and saves the same numbers on the ``SyncRun`` row about
once a second, so a page served by another replica still sees the run move.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

STAGE_LABELS = {
    "": "准备中",
    "ding_in": "从钉钉同步",
    "source": "从EKP同步",
    "reconcile": "与钉钉核对",
    "push": "同步到钉钉",
    "done": "已结束",
}


@dataclass
class Progress:
    org_id: int
    run_id: int
    stage: str = ""
    step: str = ""
    done: int = 0
    total: int = 0
    counters: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS.get(self.stage, self.stage)


_live: dict[int, Progress] = {}


def begin(org_id: int, run_id: int) -> Progress:
    progress = Progress(org_id=org_id, run_id=run_id)
    _live[org_id] = progress
    return progress


def current(org_id: int) -> Progress | None:
    return _live.get(org_id)


def end(org_id: int, run_id: int) -> None:
    if (p := _live.get(org_id)) is not None and p.run_id == run_id:
        del _live[org_id]
