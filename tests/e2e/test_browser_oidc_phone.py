"""The domain-account login page on a 360 px phone screen, in Chromium against a real server (issue 13, item 6)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.e2e.conftest import SCREENSHOTS, free_port, wait_for

pytestmark = pytest.mark.e2e
REDIRECT = "https://login.dingtalk.com/oauth2/oidcCallBack.htm"


async def _seed(db_url: str, key: str) -> str:
    from tortoise import Tortoise

    from app.core.db import build_config, run_migrations
    from app.core.security import install_secret_key
    from app.models.accounts import Role
    from app.services import accounts, login_auth
    from tests import factories

    await run_migrations(db_url)
    install_secret_key(key)
    await Tortoise.init(config=build_config(db_url))
    try:
        await factories.org("蓝钉测试企业", "corpA", is_main=True)
        root = await factories.account("root", Role.SUPER_ADMIN)
        actor = await accounts.load_actor(root.id)
        await login_auth.save_settings(
            actor, enabled=True, authenticator="local", redirect_uris=[REDIRECT], org_id=None
        )
        return (await login_auth.load()).client_id
    finally:
        await Tortoise.close_connections()


@pytest.fixture
def seeded(db_url: str) -> tuple[str, str]:
    """(secret key, client id); before the browser fixture starts Playwright's own event loop."""
    key = Fernet.generate_key().decode()
    return key, asyncio.run(_seed(db_url, key))


def test_login_page_fits_a_360px_screen(tmp_path: Path, db_url: str, seeded, browser_page) -> None:
    key, client_id = seeded
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "NICEGUI"))},
        "LANDING_DATA_DIR": str(tmp_path / "data"),
        "LANDING_DATABASE_URL": db_url,
        "LANDING_PORT": str(port),
        "LANDING_HOST": "127.0.0.1",
        "LANDING_LOG_JSON": "false",
        "LANDING_SECRET_KEY": key,
        "LANDING_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    with (tmp_path / "server.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT,
            cwd=Path(__file__).parents[2],
        )  # fmt: skip
        try:
            wait_for(f"http://127.0.0.1:{port}/healthz")
            page = browser_page
            page.set_viewport_size({"width": 360, "height": 740})
            page.goto(
                f"http://127.0.0.1:{port}/oidc/authorize?client_id={client_id}&redirect_uri={REDIRECT}"
                "&response_type=code&scope=openid&state=s"
            )
            page.get_by_role("button", name="登录").wait_for()
            page.screenshot(path=SCREENSHOTS / "security-oidc-360.png")
            # Nothing wider than the screen: no horizontal scrolling on a phone.
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            box = page.locator(".box").bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
        finally:
            process.terminate()
            process.wait(timeout=10)
