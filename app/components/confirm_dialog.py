"""The one confirmation dialog in front of every destructive action (删除, 解散, 撤销, 移除, 清空 ...).

Each caller passes its own words (the guide's wording of that confirmation), so the dialog says exactly what will
happen; the look, the button order (取消 left of the action) and the colour of a destructive button are the same
everywhere. Two ways to wait for the answer, the same dialog:

- ``if await confirm(...):`` inside an async handler: True only when the admin pressed the action button; Esc, a
  click outside and 取消 answer False, and nothing has changed.
- ``ask(..., on_ok=...)`` from a plain (synchronous) handler such as a table row's event: the dialog is on the page
  when the call returns, and ``on_ok`` runs (awaited if it is async) when the action button is pressed.

Markers for tests: the card is ``marker`` (default ``confirm-dialog``), the first line of text ``confirm-text``,
the buttons ``confirm-cancel`` and ``ok_marker`` (default ``confirm-ok``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypedDict, Unpack

from nicegui import ui

Text = str | Sequence[str]


class Look(TypedDict, total=False):
    """How the action button reads and looks: ``ok`` its words (default 确定), ``danger`` red (default) or blue,
    ``color`` any Quasar colour instead, ``ok_marker`` / ``marker`` the test markers of the button and the card."""

    ok: str
    danger: bool
    color: str
    ok_marker: str
    marker: str


def _build(title: str, text: Text, look: Look, *, on_ok: Callable[[], Any], on_cancel: Callable[[], Any]) -> ui.dialog:
    lines = [text] if isinstance(text, str) else list(text)
    color = look.get("color") or ("negative" if look.get("danger", True) else "primary")
    with ui.dialog() as dialog, ui.card().classes("q-pa-md").style("min-width: 380px; max-width: 560px") as card:
        card.mark(look.get("marker", "confirm-dialog"))
        ui.label(title).classes("text-h6")
        for index, line in enumerate(line for line in lines if line):
            label = ui.label(line).classes("text-grey-8").style("white-space: pre-line")
            if index == 0:
                label.mark("confirm-text")
        with ui.row().classes("w-full justify-end gap-2 q-mt-sm"):
            ui.button("取消", on_click=on_cancel).props("flat").mark("confirm-cancel")
            ok = ui.button(look.get("ok", "确定"), on_click=on_ok).props(f"unelevated color={color}")
            ok.mark(look.get("ok_marker", "confirm-ok"))
    return dialog


async def confirm(title: str, text: Text = "", **look: Unpack[Look]) -> bool:
    """Ask before acting; ``text`` may be several lines (what is affected, then what it means)."""
    dialog = _build(title, text, look, on_ok=lambda: dialog.submit(True), on_cancel=lambda: dialog.submit(False))
    result = await dialog
    dialog.delete()
    return bool(result)


def ask(title: str, text: Text = "", *, on_ok: Callable[[], Any], **look: Unpack[Look]) -> ui.dialog:
    """The same dialog, open when this returns; ``on_ok`` runs after the dialog has closed on the action button."""

    async def accept() -> None:
        dialog.close()
        outcome = on_ok()
        if inspect.isawaitable(outcome):
            await outcome

    dialog = _build(title, text, look, on_ok=accept, on_cancel=lambda: dialog.close())
    dialog.open()
    return dialog
