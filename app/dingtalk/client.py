"""``DingTalkClient``: the typed face of DingTalk, one resource object per area, all sharing one transport.

``client.contacts`` (departments, users, callback management), ``client.login`` (SSO flows), ``client.notify``
(work records, todo, work notifications) and ``client.exclusive`` (专属数据存储) build request bodies and parse
results; ``client.transport`` (``app.dingtalk.transport``) is the only code that sends HTTP, so the token cache, the
rate limiter, the retry policy, the envelope checks and redaction are written once and cover every resource.

Composition, not inheritance: a resource knows only the transport, never the client or its siblings, so each can be
read (and tested) on its own and the package has no import cycle. Adding an area is one module with a class that
takes a ``Transport`` plus one line here.

The caller owns the ``aiohttp.ClientSession`` and shares one client per process (see ``app.runtime``).
"""

from __future__ import annotations

from typing import Any

import aiohttp

from app.dingtalk.auth_api import LoginAPI
from app.dingtalk.contacts_api import ContactsAPI
from app.dingtalk.exclusive_api import ExclusiveAPI
from app.dingtalk.notify_api import NotifyAPI
from app.dingtalk.transport import App, Transport

__all__ = ["App", "DingTalkClient"]


class DingTalkClient:
    """One transport and the resource objects that use it. ``options`` are ``Transport``'s (bases, qps, retries)."""

    def __init__(self, session: aiohttp.ClientSession, **options: Any) -> None:
        self.transport = Transport(session, **options)
        self.contacts = ContactsAPI(self.transport)
        self.login = LoginAPI(self.transport)
        self.notify = NotifyAPI(self.transport)
        self.exclusive = ExclusiveAPI(self.transport)
