"""The ``landing`` command: serve, demo, migrate, reset-password and the simulators."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from app.core.config import ConfigError, get_settings, reset_settings_cache


def _cmd_serve(args: argparse.Namespace) -> None:
    from app.main import serve

    serve()


def _cmd_demo(args: argparse.Namespace) -> None:
    # Demo mode: everything on loopback, data under ./data, no accounts anywhere (see app/demo.py).
    os.environ.setdefault("LANDING_DEMO", "true")
    os.environ.setdefault("LANDING_DATA_DIR", "data")
    os.environ.setdefault("LANDING_LOG_JSON", "false")
    reset_settings_cache()
    from app.demo import run_demo

    run_demo(
        port=args.port, dingtalk_port=args.dingtalk_port, ekp_port=args.ekp_port, connector_port=args.connector_port
    )


def _cmd_migrate(args: argparse.Namespace) -> None:
    from app.core.db import run_migrations

    settings = get_settings()
    settings.ensure_secrets()
    asyncio.run(run_migrations(settings.effective_database_url))
    print("migrations applied")


async def _with_orm(coro_factory):
    from tortoise import Tortoise

    from app.core.db import build_config, run_migrations
    from app.core.security import install_secret_key

    settings = get_settings()
    settings.ensure_secrets()
    install_secret_key(settings.secret_key.get_secret_value())
    await run_migrations(settings.effective_database_url)
    await Tortoise.init(config=build_config(settings.effective_database_url))
    try:
        return await coro_factory()
    finally:
        await Tortoise.close_connections()


def _cmd_reset_password(args: argparse.Namespace) -> None:
    from app.services import accounts
    from app.services.errors import NotFound

    try:
        temporary = asyncio.run(_with_orm(lambda: accounts.reset_password(args.login)))
    except NotFound as exc:
        print(exc.message, file=sys.stderr)
        raise SystemExit(2) from exc
    print(f"账号 {args.login} 的临时密码：{temporary}")
    print("首次登录后必须修改密码。")


def _cmd_sync(args: argparse.Namespace) -> None:
    from app.cli_sync import main as sync_main

    raise SystemExit(asyncio.run(sync_main(args.org, full=args.full)))


def _cmd_connector(args: argparse.Namespace) -> None:
    from app.connector.cli import run

    run(args)


def _cmd_check_keys(args: argparse.Namespace) -> None:
    from app.core import startup_checks

    settings = get_settings()
    startup_checks.check_data_folder(settings.data_dir)
    report = asyncio.run(startup_checks.inspect_keys(settings))
    problem = startup_checks.explain(report)
    if problem:
        print(problem, file=sys.stderr)
        raise SystemExit(1)
    if report.key_missing:
        print(f"数据库中没有加密数据；首次启动时将生成密钥 {report.key_source}")
    else:
        print(f"密钥检查通过：{report.key_source} 可以解密数据库中抽查的 {report.checked} 个加密值")


def _simulator(module: str):
    import importlib

    return importlib.import_module(module)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="landing", description="蓝钉管理平台 LanDing Console")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the console").set_defaults(func=_cmd_serve)
    demo = sub.add_parser("demo", help="run the console with DingTalk and EKP simulators and demo data")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--dingtalk-port", type=int, default=18081)
    demo.add_argument("--ekp-port", type=int, default=18082)
    demo.add_argument("--connector-port", type=int, default=8090)
    demo.set_defaults(func=_cmd_demo)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_cmd_migrate)
    connector = sub.add_parser(
        "connector", help="run the integration component (蓝钉集成组件) beside a business system"
    )
    connector.add_argument("--port", type=int, default=None, help="default 8090 (LANDING_CONNECTOR_PORT)")
    connector.add_argument("--reset-admin", action="store_true", help="give the connector's admin a temporary password")
    connector.set_defaults(func=_cmd_connector)
    sub.add_parser("check-keys", help="check that the secret key opens the stored secrets").set_defaults(
        func=_cmd_check_keys
    )
    reset = sub.add_parser("reset-password", help="give an account a temporary password")
    reset.add_argument("login")
    reset.set_defaults(func=_cmd_reset_password)
    sync = sub.add_parser("sync", help="run one org's contacts sync in the foreground (exit 1 on 失败)")
    sync.add_argument("org", help="组织ID或组织名称")
    sync.add_argument("--full", action="store_true", help="全量同步")
    sync.set_defaults(func=_cmd_sync)
    for name, module, text in (
        ("dingtalk-sim", "app.dingtalk.simulator.cli", "run the DingTalk simulator"),
        ("ekp-sim", "app.ekp.simulator.cli", "run the EKP simulator"),
    ):
        try:
            sim = _simulator(module)
        except ImportError:
            continue
        sim_parser = sub.add_parser(name, help=text)
        sim.add_arguments(sim_parser)
        sim_parser.set_defaults(func=lambda a, s=sim: s.run(a))
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except ConfigError as exc:
        print(f"配置错误: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
