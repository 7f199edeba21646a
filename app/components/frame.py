"""One layout for every page: the top bar of the guide, a left menu per section and the content area.

``page()`` declares a page in one place: its path and title, the permission it needs (hence the roles that see it,
read from the role matrix in app/services/permissions.py) and, for pages in a section's left menu, its menu entry
(code and order; the label is the title). The menu of every role is built from these declarations and nothing else.
``register_pages()`` (called by the composition root) turns the records into NiceGUI routes. Every recorded page
goes through the same gate: logged in -> password changed -> org chosen -> permitted.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

from fastapi.responses import RedirectResponse
from nicegui import app, context, ui

from app import runtime
from app.components import session, theme
from app.services import accounts, orgs_lookup, system_params
from app.services.catalog import SECTIONS, MenuDef
from app.services.permissions import ROLE_NAMES, ROLE_PERMISSIONS, Actor, Perm, Role


@dataclass
class PageDef:
    path: str
    title: str
    section: str
    perm: Perm | None
    needs_org: bool
    func: Callable
    public: bool = False
    menu: tuple[str, int] | None = None  # (menu code, order within the section)

    @property
    def roles(self) -> tuple[Role, ...]:
        """The roles that see this page (and its menu entry): those whose permissions include ``perm``."""
        return tuple(r for r, perms in ROLE_PERMISSIONS.items() if self.perm is None or self.perm in perms)

    @property
    def menu_entry(self) -> MenuDef | None:
        if self.menu is None or self.perm is None:
            return None
        code, order = self.menu
        return MenuDef(code, self.section, self.title, self.path, self.perm, order)


_PAGES: list[PageDef] = []
_ACTOR_ATTR = session.ACTOR_ATTR


def page(
    path: str,
    title: str,
    *,
    section: str = "",
    perm: Perm | None = None,
    needs_org: bool = False,
    public: bool = False,
    menu: tuple[str, int] | None = None,
):
    """Declare a page. ``needs_org`` pages work on the current org and send an account without one to 选择组织;
    ``menu=(code, order)`` puts the page in its section's left menu, labelled with its title, for the roles that
    hold ``perm``."""
    if menu is not None and (not section or perm is None):
        raise ValueError(f"the menu entry of {path} needs a section and a permission")

    def decorator(func: Callable) -> Callable:
        _PAGES.append(PageDef(path, title, section, perm, needs_org, func, public, menu))
        return func

    return decorator


def registered_paths() -> set[str]:
    return {p.path for p in _PAGES}


def declared_pages() -> list[PageDef]:
    """Every page declared so far, in declaration order (the last declaration of a path wins)."""
    seen: dict[str, PageDef] = {}
    for definition in _PAGES:
        seen[definition.path] = definition
    return list(seen.values())


def menu_entries() -> list[MenuDef]:
    """The left-menu entries the page declarations make, by section and order."""
    order = {code: i for i, (code, _) in enumerate(SECTIONS)}
    entries = [e for p in declared_pages() if (e := p.menu_entry) is not None]
    return sorted(entries, key=lambda m: (order.get(m.section, len(order)), m.sort))


def actor() -> Actor:
    """The acting admin of the page being built or the event being handled."""
    return getattr(context.client, _ACTOR_ATTR)


def running() -> runtime.Runtime:
    """The console's started runtime, which pages hand to the services that need it (its DingTalk client, HTTP
    session or task registry): services never look the runtime up themselves."""
    return runtime.get()


def _redirect_target() -> str:
    request = context.client.request
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return quote(target, safe="")


def register_pages() -> None:
    for definition in _PAGES:
        ui.page(definition.path, title=f"{definition.title} - 蓝钉管理平台")(_gate(definition))


def _gate(definition: PageDef) -> Callable:
    func = definition.func

    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        theme.apply()
        # 系统设置 > 系统名称 names the product in every page title.
        ui.page_title(f"{definition.title} - {await system_params.get_value('system_name', '蓝钉管理平台')}")
        if definition.public:
            result = func(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result
        current = await session.current_actor()
        if current is None:
            return RedirectResponse(f"/login?redirect_to={_redirect_target()}", status_code=303)
        if await accounts.must_change_password(current.account_id) and definition.path != "/change-password":
            return RedirectResponse(f"/change-password?redirect_to={_redirect_target()}", status_code=303)
        # Guide 3.3.1: an org admin works inside one org; the super admin only needs one for org pages.
        wants_org = definition.needs_org or not current.is_super
        if wants_org and current.current_org_id is None and definition.path not in ("/select-org", "/change-password"):
            choices = await accounts.org_choices(current)
            if len(choices) == 1:
                session.set_org(choices[0].id)
                current = await session.current_actor()
            elif choices:
                return RedirectResponse(f"/select-org?redirect_to={_redirect_target()}", status_code=303)
        setattr(context.client, _ACTOR_ATTR, current)
        allowed = definition.perm is None or current.can(definition.perm)
        org_name = await _org_name(current)
        with frame(current, definition.section, org_name):
            if not allowed:
                forbidden(definition.title)
                return None
            result = func(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
            session.watch(current)  # after the content: a timer first would let the page count as built early
        return None

    return wrapper


async def _org_name(current: Actor) -> str:
    if current.current_org_id is None:
        return ""
    return await orgs_lookup.org_name(current.current_org_id)


def menu_for(current: Actor, section: str) -> list[MenuDef]:
    return [m for m in menu_entries() if m.section == section and current.can(m.perm)]


def _first_path(current: Actor, section: str) -> str | None:
    items = sorted(menu_for(current, section), key=lambda m: m.sort)
    return items[0].path if items else None


@contextmanager
def frame(current: Actor, section: str, org_name: str) -> Iterator[None]:
    items = menu_for(current, section) if section else []
    drawer = None
    with ui.header(elevated=False).classes("landing-header items-center px-4 py-0 gap-0 no-wrap"):
        if items:
            ui.button(icon="menu", on_click=lambda: drawer.toggle()).props("flat dense round color=white").classes(
                "landing-menu-toggle"
            )
        ui.link("Landray 蓝凌", "/").classes("landing-brand")
        with ui.row().classes("gap-0 no-wrap landing-sections"):
            for code, label in SECTIONS:
                target = _first_path(current, code)
                if target:
                    ui.link(label, target).classes(
                        "landing-nav" + (" landing-nav-active" if code == section else "")
                    ).props(f'data-section="{code}"')
        ui.space()
        with ui.row().classes("items-center gap-0 no-wrap landing-user"):
            if org_name:
                ui.label(org_name).classes("landing-org").mark("current-org")
            if current.is_super or len(current.org_roles) > 1:
                ui.link("切换组织", "/select-org").classes("landing-nav")
            role = current.current_role
            ui.label(f"{current.display_name}").classes("landing-nav landing-user-name").tooltip(
                ROLE_NAMES[role] if role else ""
            )
            ui.link("修改密码", "/change-password").classes("landing-nav")
            ui.button("退出", on_click=session.end_this_session).props("flat dense no-caps color=white").classes(
                "landing-nav"
            ).mark("logout")
    if items:
        # value=None lets Quasar show the menu on wide windows and fold it behind the header button on narrow ones.
        drawer = ui.left_drawer(value=None, fixed=True, bordered=True).classes("landing-drawer")
        drawer.props("width=200 breakpoint=760")
        with drawer:
            label = dict(SECTIONS).get(section, "")
            ui.label(label).classes("landing-drawer-title")
            request_path = context.client.request.url.path if context.client.request else ""
            for item in sorted(items, key=lambda m: m.sort):
                active = request_path == item.path or request_path.startswith(item.path + "/")
                ui.link(item.label, item.path).classes("landing-menu" + (" landing-menu-active" if active else ""))
    with ui.column().classes("landing-content w-full"):
        yield


def forbidden(title: str) -> None:
    with ui.card().classes("landing-empty items-center self-center q-mt-xl").mark("forbidden"):
        ui.icon("block", size="48px").classes("text-grey-5")
        ui.label("无权限").classes("text-h6")
        ui.label(f"您的角色不能访问「{title}」。如需使用，请联系组织管理员授权。").classes("text-grey-7")
        ui.link("返回首页", "/")


def page_title(text: str, *actions: tuple[str, Callable]) -> None:
    with ui.row().classes("w-full items-center landing-page-title no-wrap"):
        ui.label(text).classes("text-h6")
        ui.space()
        for label, handler in actions:
            ui.button(label, on_click=handler).props("unelevated color=primary")


def empty_state(text: str, icon: str = "inbox") -> None:
    with ui.column().classes("w-full items-center q-pa-xl text-grey-6"):
        ui.icon(icon, size="40px")
        ui.label(text)


def notify_error(message: str) -> None:
    ui.notify(message, type="negative", position="top", multi_line=True)


def notify_ok(message: str) -> None:
    ui.notify(message, type="positive", position="top")


__all__ = ["page", "register_pages", "actor", "frame", "forbidden", "page_title", "empty_state", "app"]
