"""Chinese answers for requests that reach no page or carry bad URL parameters (instead of English defaults).

``/contacts?dept=abc`` used to answer FastAPI's English validation JSON, an unknown path NiceGUI's English 404 page.
Pages now get a small 页面不存在 card with a link home; API paths get ``{"errcode", "errmsg"}`` JSON in Chinese.
"""

from __future__ import annotations

import html

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response

_API_PREFIXES = ("/api/", "/oidc/", "/.well-known/", "/healthz", "/metrics", "/_nicegui")

_STYLE = (
    "body{margin:0;font-family:'PingFang SC','Microsoft YaHei',sans-serif;background:#f3f5f8;color:#1f2329}"
    ".card{box-sizing:border-box;width:min(420px,calc(100% - 24px));margin:12vh auto;background:#fff;"
    "border-radius:8px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:32px;text-align:center}"
    "h1{font-size:20px;margin:0 0 8px}p{color:#646a73;font-size:14px}a{color:#1677ff}"
)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(_API_PREFIXES)


def card(title: str, message: str, status: int) -> HTMLResponse:
    body = (
        f'<div class="card" id="not-found"><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>'
        '<p><a href="/">返回首页</a></p></div>'
    )
    doc = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)} - 蓝钉管理平台</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(doc, status_code=status)


async def not_found(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse({"errcode": 404, "errmsg": "接口不存在"}, status_code=404)
    return card("页面不存在", "您访问的页面不存在或已被删除，请检查地址是否正确。", 404)


async def bad_parameters(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        where = ""
        if isinstance(exc, RequestValidationError) and exc.errors():
            where = ".".join(str(p) for p in exc.errors()[0].get("loc", ()) if p not in ("body", "query"))[:64]
        return JSONResponse({"errcode": 400, "errmsg": f"请求参数格式错误：{where}".rstrip("：")}, status_code=400)
    return card("页面不存在", "链接中的参数不正确，要查看的部门、人员或记录不存在。", 404)
