"""An input's error state, set as prop values: Quasar draws ``error-message`` as text, so markup, quotes and
backslashes in a message show exactly as typed. No other dependency, so the integration component's pages use it
too."""

from __future__ import annotations

from nicegui import ui


def set_field_error(element: ui.element, message: str | None) -> None:
    """Show ``message`` in an input's error state (Quasar's red line under the field); None or "" clears it."""
    if message:
        element.props["error"] = True
        element.props["error-message"] = message
    else:
        element.props.pop("error", None)
        element.props.pop("error-message", None)
    element.update()
