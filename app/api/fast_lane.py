"""A short path through the server for DingTalk callbacks and ``/healthz``.

The UI framework wraps every request in several middlewares (session, request tracking, cache headers,
redirects), each costing a task and a stream per request. DingTalk callbacks and health probes need none of them,
and under a burst of callbacks that overhead is most of the server's CPU. ``install`` puts a plain ASGI dispatcher
in front of the middleware stack: these paths go straight to a small FastAPI app holding only their routers;
everything else goes the normal way. The routes stay registered on the main app too (OpenAPI docs, tests).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.api import dingtalk_callback, health

CALLBACK_PATH = "/api/ding_console/contacts/callback"
FAST_PATHS = frozenset({CALLBACK_PATH, "/healthz"})


def _lane() -> Any:
    """The short path's app: only its routers, and the same security headers as every other answer."""
    from app.core.config import get_settings
    from app.core.http_headers import SecurityHeaders

    lane = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    lane.include_router(dingtalk_callback.router)
    lane.include_router(health.router)
    return SecurityHeaders(lane, public_base_url=lambda: get_settings().effective_public_base_url)


def install(app: Any) -> None:
    """Wrap ``app``'s middleware stack once (building the app again, as the test harness does, is harmless)."""
    if getattr(app, "_fast_lane", None) is not None:
        return
    lane = _lane()
    app._fast_lane = lane
    build_stack = app.build_middleware_stack

    def build_with_lane() -> Any:
        stack = build_stack()

        async def dispatch(scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope.get("path") in FAST_PATHS:
                await lane(scope, receive, send)
            else:
                await stack(scope, receive, send)

        return dispatch

    app.build_middleware_stack = build_with_lane
    app.middleware_stack = None
