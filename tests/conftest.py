"""Shared fixtures: a fresh database per test (SQLite file, or PostgreSQL when LANDING_TEST_PG_DSN is set)."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

PG_DSN = os.environ.get("LANDING_TEST_PG_DSN", "")  # e.g. postgres://app:app@127.0.0.1:55432/app


async def _create_pg_database() -> tuple[str, str]:
    import asyncpg

    name = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(PG_DSN.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return PG_DSN.rsplit("/", 1)[0] + "/" + name, name


async def _drop_pg_database(name: str) -> None:
    """Best-effort clean-up: a database left behind on the throwaway test cluster harms nothing."""
    import asyncpg

    conn = await asyncpg.connect(PG_DSN.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except asyncpg.PostgresError as exc:
        warnings.warn(f"test database {name} not dropped: {exc}", stacklevel=1)
    finally:
        await conn.close()


LOOPBACK_ALLOWED = "127.0.0.0/8"


@pytest.fixture(autouse=True)
def loopback_simulators_allowed(monkeypatch: pytest.MonkeyPatch) -> str:
    """The simulators and test receivers listen on 127.0.0.1, which the outbound guard refuses by default.

    Tests allow loopback the way an operator allows an on-prem EKP's range (``LANDING_OUTBOUND_ALLOWED_RANGES``);
    the SSRF tests (tests/integration/test_security_ssrf.py) set it back to empty. Nothing else bypasses the guard.
    """
    monkeypatch.setenv("LANDING_OUTBOUND_ALLOWED_RANGES", LOOPBACK_ALLOWED)
    monkeypatch.setenv("LANDING_CONNECTOR_OUTBOUND_ALLOWED_RANGES", LOOPBACK_ALLOWED)  # the integration component's
    return LOOPBACK_ALLOWED


@pytest.fixture
async def db_url(tmp_path: Path) -> AsyncIterator[str]:
    if PG_DSN:
        url, name = await _create_pg_database()
        yield url
        await _drop_pg_database(name)
    else:
        yield f"sqlite://{tmp_path / 'landing.sqlite3'}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL run repeats only what can differ there: tests that use the database (the ``db_url`` fixture,
    directly or through ``orm``/``app_env``/the servers) or pick it themselves (``@pytest.mark.database``). The
    others (parsers, simulators, clients, pure rules) do not see the database and already ran on SQLite."""
    if not PG_DSN:
        return
    keep = [i for i in items if "db_url" in getattr(i, "fixturenames", ()) or i.get_closest_marker("database")]
    if len(keep) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep


@pytest.fixture(autouse=True)
def fresh_settings_caches() -> Iterator[None]:
    """Settings the services cache for a few seconds (系统设置's security settings) belong to one test's database:
    a value saved by one test must not reach the next."""
    from app.services import security_settings

    security_settings.forget_cache()
    yield
    security_settings.forget_cache()


@pytest.fixture
def app_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Environment for building the app: its own data folder, database and (generated) secrets."""
    from app.core.config import reset_settings_cache

    monkeypatch.setenv("LANDING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LANDING_DATABASE_URL", db_url)
    monkeypatch.setenv("LANDING_LOG_JSON", "false")
    monkeypatch.setenv("LANDING_PUBLIC_BASE_URL", "http://console.test")
    for name in ("LANDING_SECRET_KEY", "LANDING_SESSION_SECRET", "LANDING_DEMO"):
        monkeypatch.delenv(name, raising=False)
    reset_settings_cache()
    yield db_url
    reset_settings_cache()


@pytest.fixture
async def orm(db_url: str) -> AsyncIterator[str]:
    """A fresh schema with the ORM initialised, for service-level tests.

    The schema comes from the models (fast, and always current); tests/integration/test_migrations.py checks that
    the committed migrations produce the same schema, and the browser tests run the real server with migrations.
    """
    from tortoise import Tortoise

    from app.core.db import build_config
    from app.core.security import install_secret_key

    install_secret_key(Fernet.generate_key().decode())
    await Tortoise.init(config=build_config(db_url))
    await Tortoise.generate_schemas()
    try:
        yield db_url
    finally:
        await Tortoise.close_connections()
