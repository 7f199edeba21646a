"""``landing demo``: the console on loopback with demo settings, so a newcomer sees a working system at once."""

from __future__ import annotations

from app.core.config import get_settings


def run_demo(port: int = 8080) -> None:
    from app.main import serve

    settings = get_settings()
    settings.port = port
    print(f"蓝钉管理平台 demo: http://{settings.host}:{port}  (login: admin / 1, then change the password)")
    serve(settings)
