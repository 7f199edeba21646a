"""Unauthenticated input never causes a 5xx (issue 13, item 7): a real `landing serve` on 127.0.0.1 gets a few
thousand malformed requests on every route a stranger can reach, and its log grows by a bounded amount.

The request count is fixed (no time budget) and every request goes to the loopback server this test started.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from cryptography.fernet import Fernet

from tests.integration.server_support import landing_serve

ROUNDS = 2500
MAX_LOG_GROWTH = 256 * 1024
CORPID = "dingfuzzcorp"
NESTED = "[" * 15000 + "]" * 15000  # ~30 KB of nesting: a RecursionError waiting to happen
NASTY = [
    "",
    "fuzz\x00user",
    "inf",
    "-inf",
    "nan",
    "1e999",
    "-1",
    "0",
    "9" * 26,
    "null",
    "%00",
    "\x00",
    "' OR 1=1 --",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "A" * 5000,
    "１２３",
    "\ud7ff\ue000",
    "0x7f000001",
    "[]",
    "{}",
]
BODIES = [b"", b"null", b"{", NESTED.encode(), b'{"encrypt": ' + NESTED.encode() + b"}", b"\xff\xfe\x00", b"A" * 70000]


async def _seed(db_url: str, key: str) -> None:
    from tortoise import Tortoise

    from app.core.db import build_config, run_migrations
    from app.core.security import install_secret_key
    from tests import factories

    await run_migrations(db_url)
    install_secret_key(key)
    await Tortoise.init(config=build_config(db_url))
    try:
        org = await factories.org("叮当科技", CORPID, is_main=True)
        from app.models.access import AccessSystem

        await AccessSystem.create(
            org=org, name="EKP", identifier="fuzz-0001", auth_account="fuzzuser", auth_password="fuzz12345678"
        )
    finally:
        await Tortoise.close_connections()


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[tuple[str, Path]]:
    import asyncio

    key = Fernet.generate_key().decode()
    asyncio.run(_seed(db_url, key))
    with landing_serve(tmp_path, db_url, LANDING_SECRET_KEY=key) as running:
        yield running


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode("utf-8", "surrogatepass")).decode()


def _requests(rng: random.Random) -> Iterator[tuple[str, str, dict, dict, bytes]]:
    """(method, path, params, headers, body) for every unauthenticated route, with malformed parts."""

    def value() -> str:
        return rng.choice(NASTY)

    def body() -> bytes:
        return rng.choice(BODIES)

    callback = "/api/ding_console/contacts/callback"
    feed = "/api/lding-console/ldingOrgRestService/"
    for _ in range(ROUNDS):
        kind = rng.randrange(12)
        headers: dict = {}
        if rng.random() < 0.3:
            headers["Authorization"] = rng.choice(
                [
                    _basic("U" * 60000, "x"),
                    _basic("fuzzuser", value()),
                    _basic("fuzz\x00user", "x"),
                    "Basic ###",
                    "Bearer " + "x" * 3000,
                    "Basic",
                ]
            )
        if rng.random() < 0.3:
            headers["Content-Type"] = rng.choice(
                ["application/json", "text/plain", "application/x-www-form-urlencoded"]
            )
        if kind == 0:
            params = {
                "corpid": rng.choice([CORPID, value()]),
                "signature": value(),
                "timestamp": value(),
                "nonce": value(),
            }
            yield "POST", callback, params, headers, body()
        elif kind == 1:
            params = {
                "corpid": CORPID,
                "signature": "abc",
                "timestamp": rng.choice(["inf", "1e999", "9" * 26, "nan"]),
                "nonce": "n",
            }
            yield "POST", callback, params, headers, b'{"encrypt":"abc"}'
        elif kind == 2:
            headers["Authorization"] = rng.choice([_basic("fuzzuser", "fuzz12345678"), _basic("U" * 60000, "p")])
            yield (
                "POST",
                feed + rng.choice(["dept", "person"]),
                {"timestamp": value(), "limit": value()},
                headers,
                body(),
            )
        elif kind == 3:
            yield (
                "POST",
                "/api/v1/access/bind",
                {},
                headers,
                rng.choice(
                    [
                        b'{"identifier": "fuzz-0001", "notifyUrl": "http://0x7f000001/"}',
                        b'{"identifier": "fuzz\\u0000x", "notifyUrl": "http://a\\u0000b/"}',
                        body(),
                    ]
                ),
            )
        elif kind == 4:
            yield "POST", "/api/v1/access/notify-url", {}, headers, body()
        elif kind == 5:
            yield "GET", "/api/v1/access/org", {"x": value()}, headers, b""
        elif kind == 6:
            yield (
                "GET",
                "/oidc/authorize",
                {k: value() for k in ("client_id", "redirect_uri", "response_type", "scope", "state")},
                headers,
                b"",
            )
        elif kind == 7:
            form = {
                k: value()
                for k in ("grant_type", "code", "client_id", "client_secret", "redirect_uri", "code_verifier")
            }
            yield (
                "POST",
                "/oidc/token",
                {},
                {**headers, "Content-Type": "application/x-www-form-urlencoded"},
                "&".join(f"{k}={v}" for k, v in form.items()).encode("utf-8", "surrogatepass"),
            )
        elif kind == 8:
            yield (
                "POST",
                "/oidc/authorize",
                {},
                {**headers, "Content-Type": "application/x-www-form-urlencoded"},
                body(),
            )
        elif kind == 9:
            yield "GET", "/oidc/userinfo", {}, headers, b""
        elif kind == 10:
            yield (
                "GET",
                rng.choice(
                    [
                        "/login",
                        "/logout",
                        "/contacts",
                        "/healthz",
                        "/metrics",
                        "/.well-known/openid-configuration",
                        "/oidc/jwks",
                        "/nonexistent",
                    ]
                ),
                {"dept": value(), "redirect_to": value()},
                headers,
                b"",
            )
        else:
            yield "GET", "/" + value()[:200].replace("\x00", "%00"), {}, headers, b""


async def test_a_few_thousand_malformed_requests_get_no_5xx_and_a_bounded_log(server) -> None:
    base, log_path = server
    assert base.startswith("http://127.0.0.1:")
    before = log_path.stat().st_size
    rng = random.Random(13)
    failures: list[str] = []
    statuses: dict[int, int] = {}
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout, skip_auto_headers=["Content-Type"]) as http:
        for method, path, params, headers, body in _requests(rng):
            clean = {k: v.encode("utf-8", "surrogatepass").decode("latin-1", "replace") for k, v in params.items()}
            try:
                async with http.request(
                    method, base + path, params=clean, headers=headers, data=body or None, allow_redirects=False
                ) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                    if response.status >= 500:
                        failures.append(f"{response.status} {method} {path} {str(params)[:120]}")
            except (aiohttp.ClientError, ValueError) as exc:  # the client refused to send it: nothing reached us
                statuses[0] = statuses.get(0, 0) + 1
                if isinstance(exc, aiohttp.ServerDisconnectedError):
                    failures.append(f"disconnected {method} {path}")
    assert not failures, failures[:10]
    assert sum(v for k, v in statuses.items() if k) > ROUNDS * 0.9, statuses
    growth = log_path.stat().st_size - before
    assert growth < MAX_LOG_GROWTH, f"the log grew by {growth} bytes"
