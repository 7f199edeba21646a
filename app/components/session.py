"""The browser session: which account is logged in, its session generation, and which org it works in.

Only ids live in the (signed) session storage; the Actor is rebuilt from the database on every page and again by
every service call (``permissions.require``), so a revoked role or a disabled account takes effect at once.

A session is valid while the account's ``session_epoch`` equals the one stored at login. Logout, a password change
or reset, a removed role and a dissolved org bump it: every other browser of the account is then refused on its
next action, and its open pages in this process are sent to the login page right away (the listener below).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from nicegui import Client, app, context

from app.services import accounts, security_settings
from app.services.permissions import Actor

log = logging.getLogger(__name__)

_ACCOUNT = "account_id"
_EPOCH = "session_epoch"
_ORG = "org_id"
ACTOR_ATTR = "_landing_actor"
ENDED_URL = "/login?ended=1"


def _request():
    try:
        return context.client.request
    except (AttributeError, RuntimeError):
        return None


def client_ip() -> str:
    """The socket peer of this page (what audit lines record when no trusted proxy is configured)."""
    request = _request()
    return request.client.host if request is not None and request.client else ""


async def client_address() -> str:
    """The client's address; ``X-Forwarded-For`` counts only when the peer is a trusted proxy (系统设置)."""
    request = _request()
    if request is None:
        return ""
    peer = request.client.host if request.client else ""
    return await security_settings.client_address(peer, request.headers.get("x-forwarded-for", ""))


async def log_in(account_id: int) -> None:
    app.storage.user.clear()
    app.storage.user[_ACCOUNT] = account_id
    app.storage.user[_EPOCH] = await accounts.session_epoch(account_id) or 0


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
    actor = await accounts.load_actor(
        acc, app.storage.user.get(_ORG), await client_address(), int(app.storage.user.get(_EPOCH, 0))
    )
    if actor is None:
        app.storage.user.clear()
    return actor


def _browser_id(client: Client) -> str | None:
    request = getattr(client, "request", None)
    try:
        return request.session.get("id") if request is not None else None
    except (AssertionError, AttributeError):
        return None


def _on_sessions_ended(account: int, new_epoch: int, keep_current: bool) -> None:
    """Close this process's pages of ``account``; with ``keep_current`` the browser that asked stays logged in."""
    keep = None
    if keep_current:
        try:
            keep = _browser_id(context.client)
            app.storage.user[_EPOCH] = new_epoch
        except (AttributeError, RuntimeError):
            keep = None
    for client in list(Client.instances.values()):
        actor = getattr(client, ACTOR_ATTR, None)
        if actor is None or actor.account_id != account or actor.session_epoch == -1:
            continue
        if keep is not None and _browser_id(client) == keep:
            setattr(client, ACTOR_ATTR, replace(actor, session_epoch=new_epoch))
            continue
        setattr(client, ACTOR_ATTR, replace(actor, session_epoch=-1))
        if client.has_socket_connection:
            try:
                client.run_javascript(f"window.location.replace({ENDED_URL!r})")
            except Exception:  # the tab is going away anyway
                log.debug("could not redirect a closed session's page", exc_info=True)


accounts.on_sessions_ended(_on_sessions_ended)


WATCH_SECONDS = 20.0


def watch(actor: Actor) -> None:
    """Send this page to the login page once its session has ended elsewhere (another replica, the CLI)."""
    from nicegui import ui

    async def check() -> None:
        current = getattr(context.client, ACTOR_ATTR, None)
        epoch = await accounts.session_epoch(actor.account_id)
        if current is None or epoch is None or (current.session_epoch is not None and epoch != current.session_epoch):
            timer.deactivate()
            ui.navigate.to(ENDED_URL)

    timer = ui.timer(WATCH_SECONDS, check)


async def end_this_session() -> None:
    """退出: end every session of the account (this browser included) and go to the login page."""
    from nicegui import ui

    actor = getattr(context.client, ACTOR_ATTR, None)
    if actor is not None:
        setattr(context.client, ACTOR_ATTR, replace(actor, session_epoch=-1))
    log_out()
    if actor is not None:
        await accounts.log_out(actor)
    ui.navigate.to("/login")
