"""``/docs`` and ``/redoc`` that work without internet, and an OpenAPI document that reads well.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so on an intranet they are blank. The assets come from the
``fastapi-offline`` package instead (Swagger UI and ReDoc, MIT / Apache-2.0 licensed, shipped inside the wheel) and
are served from our own process. The document gets a real title and version, a description per tag, and an example
for every request and response of ``/api/v1`` and the mapping feed (kept in ``openapi_examples``, so the routers stay
about behaviour).

``install`` is safe to call again (the test harness builds the app once per test).
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from app.api.openapi_examples import EXAMPLES

TITLE = "蓝钉管理平台 API"
STATIC_URL = "/static-offline-docs"
DESCRIPTION = (
    "蓝钉管理平台（LanDing Console）对外提供的接口：业务系统用接入标识绑定并读取对接钉钉的参数（接入系统）、"
    "EKP 钉钉集成组件拉取 ID 映射（通讯录映射）、钉钉推送通讯录事件（钉钉回调）、域账号登录（OIDC），以及运维用的"
    "健康检查和 Prometheus 指标。除绑定接口外，业务系统以「认证账号/认证密码」做 HTTP Basic 认证。"
)
TAGS = [
    {"name": "接入系统", "description": "业务系统用接入标识绑定，读取组织与钉钉应用参数，登记接收通知接口。"},
    {"name": "通讯录映射", "description": "EKP 组织元素 ID 与钉钉 ID 的映射，按变更时间增量拉取。"},
    {"name": "钉钉回调", "description": "钉钉通讯录事件回调：验签、解密、入队后立即应答。"},
    {"name": "域账号登录 (OIDC)", "description": "钉钉「域账号登录」对接的 OpenID Connect 身份提供方。"},
    {"name": "运维", "description": "负载均衡健康检查与 Prometheus 指标（抓取配置见 docs/operations.md）。"},
]


def _assets() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def version() -> str:
    try:
        return metadata.version("landing-console")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def add_examples(schema: dict[str, Any]) -> dict[str, Any]:
    """Put the examples from ``EXAMPLES`` into the operations they describe."""
    for (path, method), parts in EXAMPLES.items():
        operation = schema.get("paths", {}).get(path, {}).get(method)
        if operation is None:
            continue
        # These routes answer bad input with 400 {"errcode", "errmsg"} (JsonErrorRoute), never FastAPI's 422.
        operation.get("responses", {}).pop("422", None)
        if "request" in parts:
            body = operation.setdefault("requestBody", {"content": {"application/json": {}}})
            for media in body.setdefault("content", {"application/json": {}}).values():
                media["example"] = parts["request"]
        for status, example in parts.get("responses", {}).items():
            response = operation.setdefault("responses", {}).setdefault(str(status), {"description": ""})
            for media in response.setdefault("content", {"application/json": {}}).values():
                media["example"] = example
    return schema


# ReDoc's sidebar logo and Swagger UI's validator badge would still reach out to their vendors' hosts: the page
# may only load from this console (inline scripts and blob workers are how both bundles start).
CSP = "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; img-src 'self' data:; worker-src 'self' blob:"


def _local_only(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = CSP
    return response


def install(app: FastAPI) -> None:
    app.title = TITLE
    app.version = version()
    app.description = DESCRIPTION
    app.openapi_tags = TAGS
    app.openapi_url = "/openapi.json"
    app.docs_url = app.redoc_url = None  # ours below, not FastAPI's CDN pages
    app.openapi_schema = None

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            app.openapi_schema = add_examples(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    present = {getattr(r, "path", None) for r in app.routes}
    if STATIC_URL not in present:
        app.mount(STATIC_URL, StaticFiles(directory=_assets()), name="static-offline-docs")
    if "/openapi.json" in present:
        return

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_json() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _local_only(
            get_swagger_ui_html(
                openapi_url=f"{root}/openapi.json",
                title=f"{TITLE} - Swagger UI",
                oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
                swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
                swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            )
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _local_only(
            get_redoc_html(
                openapi_url=f"{root}/openapi.json",
                title=f"{TITLE} - ReDoc",
                redoc_js_url=f"{root}{STATIC_URL}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png",
                with_google_fonts=False,
            )
        )
