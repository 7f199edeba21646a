"""Benchmark results written into docs/performance.md, so the record is exactly what a script printed.

A script collects its rows in a ``Record`` and, when run with ``--write-docs``, replaces the block between
``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` (the explanations around it are left alone). A block that does
not exist yet is appended as a new section.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "performance.md"


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {round(kb / 1024 / 1024)} GiB"
    except (OSError, ValueError, IndexError):
        pass
    system = platform.platform(terse=True)
    try:
        release = Path("/etc/os-release").read_text()
        found = re.search(r'^PRETTY_NAME="?([^"\n]+)', release, re.M)
        system = found.group(1) if found else system
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({model or platform.machine()}){memory}, {system}, Python {platform.python_version()}"
    )


class Record:
    def __init__(self, name: str, title: str, header: tuple[str, ...]) -> None:
        self.name, self.title, self.header = name, title, header
        self.rows: list[tuple[str, ...]] = []
        self.notes: list[str] = []

    def add(self, *cells: str) -> None:
        if len(cells) != len(self.header):
            raise ValueError(f"{len(cells)} cells for {len(self.header)} columns")
        self.rows.append(cells)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def block(self) -> str:
        lines = [
            f"<!-- bench:{self.name} -->",
            f"Measured {datetime.date.today().isoformat()} on {machine()}.",
            "",
            "| " + " | ".join(self.header) + " |",
            "|" + "---|" * len(self.header),
            *("| " + " | ".join(row) + " |" for row in self.rows),
        ]
        if self.notes:
            lines += ["", *self.notes]
        lines.append(f"<!-- /bench:{self.name} -->")
        return "\n".join(lines)

    def write(self, doc: Path = DOC) -> None:
        text = doc.read_text(encoding="utf-8") if doc.exists() else "# Performance\n"
        pattern = re.compile(rf"<!-- bench:{re.escape(self.name)} -->.*?<!-- /bench:{re.escape(self.name)} -->", re.S)
        if pattern.search(text):
            text = pattern.sub(lambda _: self.block(), text, count=1)
        else:
            text = text.rstrip("\n") + f"\n\n## {self.title}\n\n{self.block()}\n"
        doc.write_text(text, encoding="utf-8")
        print(f"recorded in {doc}")
