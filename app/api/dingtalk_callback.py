"""DingTalk contacts callback: ``POST /api/ding_console/contacts/callback?corpid=...`` (the path the guide shows).

Verify the signature, decrypt, answer the ``check_url`` handshake, and store every other event in the inbox
(``CallbackEvent``, de-duplicated by ``dedup_key``) before answering the encrypted ``success``: DingTalk gives us
1.5 s, so events are applied afterwards by the callback processor, never here.

The acknowledgement path stays cheap under load: the org's crypto parameters come from an in-memory cache
(``callback_keys``), stores are group-committed (``app.sync.inbox``), big payloads are decrypted in a worker thread,
and while requests are on this path background work steps aside (``app.core.pressure``).

Refused and logged: an unknown corpid, a body over 64 KB, a timestamp more than an hour away from our clock (a
replayed request), a bad signature or a payload that does not decrypt.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.api.callback_keys import CallbackKeys, keys_of
from app.core import metrics, pressure
from app.core.logging import refused
from app.dingtalk.crypto import CallbackCryptoError, DingTalkCrypto, KeyIdMismatchError
from app.dingtalk.events import EventParseError, parse_event
from app.sync import inbox, scheduler

log = logging.getLogger(__name__)

router = APIRouter(tags=["钉钉回调"])

MAX_BODY = 64 * 1024
MAX_SKEW_MS = 3600 * 1000
THREAD_DECRYPT_BYTES = 8 * 1024  # bigger payloads are decrypted off the event loop


MAX_PARAM = 256
_CORPID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _stale(timestamp: str) -> bool:
    text = timestamp.strip()
    if not text.isdigit() or len(text) > 16:  # "inf", "1e999", "-1", 26 digits: not a time
        return True
    value = int(text)
    millis = value * 1000 if value < 100_000_000_000 else value  # DingTalk sends ms; accept seconds too
    return abs(time.time() * 1000 - millis) > MAX_SKEW_MS


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"errcode": status, "errmsg": message}, status_code=status)


def _decrypt(org: CallbackKeys, signature: str, timestamp: str, nonce: str, encrypt: str) -> tuple[DingTalkCrypto, str]:
    """The legacy registration encrypts with the corpid as key id, console HTTP push with the appkey: accept both."""
    crypto = DingTalkCrypto(org.token, org.aes_key, org.corpid)
    crypto.verify(signature, timestamp, nonce, encrypt)
    try:
        return crypto, crypto.decrypt(encrypt)
    except KeyIdMismatchError:
        crypto = DingTalkCrypto(org.token, org.aes_key, org.appkey)
        return crypto, crypto.decrypt(encrypt)


async def _open(
    org: CallbackKeys, signature: str, timestamp: str, nonce: str, encrypt: str
) -> tuple[DingTalkCrypto, str]:
    if len(encrypt) > THREAD_DECRYPT_BYTES:
        return await asyncio.to_thread(_decrypt, org, signature, timestamp, nonce, encrypt)
    return _decrypt(org, signature, timestamp, nonce, encrypt)


@router.post("/api/ding_console/contacts/callback", summary="钉钉通讯录事件回调（验签、解密、入队后应答 success）")
@metrics.callback_route
async def contacts_callback(request: Request) -> JSONResponse:
    with pressure.urgent():
        return await _acknowledge(request)


async def _acknowledge(request: Request) -> JSONResponse:
    query = request.query_params
    corpid = query.get("corpid") or query.get("corpId") or ""
    signature = query.get("msg_signature") or query.get("signature") or ""
    timestamp = query.get("timeStamp") or query.get("timestamp") or ""
    nonce = query.get("nonce") or ""
    if any(len(v) > MAX_PARAM for v in (corpid, signature, timestamp, nonce)):
        refused.warning(log, "callback refused: a query parameter is over %s characters", MAX_PARAM)
        return _error(400, "query parameter too long")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        refused.warning(
            log, "callback refused: body of %s bytes is over %s (corpid=%s)", declared, MAX_BODY, corpid[:64]
        )
        return _error(413, "body too large")
    # A corpid is ASCII letters and digits; anything else (a NUL byte breaks PostgreSQL) is simply unknown.
    org = await keys_of(corpid) if _CORPID.match(corpid) else None
    if org is None:
        refused.warning(log, "callback refused: unknown corpid %r", corpid[:64])
        return _error(404, "unknown corpid")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        log.warning("callback for org %s refused: body of %s bytes is over %s", org.org_id, len(raw), MAX_BODY)
        return _error(413, "body too large")
    try:
        body = json.loads(raw)
        encrypt = str(body.get("encrypt") or "")
    except (ValueError, AttributeError, RecursionError):
        return _error(400, "body must be JSON with 'encrypt'")
    if not (signature and timestamp and nonce and encrypt):
        return _error(400, "signature, timestamp, nonce and encrypt are required")
    if _stale(timestamp):
        refused.warning(
            log, "callback for org %s refused: timestamp %r is not within an hour", org.org_id, timestamp[:20]
        )
        return _error(403, "stale timestamp")
    try:
        try:
            crypto, plaintext = await _open(org, signature, timestamp, nonce, encrypt)
        except CallbackCryptoError:
            # Cached parameters may predate a regenerated token or key: one fresh read decides.
            org = await keys_of(corpid, fresh=True)
            if org is None:
                return _error(404, "unknown corpid")
            crypto, plaintext = await _open(org, signature, timestamp, nonce, encrypt)
        event = parse_event(plaintext)
    except CallbackCryptoError as exc:
        refused.warning(log, "callback for org %s rejected: %s", org.org_id, str(exc.message)[:200])
        return _error(403, "signature or decryption failed")
    except EventParseError:
        return _error(400, "event is not a JSON object")
    if not event.kind.is_handshake:
        try:
            await inbox.writer(scheduler.wake).store(org.org_id, event.event_type, dict(event.raw), event.dedup_key)
        except Exception:
            log.exception("callback for org %s could not be stored; DingTalk will retry it", org.org_id)
            return _error(500, "event could not be stored")
    return JSONResponse(crypto.encrypted_reply("success"))
