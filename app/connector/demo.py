"""The connector inside ``landing demo``: a child process bound to the demo's EKP access system, and the EKP
simulator told where it is, so a todo sent from the EKP page shows up in the simulated DingTalk user's page."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import aiohttp

log = logging.getLogger(__name__)

IDENTIFIER = "ekp-demo-0001"
TODO_ACCOUNT = "ekp-todo"
TODO_PASSWORD = "EkpTodo-2026-demo"


async def start(*, port: int, console_url: str, dingtalk_url: str, ekp_root: str, data_dir: Path):
    """Start the connector process; returns an async stop function."""
    env = {
        **os.environ,
        "LANDING_CONNECTOR_PORT": str(port),
        "LANDING_CONNECTOR_DATA_DIR": str(data_dir),
        "LANDING_CONNECTOR_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "LANDING_CONNECTOR_DINGTALK_OAPI_BASE": dingtalk_url,
        "LANDING_CONNECTOR_DINGTALK_API_BASE": dingtalk_url,
        "LANDING_CONNECTOR_DINGTALK_LOGIN_BASE": dingtalk_url,
        "LANDING_CONNECTOR_BIND_CONSOLE_URL": console_url,
        "LANDING_CONNECTOR_BIND_IDENTIFIER": IDENTIFIER,
        "LANDING_CONNECTOR_TODO_ACCOUNT": TODO_ACCOUNT,
        "LANDING_CONNECTOR_TODO_PASSWORD": TODO_PASSWORD,
        "LANDING_CONNECTOR_SSO_REDIRECT_URL": f"{ekp_root}/_sim/ui/sso",
        "LANDING_CONNECTOR_LOG_JSON": "false",
        "LANDING_CONNECTOR_DEMO": "true",
        # The demo console listens on loopback, which the connector's outbound guard refuses unless allowed.
        "LANDING_CONNECTOR_OUTBOUND_ALLOWED_RANGES": os.environ.get(
            "LANDING_CONNECTOR_OUTBOUND_ALLOWED_RANGES", "127.0.0.1/32"
        ),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "connector", "--port", str(port), env=env
    )
    async with (
        aiohttp.ClientSession() as http,
        http.put(
            f"{ekp_root}/_sim/todo/connector",
            json={"url": f"http://127.0.0.1:{port}", "account": TODO_ACCOUNT, "password": TODO_PASSWORD},
        ) as response,
    ):
        response.raise_for_status()
    log.info("demo connector (蓝钉集成组件) on http://127.0.0.1:%s, EKP todo page %s/_sim/ui/todos", port, ekp_root)

    async def stop() -> None:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()

    return stop
