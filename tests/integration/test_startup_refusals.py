"""Broken start-up states are refused loudly, run as an operator would meet them (real ``landing`` processes).

- the secret key file went missing, or is the wrong one, next to encrypted data: ``landing serve`` refuses to
  start, names the key file it expects and says how to restore it; no new key is written;
- ``landing check-keys`` tells whether the key opens the stored secrets;
- a read-only data folder (a read-only tmpfs mount) ends the start with a message instead of a hang;
- a full disk (a size-limited tmpfs mount) turns ``/healthz`` into a 503 with the reason;
- SIGTERM ends the server within 10 s.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import free_port, wait_for

ROOT = Path(__file__).parents[2]

SEED = """
import asyncio, sys
from pathlib import Path

async def main(url, key_file):
    from tortoise import Tortoise
    from app.core.db import build_config
    from app.core.security import install_secret_key
    from tests import factories

    install_secret_key(Path(key_file).read_text().strip())
    await Tortoise.init(config=build_config(url))
    await factories.org("叮当科技", "dingcorpkeys", is_main=True)
    await Tortoise.close_connections()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def _env(data: Path, db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "NICEGUI", "LANDING_"))}
    env.update({"LANDING_DATA_DIR": str(data), "LANDING_DATABASE_URL": db_url, "LANDING_LOG_JSON": "false"})
    env.update(extra)
    return env


def _landing(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def _seeded(tmp_path: Path, db_url: str) -> tuple[Path, dict[str, str]]:
    data = tmp_path / "data"
    env = _env(data, db_url)
    assert _landing("migrate", env=env).returncode == 0
    seeded = subprocess.run(
        [sys.executable, "-c", SEED, db_url or f"sqlite://{data / 'landing.sqlite3'}", str(data / "secret_key.key")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seeded.returncode == 0, seeded.stderr
    return data, env


def test_a_missing_or_wrong_key_next_to_encrypted_data_is_refused(tmp_path: Path, db_url: str) -> None:
    data, env = _seeded(tmp_path, db_url)
    ok = _landing("check-keys", env=env)
    assert ok.returncode == 0, ok.stderr
    assert "密钥检查通过" in ok.stdout

    key = data / "secret_key.key"
    backup = key.read_text()
    key.unlink()
    missing = _landing("serve", env={**env, "LANDING_PORT": str(free_port())})
    assert missing.returncode == 2
    assert "密钥文件缺失" in missing.stderr and str(key.resolve()) in missing.stderr
    assert "landing check-keys" in missing.stderr
    assert not key.exists()  # no new key was made up
    assert _landing("check-keys", env=env).returncode == 1

    from cryptography.fernet import Fernet

    key.write_text(Fernet.generate_key().decode())
    wrong = _landing("serve", env={**env, "LANDING_PORT": str(free_port())})
    assert wrong.returncode == 2 and "加密密钥不匹配" in wrong.stderr

    key.write_text(backup)  # restored from the backup: checks pass again
    assert _landing("check-keys", env=env).returncode == 0


@pytest.fixture
def mount_point(tmp_path: Path):
    """A tmpfs mount point; tests that need one are skipped where mounting is not allowed."""
    point = tmp_path / "mnt"
    point.mkdir()
    yield point
    subprocess.run(["umount", str(point)], capture_output=True)


def _mount(point: Path, options: str) -> None:
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


def test_a_read_only_data_folder_ends_the_start_with_a_message(mount_point: Path, db_url: str) -> None:
    _mount(mount_point, "ro,size=1m")
    started = _landing("serve", env={**_env(mount_point, db_url), "LANDING_PORT": str(free_port())}, timeout=60)
    assert started.returncode == 2
    assert "数据目录" in started.stderr and "不可写" in started.stderr


def _serve(data: Path, db_url: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve"],
        env={**_env(data, db_url), "LANDING_PORT": str(port)},
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/healthz", timeout=90)
    except RuntimeError:
        process.kill()
        raise AssertionError(log.read_text()[-3000:]) from None
    return process, base


def test_a_full_disk_turns_healthz_503_and_sigterm_ends_the_server(mount_point: Path, tmp_path: Path) -> None:
    _mount(mount_point, "size=8m")
    # SQLite in the small folder itself, so the database shares the disk that fills up.
    process, base = _serve(mount_point, "", tmp_path / "server.log")
    try:
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok", "database": True}
        with (mount_point / "filler.bin").open("wb") as filler:
            try:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
            except OSError:
                pass  # the disk is full
        health = httpx.get(f"{base}/healthz")
        assert health.status_code == 503
        assert "磁盘已满" in health.json()["reason"]
        (mount_point / "filler.bin").unlink()
        deadline = time.monotonic() + 60
        while httpx.get(f"{base}/healthz").status_code != 200:
            assert time.monotonic() < deadline, "/healthz did not recover after space was freed"
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            # The watchdog ends the process 9 s after SIGTERM at the latest; 1 s more for the exit itself.
            code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError("the server was still running 10 s after SIGTERM") from None
    assert code in (0, 1, -signal.SIGTERM)  # after a graceful stop the server re-raises SIGTERM on itself
