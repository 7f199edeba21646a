"""Browser hardening seen from outside (issue 13, item 5): headers, the session cookie, the websocket's origin."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.integration.server_support import landing_serve

PATHS = ["/login", "/healthz", "/metrics", "/.well-known/openid-configuration", "/api/v1/access/org", "/nope"]


async def _get(http: aiohttp.ClientSession, url: str, **kwargs) -> aiohttp.ClientResponse:
    async with http.get(url, allow_redirects=False, **kwargs) as response:
        await response.read()
        return response


async def test_headers_on_every_answer_and_a_lax_httponly_cookie(tmp_path: Path, db_url: str) -> None:
    with landing_serve(tmp_path, db_url) as (base, _):
        async with aiohttp.ClientSession() as http:
            for path in PATHS:
                response = await _get(http, base + path)
                headers = response.headers
                assert headers["X-Frame-Options"] == "DENY", path
                assert headers["X-Content-Type-Options"] == "nosniff", path
                assert headers["Referrer-Policy"] == "same-origin", path
                csp = headers["Content-Security-Policy"]
                assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, path
                assert "Strict-Transport-Security" not in headers, path  # plain http: no HSTS
            response = await _get(http, base + "/login")
            cookie = "; ".join(response.headers.getall("Set-Cookie", [])).lower()
            assert "httponly" in cookie and "samesite=lax" in cookie
            assert "secure" not in cookie


async def test_https_public_address_gets_hsts_and_a_secure_cookie(tmp_path: Path, db_url: str) -> None:
    with landing_serve(tmp_path, db_url, LANDING_PUBLIC_BASE_URL="https://landing.example.com") as (base, _):
        async with aiohttp.ClientSession() as http:
            response = await _get(http, base + "/login")
            assert response.headers["Strict-Transport-Security"].startswith("max-age=")
            cookie = "; ".join(response.headers.getall("Set-Cookie", [])).lower()
            assert "secure" in cookie and "httponly" in cookie


async def test_the_websocket_refuses_other_origins(tmp_path: Path, db_url: str) -> None:
    path = "/_nicegui_ws/socket.io/?EIO=4&transport=polling"
    with landing_serve(tmp_path, db_url) as (base, _):
        async with aiohttp.ClientSession() as http:
            evil = await _get(http, base + path, headers={"Origin": "https://evil.example.com"})
            assert evil.status == 400
            own = await _get(http, base + path, headers={"Origin": base})
            assert own.status == 200
