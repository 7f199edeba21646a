"""The operator's commands and the health endpoint, run as an operator would run them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import free_port, wait_for

ROOT = Path(__file__).parents[2]


def _env(tmp_path: Path, db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "NICEGUI", "LANDING_"))}
    env.update(
        {"LANDING_DATA_DIR": str(tmp_path / "data"), "LANDING_DATABASE_URL": db_url, "LANDING_LOG_JSON": "false"}
    )
    env.update(extra)
    return env


def _landing(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_migrate_then_reset_password_of_unknown_and_known_account(tmp_path: Path, db_url: str) -> None:
    env = _env(tmp_path, db_url)
    first = _landing("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert _landing("migrate", env=env).returncode == 0  # applying again is harmless
    missing = _landing("reset-password", "nobody", env=env)
    assert missing.returncode == 2 and "不存在" in missing.stderr


def test_key_files_are_private_and_placeholders_are_refused(tmp_path: Path, db_url: str) -> None:
    env = _env(tmp_path, db_url)
    assert _landing("migrate", env=env).returncode == 0
    for name in ("secret_key.key", "session_secret.key"):
        assert (tmp_path / "data" / name).stat().st_mode & 0o777 == 0o600
    refused = _landing("migrate", env=_env(tmp_path, db_url, LANDING_SESSION_SECRET="changeme"))
    assert refused.returncode == 2
    assert "LANDING_SESSION_SECRET is set to a placeholder value" in refused.stderr


@pytest.fixture
def server(tmp_path: Path, db_url: str):
    port = free_port()
    env = _env(tmp_path, db_url, LANDING_PORT=str(port))
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}", env
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_health_metrics_openapi_and_reset_password(server) -> None:
    base, env = server
    health = httpx.get(f"{base}/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok", "database": True}
    assert "landing_accounts 1" in httpx.get(f"{base}/metrics").text
    assert "/healthz" in httpx.get(f"{base}/openapi.json").json()["paths"]
    page = httpx.get(f"{base}/permissions/audit", follow_redirects=False)
    assert page.status_code in (302, 303, 307) and page.headers["location"].startswith("/login")

    reset = _landing("reset-password", "admin", env=env)
    assert reset.returncode == 0, reset.stderr
    assert "临时密码" in reset.stdout
