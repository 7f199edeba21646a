"""The transport: the one place where the platform sends HTTP to DingTalk.

Everything a request needs before and after the wire is written here once: the app credentials (``App``), the
access-token cache (one refresh shared by concurrent callers, refreshed ahead of expiry, one retry after a token
error), the per-app/per-API rate limiter, bounded retries of transient failures with jittered backoff, the envelope
checks that turn an answer into a payload or an exception of ``app.dingtalk.errors``, and redaction (through
``app.core.redaction``) of every URL, log line and exception text built here.

The resource objects of ``DingTalkClient`` (``client.contacts``, ``client.login``, ``client.notify``,
``client.exclusive``) hold a ``Transport`` and only build request bodies and parse results; they reach the network
exclusively through ``Transport.oapi`` / ``Transport.api`` / ``Transport.request``. This module imports none of them,
so the package has no import cycle.

The caller owns the ``aiohttp.ClientSession`` (created at startup, closed at shutdown) and shares one transport per
process so that the rate limit and the token cache cover cron jobs, callbacks and manual actions alike. Nothing here
touches an event loop at import time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp

from app.core import metrics
from app.core.redaction import redact, redact_mapping, redact_url
from app.dingtalk.errors import DingTalkAPIError, DingTalkTransportError, is_transient_status
from app.dingtalk.ratelimit import RateLimiter

__all__ = ["DEFAULT_API_BASE", "DEFAULT_OAPI_BASE", "App", "Transport"]

logger = logging.getLogger("app.dingtalk")

DEFAULT_OAPI_BASE = "https://oapi.dingtalk.com"
DEFAULT_API_BASE = "https://api.dingtalk.com"
TOKEN_HEADER = "x-acs-dingtalk-access-token"


@dataclass(frozen=True, slots=True)
class App:
    """One DingTalk app's credentials. ``appsecret`` never appears in ``repr`` (and therefore not in logs)."""

    corpid: str
    appkey: str
    appsecret: str = field(repr=False)
    agent_id: int | None = None

    def __post_init__(self) -> None:
        # Settings and the simulator's "corpid:appkey:appsecret:agentid" strings hand the agent id over as text.
        if isinstance(self.agent_id, str):
            object.__setattr__(self, "agent_id", int(self.agent_id) if self.agent_id.strip() else None)


# Where the app access token goes: "query" (oapi ?access_token=), "header" (v1.0 x-acs-dingtalk-access-token) or
# "none" (gettoken, sns signature calls, the OAuth2 code exchange, calls made with a user's own token).
Auth = Literal["none", "query", "header"]
Flavour = Literal["oapi", "v1"]
ParamsArg = Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None


@dataclass(slots=True)
class _CachedToken:
    token: str
    refresh_at: float  # monotonic time after which the next caller fetches a fresh token


class Transport:
    """Token cache, per-app/per-API rate limiting, bounded retries and envelope checks for every DingTalk call."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        oapi_base: str = DEFAULT_OAPI_BASE,
        api_base: str = DEFAULT_API_BASE,
        qps: float = 20.0,
        max_retries: int = 4,
        backoff_base: float = 0.2,
        timeout: float = 10.0,
        backoff_max: float = 8.0,
        throttle_wait: float = 1.0,
        token_refresh_margin: float = 600.0,
    ) -> None:
        self._session = session
        self.oapi_base = oapi_base.rstrip("/")
        self.api_base = api_base.rstrip("/")
        self.qps = qps
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        # The throttling docs ask for at least a one second pause after 90018 / QpsLimit before retrying.
        self.throttle_wait = throttle_wait
        self.token_refresh_margin = token_refresh_margin
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._timeout_seconds = timeout
        self.limiter = RateLimiter(qps)
        self._tokens: dict[str, _CachedToken] = {}
        self._token_tasks: dict[str, asyncio.Future[str]] = {}
        # Counters for benchmarks and health pages; they never influence behaviour.
        self.stats: dict[str, int] = {"requests": 0, "retries": 0, "token_fetches": 0, "token_refreshes": 0}

    # -- access token -----------------------------------------------------------------------------------------

    async def get_access_token(self, app: App) -> str:
        """The app's access token, cached per appkey; concurrent callers share a single refresh."""
        cached = self._tokens.get(app.appkey)
        if cached is not None and time.monotonic() < cached.refresh_at:
            return cached.token
        task = self._token_tasks.get(app.appkey)
        if task is None:
            task = asyncio.ensure_future(self._fetch_token(app))
            self._token_tasks[app.appkey] = task
            task.add_done_callback(lambda t, key=app.appkey: self._forget_token_task(key, t))
        # shield: one cancelled caller must not cancel the refresh the others are waiting for.
        return await asyncio.shield(task)

    def _forget_token_task(self, appkey: str, task: asyncio.Future[str]) -> None:
        if self._token_tasks.get(appkey) is task:
            del self._token_tasks[appkey]
        if not task.cancelled():
            task.exception()  # mark retrieved: waiters may all have gone away

    async def _fetch_token(self, app: App) -> str:
        data = await self.request(
            app=app,
            method="GET",
            base=self.oapi_base,
            path="/gettoken",
            params={"appkey": app.appkey, "appsecret": app.appsecret},
            auth="none",
            flavour="oapi",
        )
        token = str(data.get("access_token") or "")
        if not token:
            raise DingTalkTransportError("gettoken returned no access_token", url=f"{self.oapi_base}/gettoken")
        expires_in = float(data.get("expires_in") or 7200)
        # Refresh ahead of expiry (the calling guide suggests ~10 minutes), never later than 3/4 of the lifetime.
        margin = min(self.token_refresh_margin, expires_in / 4)
        self._tokens[app.appkey] = _CachedToken(token, time.monotonic() + expires_in - margin)
        self.stats["token_fetches"] += 1
        logger.info("access token fetched for appkey=%s (expires_in=%ss)", app.appkey, int(expires_in))
        return token

    def invalidate_token(self, app: App, token: str | None = None) -> None:
        """Drop the cached token (only if it is still ``token`` when given, so a fresh one is not thrown away)."""
        cached = self._tokens.get(app.appkey)
        if cached is not None and (token is None or cached.token == token):
            del self._tokens[app.appkey]

    # -- request entry points used by the resource objects ------------------------------------------------------

    async def oapi(
        self,
        app: App,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        method: str = "POST",
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Call an oapi endpoint with the app token in the query string; returns the envelope (``errcode`` 0)."""
        return await self.request(
            app=app,
            method=method,
            base=self.oapi_base,
            path=path,
            params=params,
            json_body=body,
            auth="query",
            flavour="oapi",
        )

    async def api(
        self,
        app: App,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        limit_key: str | None = None,
    ) -> dict[str, Any]:
        """Call a v1.0 endpoint with the app token in the header. ``limit_key`` is the path template for paths
        that embed ids (``/v1.0/todo/users/{unionId}/tasks``), so all users share the API's rate limit."""
        return await self.request(
            app=app,
            method=method,
            base=self.api_base,
            path=path,
            params=params,
            json_body=json_body,
            auth="header",
            flavour="v1",
            limit_key=limit_key,
        )

    # -- the choke point -----------------------------------------------------------------------------------------

    async def request(
        self,
        *,
        app: App | None,
        method: str,
        base: str,
        path: str,
        params: ParamsArg = None,
        json_body: Mapping[str, Any] | None = None,
        auth: Auth,
        flavour: Flavour,
        headers: Mapping[str, str] | None = None,
        limit_key: str | None = None,
        limiter_owner: str | None = None,
    ) -> dict[str, Any]:
        """Send one logical request: rate limit, token, transient retries, one token refresh on token errors.

        ``params`` may be a callable so that per-attempt values (the sns signature timestamp) are recomputed on
        every retry. ``limiter_owner`` names the rate-limit owner when there is no ``App`` (scan-login appid).
        """
        owner = limiter_owner or (app.appkey if app is not None else "-")
        bucket_key = (owner, limit_key or path)
        attempt = 0
        token_refreshed = False
        while True:
            token: str | None = None
            query = dict(params() if callable(params) else (params or {}))
            send_headers = dict(headers or {})
            if auth != "none":
                if app is None:
                    raise ValueError("an App is required for token-authenticated calls")
                token = await self.get_access_token(app)
                if auth == "query":
                    query["access_token"] = token
                else:
                    send_headers[TOKEN_HEADER] = token
            try:
                sent = self._send(bucket_key, method, base, path, query, json_body, send_headers, flavour)
                return await metrics.dingtalk_call(bucket_key, sent)
            except DingTalkAPIError as exc:
                if token is not None and app is not None and exc.is_token_invalid and not token_refreshed:
                    token_refreshed = True
                    self.invalidate_token(app, token)
                    self.stats["token_refreshes"] += 1
                    logger.warning(
                        "%s %s: token rejected (errcode %s), refreshing and retrying once", method, path, exc.errcode
                    )
                    continue
                if not exc.is_transient or attempt >= self.max_retries:
                    raise
                delay = self._backoff(attempt, throttled=exc.is_throttled)
                reason = f"errcode {exc.errcode} {exc.errmsg[:80]}"
            except DingTalkTransportError as exc:
                if not exc.is_transient or attempt >= self.max_retries:
                    raise
                delay = self._backoff(attempt, retry_after=exc.retry_after)
                reason = exc.reason
            attempt += 1
            self.stats["retries"] += 1
            logger.warning(
                "%s %s: transient failure (%s); retry %d/%d in %.2fs",
                method,
                path,
                redact(reason),
                attempt,
                self.max_retries,
                delay,
            )
            await asyncio.sleep(delay)

    def _backoff(self, attempt: int, *, throttled: bool = False, retry_after: float | None = None) -> float:
        """Exponential backoff with "equal jitter" so that many callers failing together do not retry together."""
        ceiling = min(self.backoff_max, self.backoff_base * (2**attempt))
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        if throttled:
            delay = max(delay, self.throttle_wait * random.uniform(1.0, 1.25))
        if retry_after:
            delay = max(delay, float(retry_after))
        return delay

    async def _send(
        self,
        bucket_key: tuple[str, str],
        method: str,
        base: str,
        path: str,
        query: Mapping[str, Any],
        json_body: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        flavour: Flavour,
    ) -> dict[str, Any]:
        """One HTTP exchange, after waiting for the rate limiter. Raises DingTalkAPIError / DingTalkTransportError."""
        url = f"{base}{path}"
        safe_url = redact_url(url, query)
        try:
            async with self.limiter.slot(bucket_key):  # counted as in flight until the answer is in
                self.stats["requests"] += 1
                started = time.monotonic()
                async with self._session.request(
                    method,
                    url,
                    params={k: _query_value(v) for k, v in query.items()} or None,
                    json=dict(json_body) if json_body is not None else None,
                    headers=headers or None,
                    timeout=self._timeout,
                ) as resp:
                    status = resp.status
                    raw = await resp.read()
        except TimeoutError:
            raise DingTalkTransportError(
                f"timeout after {self._timeout_seconds:g}s", url=safe_url, transient=True
            ) from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, ConnectionResetError) as exc:
            # ``from None``: aiohttp exception texts can embed the full URL including the access token.
            raise DingTalkTransportError(
                f"{type(exc).__name__}: {redact(str(exc))}", url=safe_url, transient=True
            ) from None
        except aiohttp.ClientError as exc:
            raise DingTalkTransportError(f"{type(exc).__name__}: {redact(str(exc))}", url=safe_url) from None
        elapsed_ms = (time.monotonic() - started) * 1000
        try:
            data = json.loads(raw) if raw.strip() else None
        except ValueError:
            data = None
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s body=%s -> HTTP %s in %.0f ms: %s",
                method,
                safe_url,
                json.dumps(redact_mapping(json_body), ensure_ascii=False) if json_body else "-",
                status,
                elapsed_ms,
                redact(raw[:300].decode("utf-8", "replace")),
            )
        return _check_envelope(flavour, status, data, raw, path, safe_url)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_envelope(flavour: Flavour, status: int, data: Any, raw: bytes, path: str, safe_url: str) -> dict[str, Any]:
    """Turn a raw response into the payload or the right exception."""
    if isinstance(data, dict):
        if "status" in data and "wait" in data and "errcode" not in data:
            # IP flood ban (10,000 requests / 20 s): not an API envelope; the body says how long to wait.
            wait = _float_or_none(data.get("wait"))
            raise DingTalkTransportError(
                f"request rejected by DingTalk flood protection (status {data.get('status')})",
                status=status,
                url=safe_url,
                transient=True,
                retry_after=wait,
            )
        if flavour == "oapi" and "errcode" in data:
            errcode = data.get("errcode")
            if str(errcode).strip() not in ("0", ""):
                raise DingTalkAPIError(
                    errcode,
                    str(data.get("errmsg") or data.get("sub_msg") or ""),
                    data.get("request_id"),
                    sub_code=data.get("sub_code") or data.get("subcode"),
                    sub_msg=data.get("sub_msg") or data.get("submsg"),
                    http_status=status if status >= 400 else None,
                    path=path,
                )
            return data
        if flavour == "v1" and status >= 400 and "code" in data:
            raise DingTalkAPIError(
                str(data.get("code")),
                str(data.get("message") or ""),
                data.get("requestid") or data.get("requestId"),
                http_status=status,
                path=path,
            )
        if status < 400:
            return data
    elif data is not None and status < 400 and flavour == "v1":
        return {"result": data}
    elif data is None and status < 400 and flavour == "v1":
        return {}  # e.g. a 204 after DELETE
    snippet = redact(raw[:200].decode("utf-8", "replace")).strip() or "empty body"
    reason = "unexpected response" if status < 400 else "HTTP error"
    raise DingTalkTransportError(
        f"{reason}: {snippet}", status=status, url=safe_url, transient=is_transient_status(status)
    )


def _float_or_none(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
