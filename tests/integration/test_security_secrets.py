"""Secrets (issue 13, item 8): four characters at most, sub-admins see only that one is set, 显示/复制 audited,
redaction by key pattern, private files, and a /metrics that can require a bearer token."""

from __future__ import annotations

import asyncio
import logging
import stat
from pathlib import Path

import aiohttp
import pytest
from cryptography.fernet import Fernet

from app.core.logging import RedactingFilter
from app.core.redaction import redact_log_line
from app.core.security import mask
from app.models.accounts import Role
from app.models.audit import AuditLog
from app.services import access_systems, accounts, orgs, secret_reveal
from app.services.access_systems import SystemInput
from app.services.errors import PermissionDenied
from tests import factories
from tests.integration.server_support import landing_serve


def test_masks_show_at_most_the_last_four_characters() -> None:
    assert mask("ekp-demo-2026") == "********2026"  # 13 characters: today 8 of them showed
    assert mask("short") == "********"  # no length, no start
    assert "ekp" not in mask("ekp-demo-2026")


async def _actor(login: str, role: Role, org):
    account = await factories.account(login, role, org)
    return await accounts.load_actor(account.id, org.id)


async def test_sub_admins_see_only_that_a_secret_is_set_and_cannot_reveal(orm) -> None:
    org = await factories.org("叮当科技", "corpA", is_main=True)
    boss = await _actor("boss", Role.ORG_ADMIN, org)
    sub = await _actor("sub", Role.SUB_ADMIN, org)
    await access_systems.save_system(
        boss, None, SystemInput(name="EKP", identifier="ekp-1", auth_account="ekp-user", auth_password="pw-0123456789")
    )
    assert (await orgs.get_org(boss, org.id)).appsecret_masked.endswith(org.appsecret[-4:])
    assert (await access_systems.list_systems(boss))[0].auth_password_masked == "********6789"
    assert (await orgs.get_org(sub, org.id)).appsecret_masked == "已设置"
    assert (await orgs.get_org(sub, org.id)).aes_key_masked == "已设置"
    assert (await access_systems.list_systems(sub))[0].auth_password_masked == "已设置"

    with pytest.raises(PermissionDenied):
        await secret_reveal.reveal(sub, org.id, "aes_key")
    assert await secret_reveal.reveal(boss, org.id, "aes_key") == org.aes_key
    assert await secret_reveal.reveal(boss, org.id, "callback_token", purpose="复制") == org.callback_token
    entries = await AuditLog.filter(action="org.reveal_secret").order_by("id")
    assert [e.detail for e in entries] == ["显示 AESKey", "复制 回调Token"]
    assert all(org.aes_key not in (e.detail + str(e.after)) for e in entries)


@pytest.mark.parametrize(
    "line",
    [
        "POST /x?client_secret=abc123 done",
        '{"appSecret": "abc123", "name": "x"}',
        "ekp_password: abc123",
        "sync with apiKey=abc123",
        "Authorization: Bearer abc123abc123",
        "callback_token=abc123&corpid=ding1",
    ],
)
def test_log_lines_are_redacted_by_key_pattern(line: str) -> None:
    assert "abc123" not in redact_log_line(line)
    record = logging.LogRecord("t", logging.WARNING, __file__, 1, "%s", (line,), None)
    RedactingFilter().filter(record)
    assert "abc123" not in record.getMessage()


async def _seed_metrics_token(db_url: str, key: str, token: str) -> None:
    from tortoise import Tortoise

    from app.core.db import build_config, run_migrations
    from app.core.security import install_secret_key

    await run_migrations(db_url)
    install_secret_key(key)
    await Tortoise.init(config=build_config(db_url))
    try:
        from app.services import security_settings

        await accounts.ensure_bootstrap_admin()
        admin = await accounts.load_actor(1)
        await security_settings.save(
            admin, allowed_ranges="", trusted_proxies="", initial_password="fixed", metrics_token=token
        )
    finally:
        await Tortoise.close_connections()


def test_private_files_and_a_metrics_token(tmp_path: Path, db_url: str) -> None:
    key, token = Fernet.generate_key().decode(), "metrics-token-0123456789"
    asyncio.run(_seed_metrics_token(db_url, key, token))

    async def probe(base: str) -> tuple[int, int, str]:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/metrics") as anonymous:
                await anonymous.read()
            async with http.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}) as allowed:
                text = await allowed.text()
            return anonymous.status, allowed.status, text

    with landing_serve(tmp_path, db_url, LANDING_SECRET_KEY=key) as (base, _):
        anonymous, allowed, text = asyncio.run(probe(base))
        data = tmp_path / "data"
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        if db_url.startswith("sqlite://"):
            database = Path(db_url.removeprefix("sqlite://"))
            assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert anonymous == 401 and allowed == 200
    assert "landing_orgs" in text and token not in text
