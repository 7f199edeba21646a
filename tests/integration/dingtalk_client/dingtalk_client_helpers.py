"""Shared helpers for the DingTalk client integration tests (imported by conftest.py and the tests)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from app.dingtalk.client import App, DingTalkClient
from app.dingtalk.crypto import DingTalkCrypto, generate_aes_key, generate_token
from app.dingtalk.events import DingTalkEvent, parse_event

CORPID = "dingcorpa1"
APP = App(corpid=CORPID, appkey="dingappkeya1", appsecret="appsecret-a1-0123456789", agent_id=900001)
CORP_SPEC = f"{APP.corpid}:{APP.appkey}:{APP.appsecret}:{APP.agent_id}"

SimFactory = Callable[..., Awaitable[Any]]


def make_client(session: aiohttp.ClientSession, handle: Any, **options: Any) -> DingTalkClient:
    options.setdefault("qps", 20)
    options.setdefault("backoff_base", 0.05)
    return DingTalkClient(session, oapi_base=handle.base_url, api_base=handle.base_url, **options)


@dataclass
class Receiver:
    """A callback endpoint like the platform's: verify, decrypt, parse, answer an encrypted ``success``."""

    token: str = field(default_factory=generate_token)
    aes_key: str = field(default_factory=generate_aes_key)
    key_id: str = CORPID
    fail: bool = False
    events: list[DingTalkEvent] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        if self.fail:
            return web.Response(status=503, text="down for maintenance")
        crypto = DingTalkCrypto(self.token, self.aes_key, self.key_id)
        body = await request.json()
        signature = request.query.get("msg_signature") or request.query.get("signature", "")
        timestamp = request.query.get("timeStamp") or request.query.get("timestamp", "")
        plain = crypto.decrypt_message(signature, timestamp, request.query.get("nonce", ""), body["encrypt"])
        self.events.append(parse_event(plain))
        return web.Response(text=json.dumps(crypto.encrypted_reply("success")), content_type="application/json")


async def control(session: aiohttp.ClientSession, handle: Any, method: str, path: str, body: Any = None) -> Any:
    """Call the simulator's ``/_sim/`` control API (acts as the DingTalk admin console / test harness)."""
    async with session.request(method, f"{handle.base_url}/_sim/{path.lstrip('/')}", json=body) as resp:
        data = await resp.json(content_type=None)
        assert resp.status < 400, (resp.status, data)
        return data


async def login_code(session: aiohttp.ClientSession, handle: Any, userid: str, kind: str) -> str:
    data = await control(session, handle, "POST", f"corps/{CORPID}/login_codes", {"userid": userid, "kind": kind})
    return str(data["code"])
