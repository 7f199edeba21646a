"""A misbehaving network in front of a simulator, for fault tests: real HTTP on loopback, forwarding every request
to the target and, on demand, answering slowly, answering 500, or hanging in the middle of a response body."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web


@dataclass
class FaultProxy:
    target: str
    delay: float = 0.0  # seconds before each forwarded request
    fail_next: int = 0  # answer this many requests with HTTP 500
    fail_after: int | None = None  # once this many requests were forwarded, answer every later one with 500
    hang_next: int = 0  # send half of this many response bodies, then stall
    hang_at: int | None = None  # the response to the request forwarded as number N (from 0) hangs half-way
    forwarded: int = 0
    _runner: web.AppRunner | None = field(default=None, repr=False)
    _http: aiohttp.ClientSession | None = field(default=None, repr=False)
    base_url: str = ""

    async def start(self) -> FaultProxy:
        self._http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # A stalled response never finishes by itself: closing must not wait the default 60 s grace for it.
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_next > 0 or (self.fail_after is not None and self.forwarded >= self.fail_after):
            self.fail_next = max(0, self.fail_next - 1)
            return web.Response(status=500, text="Internal Server Error")
        assert self._http is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with self._http.request(
            request.method, self.target + request.path_qs, headers=headers, data=await request.read()
        ) as upstream:
            body = await upstream.read()
            self.forwarded += 1
            if self.hang_next > 0 or self.forwarded - 1 == self.hang_at:
                self.hang_next = max(0, self.hang_next - 1)
                response = web.StreamResponse(status=upstream.status)
                response.content_length = len(body)
                response.content_type = upstream.content_type
                await response.prepare(request)
                await response.write(body[: len(body) // 2])
                await asyncio.sleep(3600)  # the rest never comes
                return response
            return web.Response(status=upstream.status, body=body, content_type=upstream.content_type)
