"""设置 > 专属钉钉 (guide section 2), per organisation: what this console can do through DingTalk's open API, and
where in 钉钉管理后台 the rest is set.

专属数据存储 runs end to end through DingTalk's exclusive API; the login backgrounds, logo and 主题色 are checked,
previewed and handed out for upload (no API for them); 2.5.8 shows the state of our IdP; the other settings are
listed read-only with their place in DingTalk's console.
"""

from __future__ import annotations

from nicegui import ui

from app.components.frame import actor, page, page_title
from app.pages.exclusive_console_panel import console_sections, idp_card
from app.pages.exclusive_look_panel import look_panel
from app.pages.exclusive_storage_panel import storage_panel
from app.services.permissions import Perm

TABS = (
    ("look", "专属企业界面"),
    ("storage", "专属数据存储"),
    ("push", "推送号与“我的”入口"),
    ("security", "专属安全管控"),
)


@page(
    "/settings/exclusive",
    "专属钉钉",
    section="settings",
    perm=Perm.EXCLUSIVE_MANAGE,
    needs_org=True,
    menu=("settings.exclusive", 80),
)
async def exclusive_page(tab: str = "storage") -> None:
    org_id = actor().current_org_id
    page_title("专属钉钉配置")
    ui.label(
        "专属钉钉的多数设置在钉钉管理后台完成。本页通过钉钉开放接口开启专属数据存储，检查并预览专属企业界面的图片，"
        "并列出其余设置在钉钉管理后台中的位置。"
    ).classes("text-grey-7")
    current = tab if tab in dict(TABS) else "storage"
    with ui.tabs().classes("w-full text-primary").props("align=left no-caps") as tabs:
        for name, label in TABS:
            ui.tab(name, label).mark(f"tab-{name}")
    with ui.tab_panels(tabs, value=current, animated=False).classes("w-full bg-transparent").props("keep-alive"):
        with ui.tab_panel("look").classes("q-px-none"):
            await look_panel(org_id)
        with ui.tab_panel("storage").classes("q-px-none"):
            await storage_panel(org_id)
        with ui.tab_panel("push").classes("q-px-none"):
            console_sections(("2.3", "2.4"))
        with ui.tab_panel("security").classes("q-px-none"):
            console_sections(("2.5.1", "2.5.2", "2.5.3", "2.5.4", "2.5.5", "2.5.6", "2.5.7"))
            await idp_card(org_id)
            console_sections(("2.5.9",), intro=False)
