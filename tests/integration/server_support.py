"""A real `landing serve` process on a free loopback port (not collected): for tests that need real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.conftest import free_port, wait_for

ROOT = Path(__file__).parents[2]


@contextmanager
def landing_serve(tmp_path: Path, db_url: str, **env_extra: str) -> Iterator[tuple[str, Path]]:
    """Yields (base URL on 127.0.0.1, the server's log file)."""
    port = free_port()
    # NiceGUI treats a process that inherits PYTEST_* variables as a test run; the server must not see them.
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "NICEGUI"))},
        "LANDING_DATA_DIR": str(tmp_path / "data"),
        "LANDING_DATABASE_URL": db_url,
        "LANDING_PORT": str(port),
        "LANDING_HOST": "127.0.0.1",
        "LANDING_LOG_JSON": "false",
        **env_extra,
    }
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve"], env=env, stdout=log_file, stderr=subprocess.STDOUT, cwd=ROOT
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/healthz")
            yield f"http://127.0.0.1:{port}", log_path
        finally:
            process.terminate()
            process.wait(timeout=10)
