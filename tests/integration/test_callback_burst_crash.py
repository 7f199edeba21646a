"""kill -9 of a real ``landing serve`` in the middle of a burst of DingTalk callbacks, then a restart: every
callback that was acknowledged is stored exactly once, the ones that were not are delivered again (as DingTalk
retries them) and stored once too, and after the restart every event is applied. Nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp
from tortoise import Tortoise

from app.core.db import build_config
from app.dingtalk.crypto import DingTalkCrypto
from app.dingtalk.events import parse_event
from app.dingtalk.simulator import start_simulator
from app.models.sync import CallbackEvent
from tests.e2e.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
CORPID, APPKEY, SECRET, AGENT = "dingburstcorp", "burstkey", "burstsecret0123456789", "100300"
EVENTS = 300

SEED = """
import asyncio, json, sys
from pathlib import Path

async def main(url, key_file, corpid, appkey, secret, agent):
    from tortoise import Tortoise
    from app.core.db import build_config
    from app.core.security import install_secret_key
    from tests import factories

    install_secret_key(Path(key_file).read_text().strip())
    await Tortoise.init(config=build_config(url))
    org = await factories.org("回调测试", corpid, is_main=True)
    org.appkey, org.appsecret, org.agent_id = appkey, secret, agent
    await org.save()
    print(json.dumps({"token": org.callback_token, "aes_key": org.aes_key}))
    await Tortoise.close_connections()

asyncio.run(main(*sys.argv[1:]))
"""


def _env(data: Path, db_url: str, ding: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "NICEGUI", "LANDING_"))}
    env.update(
        {
            "LANDING_DATA_DIR": str(data),
            "LANDING_DATABASE_URL": db_url,
            "LANDING_LOG_JSON": "false",
            "LANDING_PORT": str(port),
            "LANDING_DINGTALK_OAPI_BASE": ding,
            "LANDING_DINGTALK_API_BASE": ding,
            "LANDING_DINGTALK_QPS": "100",
        }
    )
    return env


async def _run(*args: str, env: dict[str, str]) -> str:
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=str(ROOT), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-2000:]
    return out.decode()


async def _serve(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "serve",
        cwd=str(ROOT),
        env=env,
        stdout=log.open("ab"),
        stderr=asyncio.subprocess.STDOUT,
    )


async def _healthy(http: aiohttp.ClientSession, base: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            async with http.get(f"{base}/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("the console did not become healthy")


def _callbacks(token: str, aes_key: str) -> list[tuple[str, dict, bytes]]:
    crypto = DingTalkCrypto(token, aes_key, CORPID)
    out = []
    for n in range(EVENTS):
        event = {"EventType": "user_modify_org", "CorpId": CORPID, "UserId": [f"burst{n % 40}"], "TimeStamp": str(n)}
        plain = json.dumps(event)
        encrypt = crypto.encrypt(plain)
        ts = str(int(time.time() * 1000))
        query = {
            "corpid": CORPID,
            "signature": crypto.signature(ts, f"n{n}", encrypt),
            "timestamp": ts,
            "nonce": f"n{n}",
        }
        out.append((parse_event(plain).dedup_key, query, json.dumps({"encrypt": encrypt}).encode()))
    return out


async def test_kill_9_during_a_callback_burst_loses_and_doubles_nothing(tmp_path: Path, db_url: str) -> None:
    ding = await start_simulator(corps=[f"{CORPID}:{APPKEY}:{SECRET}:{AGENT}"], qps=100)
    data = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _env(data, db_url, ding.base_url, port)
    url = db_url or f"sqlite://{data / 'landing.sqlite3'}"
    await _run(sys.executable, "-m", "app.cli", "migrate", env=env)
    keys = json.loads(
        await _run(
            sys.executable, "-c", SEED, url, str(data / "secret_key.key"), CORPID, APPKEY, SECRET, AGENT, env=env
        )
    )
    callbacks = _callbacks(keys["token"], keys["aes_key"])
    server = await _serve(env, tmp_path / "server.log")
    acked: set[str] = set()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
            await _healthy(http, base)

            async def deliver(key: str, query: dict, body: bytes) -> None:
                try:
                    async with http.post(f"{base}/api/ding_console/contacts/callback", params=query, data=body) as r:
                        if r.status == 200 and "encrypt" in await r.json():
                            acked.add(key)
                except (aiohttp.ClientError, TimeoutError):
                    pass  # no answer: DingTalk would retry

            async def burst() -> None:
                tasks = []
                for item in callbacks:
                    tasks.append(asyncio.create_task(deliver(*item)))
                    await asyncio.sleep(0.005)  # about 200 a second
                await asyncio.gather(*tasks)

            sending = asyncio.create_task(burst())
            deadline = time.monotonic() + 120
            while len(acked) < EVENTS // 3:
                assert time.monotonic() < deadline and not sending.done(), "callbacks were not acknowledged"
                await asyncio.sleep(0.01)
            server.send_signal(signal.SIGKILL)
            await server.wait()
            await sending
            assert EVENTS // 3 <= len(acked) < EVENTS  # the kill landed inside the burst

            await Tortoise.init(config=build_config(url))
            try:
                stored = await CallbackEvent.all().values_list("dedup_key", flat=True)
                assert acked <= set(stored)  # every acknowledged callback survived the kill
                assert len(stored) == len(set(stored))

                server = await _serve(env, tmp_path / "server.log")
                await _healthy(http, base)
                for key, query, body in callbacks:  # DingTalk retries what it did not see acknowledged
                    if key not in acked:
                        await deliver(key, query, body)
                    await asyncio.sleep(0)
                assert len(acked) == EVENTS

                deadline = time.monotonic() + 180
                while await CallbackEvent.filter(processed_at__isnull=True).exists():
                    assert time.monotonic() < deadline, "stored events were not all applied after the restart"
                    await asyncio.sleep(0.3)
                stored = await CallbackEvent.all().values_list("dedup_key", flat=True)
                assert sorted(stored) == sorted(k for k, _, _ in callbacks)  # each exactly once
            finally:
                await Tortoise.close_connections()
    finally:
        if server.returncode is None:
            server.terminate()
            await server.wait()
        await ding.close()
