"""A real console process on a free loopback port and a real Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("LANDING_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).with_name("screenshots")
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 30.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@pytest.fixture
def console(tmp_path: Path, db_url: str) -> Iterator[str]:
    port = free_port()
    # NiceGUI treats a process that inherits PYTEST_* variables as a test run; the server must not see them.
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "NICEGUI"))},
        "LANDING_DATA_DIR": str(tmp_path / "data"),
        "LANDING_DATABASE_URL": db_url,
        "LANDING_PORT": str(port),
        "LANDING_HOST": "127.0.0.1",
        "LANDING_LOG_JSON": "false",
    }
    log_file = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve"],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).parents[2],
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log_file.close()


@pytest.fixture
def browser_page():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15000)
        yield page
        context.close()
        browser.close()


def first_admin_login(page, base: str, new_password: str = "Landing2026x") -> None:
    """Log in as the initial ``admin`` (password 1) and set a real password, as every fresh install starts."""
    page.goto(f"{base}/login")
    page.get_by_label("账号").fill("admin")
    page.get_by_label("密码", exact=True).fill("1")
    page.get_by_role("button", name="登录").click()
    page.get_by_label("原密码").fill("1")
    page.get_by_label("新密码", exact=True).fill(new_password)
    page.get_by_label("确认新密码").fill(new_password)
    page.get_by_role("button", name="保存").click()
