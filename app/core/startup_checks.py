"""Refuse to start in a state that would only fail later, and say what to do.

Run by ``landing serve`` before anything is created, and by ``landing check-keys`` on demand:

- the data folder must exist (or be creatable) and be writable: a read-only or missing folder ends the start with
  a message instead of a hang or a traceback;
- the secret key must open the secrets already stored in the database. A missing ``secret_key.key`` next to
  existing encrypted data used to start silently with a brand-new key (``/healthz`` green while callbacks, the
  mapping feed and the API failed): now the start is refused, no new key is written, and the message names the key
  file expected and how to restore it.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from app.core.config import ConfigError, Settings
from app.core.security import ENCRYPTED_PREFIX

KEY_FILE = "secret_key.key"


@dataclass
class KeyReport:
    key_source: str  # where the key comes from (the file path or the environment variable)
    checked: int  # stored secrets tried
    failed: int  # of those, how many the key cannot open
    key_missing: bool = False


def check_data_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise ConfigError(
            f"数据目录 {folder.resolve()} 不可写（{exc.strerror or exc}）：请检查磁盘空间、"
            f"挂载方式（是否只读）和目录权限，或用 LANDING_DATA_DIR 指定一个可写的目录。"
            f"The data folder {folder.resolve()} is not writable."
        ) from exc


def _key_of(settings: Settings) -> tuple[str | None, str]:
    configured = settings.secret_key.get_secret_value()
    if configured:
        return configured, "LANDING_SECRET_KEY"
    path = settings.data_dir / KEY_FILE
    if path.exists():
        return path.read_text().strip(), str(path.resolve())
    return None, str(path.resolve())


def _may_hold_data(db_url: str) -> bool:
    return not db_url.startswith("sqlite://") or os.path.exists(db_url.removeprefix("sqlite://"))


async def _stored_secrets(db_url: str, limit_per_column: int = 3) -> list[str]:
    """A few encrypted values of every encrypted column, read as stored (nothing is decrypted on the way)."""
    from tortoise import Tortoise
    from tortoise.context import TortoiseContext

    from app.core.db import build_config
    from app.core.fields import EncryptedTextField

    if not _may_hold_data(db_url):
        return []
    values: list[str] = []
    async with TortoiseContext() as ctx:
        await ctx.init(config=build_config(db_url))
        conn = Tortoise.get_connection("default")
        for model in Tortoise.apps["models"].values():
            for name, field in model._meta.fields_map.items():
                if not isinstance(field, EncryptedTextField):
                    continue
                column = field.source_field or name
                table = model._meta.db_table
                sql = (
                    f'SELECT "{column}" AS v FROM "{table}" '
                    f"WHERE \"{column}\" LIKE '{ENCRYPTED_PREFIX}%' LIMIT {limit_per_column}"
                )
                try:
                    _, rows = await conn.execute_query(sql)
                except Exception:  # table not there yet (first start, older schema): nothing stored in it
                    continue
                values.extend(str(r["v"]) for r in rows)
        await Tortoise.close_connections()
    return values


async def inspect_keys(settings: Settings) -> KeyReport:
    key, source = _key_of(settings)
    stored = await _stored_secrets(settings.effective_database_url)
    if key is None:
        return KeyReport(source, len(stored), len(stored), key_missing=True)
    try:
        box = Fernet(key.encode())
    except ValueError:
        return KeyReport(source, len(stored), len(stored))
    failed = 0
    for value in stored:
        try:
            box.decrypt(value[len(ENCRYPTED_PREFIX) :].encode())
        except InvalidToken:
            failed += 1
    return KeyReport(source, len(stored), failed)


def explain(report: KeyReport) -> str | None:
    """The refusal message, or None when the key fits the data."""
    if report.key_missing and report.checked:
        return (
            f"密钥文件缺失：数据库中已有加密保存的密钥，但找不到加密密钥 {report.key_source}。"
            f"请从备份恢复该文件（权限 0600），或用环境变量 LANDING_SECRET_KEY 提供原密钥，"
            f"然后运行 `landing check-keys` 确认。未生成新密钥：新密钥无法解密已有数据。"
            f" The secret key file {report.key_source} is missing but the database holds encrypted secrets: restore it "
            f"from your backup, then run `landing check-keys`."
        )
    if report.failed:
        return (
            f"加密密钥不匹配：{report.key_source} 无法解密数据库中已有的加密值"
            f"（抽查 {report.checked} 个，{report.failed} 个失败）。请恢复与这份数据一同备份的 {KEY_FILE}"
            f"（或正确的 LANDING_SECRET_KEY），然后运行 `landing check-keys` 确认。"
            f" The key from {report.key_source} does not open the secrets stored in the database."
        )
    return None


def require_ready(settings: Settings) -> None:
    """Raise ``ConfigError`` with the reason when the console must not start."""
    check_data_folder(settings.data_dir)
    message = explain(asyncio.run(inspect_keys(settings)))
    if message:
        raise ConfigError(message)
