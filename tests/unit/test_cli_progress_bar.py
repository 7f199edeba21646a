"""The progress bar of ``landing sync``: redrawn in place on a terminal, plain lines on a pipe."""

from __future__ import annotations

import io

from app.cli_sync import BAR_WIDTH, ProgressBar
from app.sync.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_bar_redraws_one_line() -> None:
    stream = Terminal()
    bar = ProgressBar(stream)
    p = Progress(org_id=1, run_id=7, stage="push", step="人员", done=25, total=100)
    bar.show(p)
    p.done = 50
    bar.show(p)
    bar.finish("成功")
    text = stream.getvalue()
    assert text.count("\n") == 1 and text.count("\r") == 3
    assert f"[{'#' * (BAR_WIDTH // 4)}{'.' * (BAR_WIDTH - BAR_WIDTH // 4)}]  25% 同步到钉钉：人员 25/100" in text
    assert " 50% 同步到钉钉：人员 50/100" in text
    # The final line is padded with spaces so that no tail of the longer line before it stays visible.
    assert text.endswith("\n") and text.rstrip().endswith(f"[{'#' * BAR_WIDTH}] 100% 已结束：成功")


def test_pipe_gets_one_line_per_step() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream)
    p = Progress(org_id=1, run_id=7, stage="source", step="部门", done=1, total=9)
    bar.show(p)
    p.done = 5
    bar.show(p)  # same step: nothing new
    p.stage, p.step, p.total = "push", "人员", 40
    bar.show(p)
    bar.show(None)
    bar.finish("失败")
    assert stream.getvalue().splitlines() == [
        "从EKP同步：部门（共 9 条）",
        "同步到钉钉：人员（共 40 条）",
        f"[{'#' * BAR_WIDTH}] 100% 已结束：失败",
    ]
