"""A tab closed while the server still waits for it is not an error; a real failure still is."""

from __future__ import annotations

import logging

import pytest
from nicegui import app
from nicegui.testing import User

from app.core.logging import is_expected_disconnect
from tests.ui.helpers import login


def _js_timeout() -> TimeoutError:
    # What NiceGUI raises when a page's JavaScript call gets no answer because the tab has gone.
    return TimeoutError("JavaScript did not respond within 1.0 s")


async def test_an_unanswered_javascript_call_is_one_debug_line(user: User, caplog: pytest.LogCaptureFixture) -> None:
    await login(user, "admin", "1")
    with caplog.at_level(logging.DEBUG):
        app.handle_exception(_js_timeout())
    records = [r for r in caplog.records if "JavaScript did not respond" in r.getMessage()]
    assert records and all(r.levelno == logging.DEBUG and r.exc_info is None for r in records)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        app.handle_exception(_js_timeout())
    assert not [r for r in caplog.records if r.levelno >= logging.INFO]  # the user fixture also fails on ERROR


async def test_a_real_failure_still_logs_an_error_with_its_traceback(
    user: User, caplog: pytest.LogCaptureFixture
) -> None:
    await login(user, "admin", "1")
    app.handle_exception(ValueError("boom"))
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and any(r.exc_info for r in errors)
    caplog.clear()  # expected here: keep the fixture's no-ERROR check for the rest of the test


def test_disconnects_are_recognised_through_their_causes() -> None:
    class ClientDisconnect(Exception):
        pass

    wrapped = RuntimeError("send failed")
    wrapped.__cause__ = ClientDisconnect()
    assert is_expected_disconnect(wrapped) and is_expected_disconnect(_js_timeout())
    assert not is_expected_disconnect(TimeoutError("database timeout")) and not is_expected_disconnect(None)
