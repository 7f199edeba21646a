"""Connector settings: the console's settings shape with the ``LANDING_CONNECTOR_`` prefix and its own defaults.

Reusing ``Settings`` keeps the secret handling identical (generated key files in the data folder, placeholders
refused); the connector adds where the DingTalk login pages live and an optional bind-on-start for the demo.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from app.core.config import Settings


class ConnectorSettings(Settings):
    model_config = SettingsConfigDict(env_prefix="LANDING_CONNECTOR_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("data/connector"), description="SQLite file and key files of the connector")
    port: int = 8090
    dingtalk_login_base: str = Field(
        default="https://login.dingtalk.com", description="Where the OAuth2 login page lives (login.dingtalk.com)"
    )
    bind_console_url: str = Field(default="", description="Bind on start (demo): the console's address")
    bind_identifier: str = Field(default="", description="Bind on start (demo): the access identifier")
    todo_account: str = Field(default="", description="Initial todo API account (demo); later set on the pages")
    todo_password: SecretStr = Field(default=SecretStr(""), description="Initial todo API password (demo)")
    sso_redirect_url: str = Field(default="", description="Initial 登录回调地址 of the business system (demo)")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{(self.data_dir / 'connector.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> ConnectorSettings:
    return ConnectorSettings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()
