"""Browser hardening on every answer (pages, APIs, static files): security headers and same-origin websockets.

The Content-Security-Policy is as strict as NiceGUI allows: Vue compiles the page's templates in the browser and
NiceGUI writes inline start-up scripts and styles, so scripts need 'unsafe-inline' and 'unsafe-eval'; everything
else is this origin only, nothing may frame us, and plugins are off. Avatars come from DingTalk over https.
HSTS is sent only when the public base URL is https (a plain-http install must not be told to upgrade).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob: https:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)
STATIC_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecurityHeaders:
    """Pure ASGI middleware: adds the headers to every HTTP answer that does not already set them."""

    def __init__(self, app: Any, public_base_url: Callable[[], str]) -> None:
        self.app = app
        self.public_base_url = public_base_url

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(STATIC_HEADERS)
        if self.public_base_url().startswith("https://"):
            extra.append(HSTS)

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in extra if n not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def same_origin_checker(public_base_url: Callable[[], str]) -> Callable[[str | None, dict], bool]:
    """For the websocket (engine.io): the page's own origin, or the public base URL's, and nothing else."""

    def allowed(origin: str | None, environ: dict) -> bool:
        if not origin:
            return True  # not a browser: the session cookie is still required for anything that matters
        origin = origin.lower().rstrip("/")
        host = environ.get("HTTP_HOST", "")
        scheme = environ.get("wsgi.url_scheme", "http")
        own = {f"{scheme}://{host}".lower()}
        if "HTTP_X_FORWARDED_HOST" in environ or "HTTP_X_FORWARDED_PROTO" in environ:
            fwd_scheme = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip()
            fwd_host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip()
            own.add(f"{fwd_scheme}://{fwd_host}".lower())
        public = origin_of(public_base_url())
        return origin in own or (bool(public) and origin == public)

    return allowed
