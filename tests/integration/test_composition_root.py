"""The composition root names what runs: the workers that run are exactly ``app.main.WORKERS``, and importing a
module (a page, a service) starts nothing.

The first test starts the console's runtime in a fresh interpreter that never imports a page module, so no import
side effect can be what starts a worker (the cron job used to run only because a page imported a service).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from app import main, runtime
from app.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]

CONSOLE = """
import asyncio, json, sys

async def run(url, data):
    from tortoise import Tortoise
    from app import main, runtime
    from app.core.config import Settings
    from app.core.db import build_config
    from app.core.security import install_secret_key
    from cryptography.fernet import Fernet

    install_secret_key(Fernet.generate_key().decode())
    await Tortoise.init(config=build_config(url))
    rt = await runtime.start(Settings(data_dir=data), workers=main.WORKERS)
    running = rt.tasks.supervised()
    pages = sorted(m for m in sys.modules if m.startswith("app.pages"))
    await runtime.stop()
    await Tortoise.close_connections()
    print(json.dumps({"running": running, "pages": pages, "left": rt.tasks.names()}))

asyncio.run(run(*sys.argv[1:]))
"""


async def test_the_workers_that_run_are_exactly_workers_without_any_page_imported(orm: str, tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CONSOLE,
        orm,
        str(tmp_path / "data"),
        cwd=str(ROOT),
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANDING_LOG_JSON": "false"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()[-3000:]
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["pages"] == []  # no page module was imported ...
    assert seen["running"] == [w.name for w in main.WORKERS]  # ... and every worker runs, in the listed order
    assert "sync-cron" in seen["running"]
    assert seen["left"] == []  # stopping the runtime leaves no background task behind


async def test_importing_every_module_starts_nothing(orm: str, tmp_path: Path) -> None:
    for name in main.PAGE_MODULES:
        importlib.import_module(f"app.pages.{name}")
    for name in ("app.sync.scheduler", "app.sync.resume", "app.services.access_notify", "app.services.heartbeat"):
        importlib.import_module(name)
    settings = Settings(data_dir=tmp_path / "data", secret_key=Fernet.generate_key().decode(), session_secret="x" * 32)
    rt = await runtime.start(settings)
    try:
        assert rt.tasks.names() == []
    finally:
        await runtime.stop()


def test_worker_names_are_unique() -> None:
    names = [w.name for w in main.WORKERS]
    assert len(names) == len(set(names))
    assert all(w.run is not None for w in main.WORKERS)  # every listed worker is a loop the registry supervises
