"""The Docker image's steps, run without a Docker daemon: a fresh virtualenv installs from the lock file, then the
project without dependencies, and the container's command and healthcheck work as the Dockerfile states them.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.e2e.conftest import free_port, wait_for

ROOT = Path(__file__).parents[2]


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _env_of(instructions: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in instructions:
        if word == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_dockerfile_caches_dependencies_and_runs_as_a_non_root_user_with_a_data_volume() -> None:
    steps = _instructions()
    words = [f"{w} {r}" for w, r in steps]
    lock_copy = words.index("COPY requirements.lock ./")
    lock_install = next(i for i, w in enumerate(words) if w.startswith("RUN") and "-r requirements.lock" in w)
    app_copy = next(i for i, w in enumerate(words) if w.startswith("COPY app"))
    assert lock_copy < lock_install < app_copy  # a code change does not reinstall the dependencies
    assert any(w.startswith("RUN") and "--no-deps ." in w for w in words[app_copy:])
    assert ("USER", "landing") in steps and ("VOLUME", '["/data"]') in steps
    env = _env_of(steps)
    assert env["TZ"] == "Asia/Shanghai" and env["LANDING_DATA_DIR"] == "/data"
    healthcheck = next(r for w, r in steps if w == "HEALTHCHECK")
    assert "LANDING_PORT" in healthcheck and "8080/healthz" not in healthcheck


def test_lock_file_pins_every_dependency() -> None:
    lines = [
        line.split("#")[0].strip()
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    assert lines and all(re.fullmatch(r"[A-Za-z0-9_.-]+==[A-Za-z0-9_.+!-]+", line) for line in lines), lines
    pinned = {_name(line) for line in lines}
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    missing = {_name(d) for d in declared} - pinned
    assert not missing, f"pyproject.toml dependencies not in requirements.lock (run pip-compile): {missing}"


def test_image_steps_build_and_serve_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    steps = _instructions()
    context = tmp_path / "image"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "NICEGUI", "LANDING_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    context.mkdir()
    for word, rest in steps:
        if word == "COPY":
            *sources, _target = shlex.split(rest)
            for source in sources:
                src = ROOT / source
                dest = context / Path(source).name
                if src.is_dir():
                    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(src, dest)
        elif word == "RUN":
            for command in rest.split("&&"):
                command = command.strip()
                if command.startswith("pip "):  # useradd / chown need root and a container; pip is the build
                    done = subprocess.run(
                        [str(bin_dir / "python"), "-m", *shlex.split(command)],
                        cwd=context,
                        env=env,
                        capture_output=True,
                        text=True,
                        timeout=900,
                    )
                    assert done.returncode == 0, done.stderr[-3000:]

    port = free_port()
    run_env = {**env, **_env_of(steps)}
    run_env.update(LANDING_DATA_DIR=str(tmp_path / "data"), LANDING_PORT=str(port), LANDING_HOST="127.0.0.1")
    run_env["LANDING_LOG_JSON"] = "false"
    command = next(r for w, r in steps if w == "CMD")
    argv = [a.strip().strip('"') for a in command.strip("[]").split('",')]
    log = (tmp_path / "server.log").open("w")
    # The container's command, from a folder that is not the source tree: the installed package must be complete.
    server = subprocess.Popen(argv, cwd=tmp_path, env=run_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", timeout=120)
        healthcheck = next(r for w, r in steps if w == "HEALTHCHECK").split(" CMD ", 1)[1]
        probe = subprocess.run(healthcheck, shell=True, env=run_env, cwd=tmp_path, timeout=60)
        assert probe.returncode == 0
        wrong_port = subprocess.run(
            healthcheck, shell=True, env={**run_env, "LANDING_PORT": str(free_port())}, cwd=tmp_path, timeout=60,
            capture_output=True,
        )  # fmt: skip
        assert wrong_port.returncode != 0  # the probe really asks the port the environment names
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    output = (tmp_path / "server.log").read_text()
    assert "LANDING_PUBLIC_BASE_URL is not set" in output
    if "Traceback" in output:
        pytest.fail(output[-3000:])
