"""Typed settings, read from the environment (prefix ``LANDING_``) and an optional ``.env`` file.

Secrets are ``SecretStr`` so they never show up in a repr or a log line. The encryption key and the session
secret are generated into the data folder (mode 0600) on first start when not given, so no install runs with a
value that is written in this repository.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that must never protect a real installation: refused at startup outside demo mode.
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "placeholder", "demo", "please-change"})


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to change."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LANDING_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Folder for the SQLite file, keys and uploads")
    database_url: str = Field(default="", description="Tortoise URL; empty means SQLite in the data folder")
    host: str = "127.0.0.1"
    port: int = 8080
    public_base_url: str = Field(default="", description="External address, used for callback URLs")
    secret_key: SecretStr = Field(default=SecretStr(""), description="Fernet key for secrets at rest")
    session_secret: SecretStr = Field(default=SecretStr(""), description="Signs the browser session cookie")
    dingtalk_oapi_base: str = "https://oapi.dingtalk.com"
    dingtalk_api_base: str = "https://api.dingtalk.com"
    dingtalk_qps: float = 20.0
    ekp_default_url: str = ""
    ekp_page_size: int = 2000
    ekp_timeout_seconds: float = 60.0  # one EKP request (a page of the org export) may take this long
    log_level: str = "INFO"
    log_json: bool = True
    demo: bool = False
    outbound_allowed_ranges: str = Field(
        default="",
        description="Internal ranges user-set URLs may reach (comma-separated, e.g. 10.1.0.0/16); see docs/security.md",
    )
    sync_log_retention_days: int = 180  # 同步日志保留天数 until system initialisation saves one (log_retention.py)

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("LANDING_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{(self.data_dir / 'landing.sqlite3').resolve()}"

    @property
    def effective_public_base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    def ensure_secrets(self) -> None:
        """Fill missing secrets from files in the data folder, creating them on first start.

        An explicitly configured placeholder is refused outside demo mode: that is an admin mistake we must not hide.
        """
        from cryptography.fernet import Fernet

        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o700)  # keys, the SQLite file and uploads: the service account only
        for name, factory in (
            ("secret_key", lambda: Fernet.generate_key().decode()),
            ("session_secret", lambda: secrets.token_urlsafe(48)),
        ):
            value = getattr(self, name).get_secret_value()
            env_name = f"LANDING_{name.upper()}"
            if value:
                if value.lower() in PLACEHOLDER_SECRETS and not self.demo:
                    raise ConfigError(
                        f"{env_name} is set to a placeholder value. Remove it to have a key generated in "
                        f'{self.data_dir}, or set a real random value (e.g. `python -c "import secrets; '
                        f'print(secrets.token_urlsafe(48))"`).'
                    )
                continue
            setattr(self, name, SecretStr(_read_or_create_secret(self.data_dir / f"{name}.key", factory)))


def _read_or_create_secret(path: Path, factory) -> str:
    if path.exists():
        return path.read_text().strip()
    value = factory()
    # Create with 0600 from the start: no window in which another local user could read it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Tests and the CLI change the environment and then need fresh settings."""
    get_settings.cache_clear()
