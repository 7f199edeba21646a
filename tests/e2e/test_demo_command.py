"""README's first command: `landing demo` brings up a working system with no accounts anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import SCREENSHOTS, first_admin_login, free_port, wait_for

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).parents[2]


@pytest.fixture
def demo(tmp_path: Path):
    ports = {"console": free_port(), "dingtalk": free_port(), "ekp": free_port(), "connector": free_port()}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "NICEGUI", "LANDING_"))}
    env["LANDING_DATA_DIR"] = str(tmp_path / "data")
    log = (tmp_path / "demo.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "demo",
            "--port",
            str(ports["console"]),
            "--dingtalk-port",
            str(ports["dingtalk"]),
            "--ekp-port",
            str(ports["ekp"]),
            "--connector-port",
            str(ports["connector"]),
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{ports['console']}/healthz", timeout=60)
        yield ports, tmp_path / "demo.log"
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def test_demo_binds_the_org_and_syncs_ekp_people_into_dingtalk(demo, browser_page) -> None:
    ports, log_path = demo
    from app.demo import DEMO_CORP

    sim = f"http://127.0.0.1:{ports['dingtalk']}/_sim/corps/{DEMO_CORP}/users"
    deadline = time.monotonic() + 90
    users: list = []
    while time.monotonic() < deadline:
        users = httpx.get(sim).json()
        if len(users) > 100:
            break
        time.sleep(1)
    # The empty corp had one admin; the first sync pushed the EKP organisation's people into DingTalk.
    assert len(users) > 100, log_path.read_text()[-3000:]

    page = browser_page
    base = f"http://127.0.0.1:{ports['console']}"
    first_admin_login(page, base)
    page.get_by_text("组织概况").wait_for()
    page.get_by_text("回调成功").wait_for()
    page.screenshot(path=SCREENSHOTS / "10-demo-home.png")
    page.goto(f"{base}/sync/logs")
    page.get_by_text("手动同步").first.wait_for()
    page.screenshot(path=SCREENSHOTS / "11-demo-sync-logs.png")
    page.goto(f"{base}/contacts")
    page.get_by_text("组织架构").wait_for()
    page.screenshot(path=SCREENSHOTS / "12-demo-contacts.png")
