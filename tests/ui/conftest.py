from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User
from nicegui.testing.user_simulation import user_simulation

MAIN = Path(__file__).with_name("main_app.py")

# The simulated user's `type()` touches ui.codemirror and ui.editor, which NiceGUI loads lazily and registers as ES
# modules on first use. Loading them once here, before any test resets NiceGUI's globals, keeps that registration
# out of the tests (a fresh CI virtualenv once failed with 'Duplicate name "nicegui-codemirror"' there).
_ = (ui.codemirror, ui.editor)


@pytest.fixture
async def user(app_env: str, caplog: pytest.LogCaptureFixture) -> AsyncIterator[User]:
    """NiceGUI's simulated user against the whole app, on a fresh database."""
    async with user_simulation(main_file=MAIN) as simulated:
        yield simulated
    errors = [r for r in caplog.get_records("call") if r.levelname == "ERROR"]
    if errors:
        pytest.fail(f"unexpected ERROR logs: {[r.getMessage() for r in errors]}", pytrace=False)


_original_should_see = User.should_see


async def _patient_should_see(self, target=None, *, kind=None, marker=None, content=None, retries: int = 50):
    # Pages that follow a login or a database write can take longer than NiceGUI's default 0.3 s on PostgreSQL
    # and on a loaded CI machine; wait up to 5 s instead of failing on timing.
    return await _original_should_see(self, target, kind=kind, marker=marker, content=content, retries=retries)


User.should_see = _patient_should_see
