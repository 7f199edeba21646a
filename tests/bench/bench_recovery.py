"""Recovery after ``kill -9`` of a real ``landing serve`` in the middle of a full sync (a script that prints numbers).

    .venv/bin/python tests/bench/bench_recovery.py [--persons 1000] [--write-docs]

DingTalk and EKP simulators run as their own processes. The console starts with an interrupted full sync (which it
resumes at once), is killed with SIGKILL while that run is pushing, and is started again. Printed: seconds from the
kill to a healthy ``/healthz``, to the rerun's start (the restarted process takes its own dead lease back at once),
and to the rerun's successful end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402
from tortoise import Tortoise  # noqa: E402

from app.core.db import build_config  # noqa: E402
from app.models.sync import RunResult, SyncRun  # noqa: E402
from tests.bench.bench_callbacks import AGENT, APPKEY, APPSECRET, CORPID, _child, _free_port, _prepare, _wait_health  # noqa: E402
from tests.bench.bench_sync import ChildEkp  # noqa: E402
from tests.bench.record import Record  # noqa: E402

RECORD = Record("recovery", "Recovery after kill -9", ("step", "seconds after the kill"))


async def _latest(url: str) -> SyncRun | None:
    await Tortoise.init(config=build_config(url))
    try:
        return await SyncRun.all().order_by("-id").first()
    finally:
        await Tortoise.close_connections()


async def bench(persons: int) -> None:
    data = Path(tempfile.mkdtemp(prefix="bench-recovery-"))
    key = Fernet.generate_key().decode()
    (data / "secret_key.key").write_text(key)
    url = f"sqlite://{data / 'landing.sqlite3'}"
    children = []
    ekp = await ChildEkp.start(depts=max(10, persons // 20), persons=persons, seed=9)
    try:
        sim, line = await _child(
            sys.executable,
            "-m",
            "app.cli",
            "dingtalk-sim",
            "--port",
            "0",
            "--qps",
            "20",
            "--corp",
            f"{CORPID}:{APPKEY}:{APPSECRET}:{AGENT}",
            ready="listening on",
        )
        children.append(sim)
        ding = line.split()[-1]
        await _prepare(url, key, ekp.base_url)
        port = _free_port()
        env = {
            **os.environ,
            "LANDING_DATA_DIR": str(data),
            "LANDING_HOST": "127.0.0.1",
            "LANDING_PORT": str(port),
            "LANDING_DINGTALK_OAPI_BASE": ding,
            "LANDING_DINGTALK_API_BASE": ding,
            "LANDING_LOG_JSON": "false",
            "LANDING_LOG_LEVEL": "WARNING",
        }
        base = f"http://127.0.0.1:{port}"
        serve, _ = await _child(sys.executable, "-m", "app.cli", "serve", env=env, log=data / "serve.log")
        await _wait_health(base)
        deadline = time.monotonic() + 300
        while True:
            run = await _latest(url)
            if run is not None and run.id > 1 and run.stage == "push" and run.progress_done > 20:
                break
            assert time.monotonic() < deadline, "the resumed run never reached the push stage"
            await asyncio.sleep(0.2)
        interrupted = run.id
        serve.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await serve.wait()
        serve, _ = await _child(sys.executable, "-m", "app.cli", "serve", env=env, log=data / "serve.log")
        children.append(serve)
        await _wait_health(base)
        healthy = time.monotonic() - killed
        rerun_started = rerun_done = None
        while rerun_done is None:
            run = await _latest(url)
            if run is not None and run.id > interrupted:
                rerun_started = rerun_started or time.monotonic() - killed
                if run.result != RunResult.RUNNING:
                    assert run.result == RunResult.SUCCESS, run.error
                    assert run.kind == "full", "the interrupted full run must be rerun as a full run"
                    rerun_done = time.monotonic() - killed
            assert time.monotonic() - killed < 600, "the rerun did not finish"
            await asyncio.sleep(0.2)
        print(
            f"kill -9 during a full sync of {persons} people: healthy after {healthy:.1f} s, rerun started after "
            f"{rerun_started:.1f} s, rerun finished (full, 成功) after {rerun_done:.1f} s"
        )
        RECORD.add("`/healthz` answers 200 again (process start, migrations, checks)", f"{healthy:.1f}")
        RECORD.add("the interrupted full run is rerun (own dead lease taken back at once)", f"{rerun_started:.1f}")
        RECORD.add(f"the rerun finished as a full run, 成功 ({persons:,} people)", f"{rerun_done:.1f}")
    finally:
        for proc in reversed(children):
            if proc.returncode is None:
                proc.terminate()
                await proc.wait()
        await ekp.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1000)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    asyncio.run(bench(args.persons))
    RECORD.note(
        "The restart was immediate (as a supervisor would do); the machine was shared with other work at the time."
    )
    if args.write_docs:
        RECORD.write()


if __name__ == "__main__":
    main()
