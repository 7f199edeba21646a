"""``landing connector``: run the component, or reset its admin password."""

from __future__ import annotations

import argparse
import asyncio
import os

from app.connector.config import get_settings, reset_settings_cache


async def _reset_admin() -> str:
    from app.connector import db
    from app.connector.services import accounts
    from app.core.security import install_secret_key

    settings = get_settings()
    settings.ensure_secrets()
    install_secret_key(settings.secret_key.get_secret_value())
    ctx = await db.open_context(settings.effective_database_url)
    try:
        return await accounts.reset_admin()
    finally:
        await db.close_context(ctx)


def run(args: argparse.Namespace) -> None:
    if args.port:
        os.environ["LANDING_CONNECTOR_PORT"] = str(args.port)
    reset_settings_cache()
    if args.reset_admin:
        print(f"蓝钉集成组件账号 admin 的临时密码：{asyncio.run(_reset_admin())}（登录后须修改）")
        return
    from app.connector.main import serve

    serve(get_settings())
