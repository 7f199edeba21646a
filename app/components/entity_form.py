"""Form helpers: a service's ``ValidationFailed(field=...)`` message shown next to its field, and labelled rows."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from app.components.frame import notify_error
from app.services.errors import ServiceError


class FieldErrors:
    """Maps service field names to the elements that show their message (inputs get Quasar's error state, other
    elements a red line under them)."""

    def __init__(self) -> None:
        self._inputs: dict[str, ui.element] = {}
        self._labels: dict[str, ui.label] = {}

    def input(self, name: str, element: ui.element) -> ui.element:
        self._inputs[name] = element
        return element

    def slot(self, name: str) -> ui.label:
        label = ui.label("").classes("text-negative text-caption").mark(f"error-{name}")
        label.set_visibility(False)
        self._labels[name] = label
        return label

    def clear(self) -> None:
        for element in self._inputs.values():
            element.props(remove="error error-message")
        for label in self._labels.values():
            label.set_text("")
            label.set_visibility(False)

    def show(self, exc: ServiceError) -> None:
        self.clear()
        if exc.field in self._inputs:
            message = html.escape(exc.message, quote=True)
            self._inputs[exc.field].props(f'error error-message="{message}"')
        elif exc.field in self._labels:
            self._labels[exc.field].set_text(exc.message)
            self._labels[exc.field].set_visibility(True)
        else:
            notify_error(exc.message)


def section(title: str) -> None:
    ui.label(title).classes("text-subtitle1 text-weight-medium q-mt-md q-mb-xs landing-section-title")


@contextmanager
def form_row(label: str) -> Iterator[ui.row]:
    """A labelled row: ``with form_row("部门名称"): ui.input(...)``.

    The fields built inside get the row's label as their accessible name, so screen readers announce it and
    ``get_by_label("部门名称")`` finds the field although the label is drawn beside it, not inside it.
    """
    row = ui.row().classes("w-full items-start no-wrap gap-3 q-py-xs")
    with row:
        ui.label(label).classes("text-grey-8 q-pt-sm").style("width: 130px; flex-shrink: 0; text-align: right")
        yield row
    if label:
        for field in row.descendants():
            if isinstance(field, ui.input | ui.textarea | ui.number | ui.select) and "aria-label" not in field.props:
                field.props(f'aria-label="{label}"')


def highlight(text: str, keyword: str) -> str:
    """HTML with every case-insensitive match of ``keyword`` marked (both escaped)."""
    if not keyword:
        return html.escape(text)
    lower, key = text.lower(), keyword.lower()
    out, start = [], 0
    while True:
        index = lower.find(key, start)
        if index < 0:
            out.append(html.escape(text[start:]))
            return "".join(out)
        out.append(html.escape(text[start:index]))
        out.append(f'<mark class="landing-hl">{html.escape(text[index : index + len(key)])}</mark>')
        start = index + len(key)


async def confirm(title: str, text: str, *, ok: str = "确定", danger: bool = True) -> bool:
    """A confirmation dialog naming what will happen; True when the admin confirms."""
    with ui.dialog() as dialog, ui.card().style("min-width: 380px; max-width: 560px"):
        ui.label(title).classes("text-h6")
        ui.label(text).classes("text-grey-8").mark("confirm-text")
        with ui.row().classes("w-full justify-end gap-2"):
            ui.button("取消", on_click=lambda: dialog.submit(False)).props("flat").mark("confirm-cancel")
            ui.button(ok, on_click=lambda: dialog.submit(True)).props(
                f"unelevated color={'negative' if danger else 'primary'}"
            ).mark("confirm-ok")
    result = await dialog
    dialog.delete()
    return bool(result)


def chips(items: list[tuple[str, str]], *, marker: str = "") -> ui.row:
    """Read-only names (people or departments) as small chips; "—" when empty."""
    row = ui.row().classes("gap-1 items-center")
    if marker:
        row.mark(marker)
    with row:
        if not items:
            ui.label("—").classes("text-grey-6")
        for icon, name in items:
            ui.chip(name, icon=icon).props("dense outline color=grey-8")
    return row
