"""The browser session: which account is logged in and which org it works in.

Only ids live in the (signed) session storage; the Actor is rebuilt from the database on every page so that a
revoked role or a disabled account takes effect at once.
"""

from __future__ import annotations

from nicegui import app, context

from app.services import accounts
from app.services.permissions import Actor

_ACCOUNT = "account_id"
_ORG = "org_id"


def client_ip() -> str:
    try:
        request = context.client.request
    except (AttributeError, RuntimeError):
        return ""
    forwarded = request.headers.get("x-forwarded-for", "")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else ""


def log_in(account_id: int) -> None:
    app.storage.user.clear()
    app.storage.user[_ACCOUNT] = account_id


def log_out() -> None:
    app.storage.user.clear()


def set_org(org_id: int | None) -> None:
    app.storage.user[_ORG] = org_id


def account_id() -> int | None:
    return app.storage.user.get(_ACCOUNT)


async def current_actor() -> Actor | None:
    acc = account_id()
    if acc is None:
        return None
    return await accounts.load_actor(acc, app.storage.user.get(_ORG), client_ip())
