"""Shared constants and raw-HTTP helpers for the simulator tests (imported by conftest and the tests)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from app.dingtalk.crypto import CallbackCryptoError, DingTalkCrypto, generate_aes_key

CORPID = "dingcorp0001"
APPKEY = "dingappkey0001"
APPSECRET = "appsecret0001"
AGENTID = 880001
CORP2 = "dingcorp0002"
APPKEY2 = "dingappkey0002"
APPSECRET2 = "appsecret0002"
# 7200 s tokens live 72 s, 300 s login codes 3 s, callback retries come after 0.1 s and 0.3 s.
TIME_SCALE = 0.01


class Api:
    """Thin raw-HTTP helper: what any DingTalk SDK would send, nothing more."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base
        self.tokens: dict[str, str] = {}

    async def token(self, appkey: str = APPKEY, appsecret: str = APPSECRET) -> str:
        if appkey not in self.tokens:
            async with self.http.get(f"{self.base}/gettoken", params={"appkey": appkey, "appsecret": appsecret}) as r:
                body = await r.json()
            assert body["errcode"] == 0, body
            self.tokens[appkey] = body["access_token"]
        return self.tokens[appkey]

    async def post(self, path: str, body: dict[str, Any] | None = None, *, token: str | None = None) -> dict[str, Any]:
        token = token or await self.token()
        async with self.http.post(f"{self.base}{path}", params={"access_token": token}, json=body or {}) as r:
            assert r.status == 200
            return await r.json()

    async def get(self, path: str, params: dict[str, Any] | None = None, *, token: str | None = None) -> dict[str, Any]:
        token = token or await self.token()
        query = {"access_token": token, **{k: str(v) for k, v in (params or {}).items()}}
        async with self.http.get(f"{self.base}{path}", params=query) as r:
            assert r.status == 200
            return await r.json()

    async def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        async with self.http.request(method, f"{self.base}/_sim{path}", json=body) as r:
            data = await r.json()
            assert r.status < 300, data
            return data


@dataclass
class Receiver:
    """A callback endpoint built the way an integrator would, using the project's crypto module."""

    token: str
    aes_key: str
    key_id: str
    url: str = ""
    mode: str = "ok"  # ok | http500 | slow | plain (answers "success" unencrypted) | wrong_key
    events: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.requests.append(query)
        if self.mode == "slow":
            await asyncio.sleep(0.5)
        if self.mode == "http500":
            return web.Response(status=500, text="boom")
        body = await request.json()
        crypto = DingTalkCrypto(self.token, self.aes_key, self.key_id)
        signature = query.get("msg_signature") or query.get("signature", "")
        try:
            plain = crypto.decrypt_message(signature, query["timestamp"], query["nonce"], body["encrypt"])
        except CallbackCryptoError as exc:
            return web.Response(status=400, text=exc.message)
        self.events.append(json.loads(plain))
        if self.mode == "plain":
            return web.json_response({"msg": "success"})
        if self.mode == "wrong_key":
            return web.json_response(DingTalkCrypto(self.token, generate_aes_key(), self.key_id).encrypted_reply())
        return web.json_response(crypto.encrypted_reply())
