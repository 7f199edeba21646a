"""Make a clickable row or card usable from the keyboard: focusable with Tab, activated with Enter or Space.

Rows built from ``ui.row``/``ui.column``/``ui.card`` with a click handler are invisible to keyboard users and screen
readers; ``activatable`` gives them a role, a tab stop and the same handler on Enter and Space, so every such place
in the console behaves alike. The focus ring is in the theme's CSS (``.landing-activatable:focus-visible``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui


def activatable(
    element: ui.element, handler: Callable[..., Any], *, role: str = "button", label: str = ""
) -> ui.element:
    element.props(f'tabindex=0 role="{role}"' + (f' aria-label="{label}"' if label else ""))
    element.classes("landing-activatable")
    element.on("click", lambda _: handler())
    element.on("keydown.enter", lambda _: handler())
    element.on("keydown.space.prevent", lambda _: handler())
    return element
