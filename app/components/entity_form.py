"""Form pieces every form uses: a service's ``ValidationFailed(field=...)`` message next to its field, labelled rows,
and highlighted search hits.

Field errors are written into the element's props as values, never through a props *string*: Quasar draws
``error-message`` as text, so a message is shown exactly as the service wrote it (``<b>`` stays ``<b>``, quotes and
backslashes survive) and is escaped once, by the browser. Formatting the message into ``props('error-message="..."')``
would let a quote end the value early and a backslash start an escape.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from nicegui import ui

from app.components.field_error import set_field_error
from app.components.frame import notify_error
from app.services.errors import ServiceError


class FieldErrors:
    """Maps service field names to the elements that show their message (inputs get Quasar's error state, other
    elements a red line under them).

    ``show(exc)`` puts a ``ServiceError``'s message next to ``exc.field`` (or, for an error that carries several,
    ``exc.errors: {field: message}``, each next to its own field). With ``notify=True`` the message is also shown as
    a notification; a message whose field has no place on the form always is. ``fallback`` names the field that
    gets messages naming no field of this form.
    """

    def __init__(self, *, notify: bool = False, fallback: str | None = None) -> None:
        self._inputs: dict[str, ui.element] = {}
        self._labels: dict[str, ui.label] = {}
        self.notify = notify
        self.fallback = fallback

    def input(self, name: str, element: ui.element) -> ui.element:
        self._inputs[name] = element
        return element

    def inputs(self, elements: Mapping[str, ui.element]) -> None:
        for name, element in elements.items():
            self.input(name, element)

    def slot(self, name: str) -> ui.label:
        label = ui.label("").classes("text-negative text-caption").mark(f"error-{name}")
        label.set_visibility(False)
        self._labels[name] = label
        return label

    def clear(self) -> None:
        for element in self._inputs.values():
            if "error" in element.props or "error-message" in element.props:
                set_field_error(element, None)
        for label in self._labels.values():
            label.set_text("")
            label.set_visibility(False)

    def set(self, name: str | None, message: str) -> bool:
        """Show one message next to field ``name``; False when the form has no such field."""
        if name in self._inputs:
            set_field_error(self._inputs[name], message)
            return True
        if name in self._labels:
            self._labels[name].set_text(message)
            self._labels[name].set_visibility(True)
            return True
        return False

    def show_all(self, errors: Mapping[str, str]) -> bool:
        """Several messages at once (a form checked as a whole); True when every one found its field."""
        self.clear()
        return all([self.set(name, message) for name, message in errors.items()])

    def show(self, exc: ServiceError, *, notify: bool | None = None) -> None:
        several = getattr(exc, "errors", None)
        if isinstance(several, Mapping) and several:
            placed = self.show_all(several)
        else:
            self.clear()
            placed = self.set(exc.field, exc.message) or (
                self.fallback is not None and self.set(self.fallback, exc.message)
            )
        if not placed or (self.notify if notify is None else notify):
            notify_error(exc.message)


def section(title: str) -> None:
    ui.label(title).classes("text-subtitle1 text-weight-medium q-mt-md q-mb-xs landing-section-title")


@contextmanager
def form_row(label: str, *, required: bool = False) -> Iterator[ui.row]:
    """A labelled row: ``with form_row("部门名称"): ui.input(...)``; ``required`` puts the guide's "* " before it.

    The fields built inside get the row's label as their accessible name, so screen readers announce it and
    ``get_by_label("部门名称")`` finds the field although the label is drawn beside it, not inside it.
    """
    row = ui.row().classes("w-full items-start no-wrap gap-3 q-py-xs")
    with row:
        shown = ("* " if required else "") + label
        ui.label(shown).classes("text-grey-8 q-pt-sm").style("width: 130px; flex-shrink: 0; text-align: right")
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
