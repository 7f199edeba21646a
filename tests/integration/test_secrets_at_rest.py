"""Secrets are stored encrypted: the database file never holds them as plain text."""

from __future__ import annotations

from pathlib import Path

from tortoise import Tortoise

from app.models.orgs import Org
from app.services import audit
from tests import factories


async def test_org_secrets_are_not_in_the_database_in_plain_text(orm: str) -> None:
    org = await factories.org("叮当科技", "corpSecret")
    org.appsecret = "PlainAppSecret-4f9c2e7a1b"
    org.callback_token = "PlainCallbackToken77"
    await org.save()
    # Read back through the model: plain again.
    again = await Org.get(id=org.id)
    assert again.appsecret == "PlainAppSecret-4f9c2e7a1b"
    # Read the raw column: encrypted.
    conn = Tortoise.get_connection("default")
    _, rows = await conn.execute_query(
        "SELECT appsecret, callback_token FROM org WHERE id = $1"
        if conn.capabilities.dialect == "postgres"
        else "SELECT appsecret, callback_token FROM org WHERE id = ?",
        [org.id],
    )
    raw = dict(rows[0])
    assert "PlainAppSecret" not in raw["appsecret"] and raw["appsecret"].startswith("enc:v1:")
    assert "PlainCallbackToken77" not in raw["callback_token"]
    if orm.startswith("sqlite://"):
        await conn.execute_script("PRAGMA wal_checkpoint(FULL);")
        data = Path(orm.removeprefix("sqlite://")).read_bytes()  # noqa: ASYNC240 (a test reading its own file)
        assert b"PlainAppSecret-4f9c2e7a1b" not in data
        assert b"corpSecret" in data  # the file is readable: the check above is meaningful


async def test_audit_snapshots_never_keep_secret_values(orm: str) -> None:
    entry = await audit.record(
        None,
        "org.edit",
        before={"appsecret": "old-secret", "name": "A"},
        after={"appsecret": "new-secret", "name": "B"},
    )
    assert entry.before == {"appsecret": "******", "name": "A"}
    assert entry.after == {"appsecret": "******", "name": "B"}
