"""The callback crypto parameters of each org, kept in memory for the acknowledgement path.

Reading the org row for every callback costs a database turn and a Fernet decryption of the token and AES key;
under a burst of callbacks that is most of the work. Entries live ``TTL`` seconds; a signature that does not verify
with a cached entry is checked once more against a fresh read, so a regenerated token or key takes effect at once.
The cache belongs to the running event loop (tests start the app on fresh loops and fresh databases).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from app.models.orgs import Org

TTL = 30.0


@dataclass(frozen=True)
class CallbackKeys:
    org_id: int
    corpid: str
    appkey: str
    token: str
    aes_key: str


_cache: dict[str, tuple[float, CallbackKeys]] = {}
_loop: asyncio.AbstractEventLoop | None = None


async def keys_of(corpid: str, *, fresh: bool = False) -> CallbackKeys | None:
    global _loop
    loop = asyncio.get_running_loop()
    if _loop is not loop:
        _cache.clear()
        _loop = loop
    now = time.monotonic()
    hit = _cache.get(corpid)
    if hit is not None and not fresh and hit[0] > now:
        return hit[1]
    org = await Org.get_or_none(corpid=corpid)
    if org is None:
        _cache.pop(corpid, None)
        return None
    keys = CallbackKeys(org.id, org.corpid, org.appkey, org.callback_token or "", org.aes_key or "")
    _cache[corpid] = (now + TTL, keys)
    return keys


def forget(corpid: str | None = None) -> None:
    """Drop cached entries (all of them without a corpid)."""
    if corpid is None:
        _cache.clear()
    else:
        _cache.pop(corpid, None)
