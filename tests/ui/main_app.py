# Entry point that NiceGUI's `user` fixture executes for every UI test (see [tool.pytest.ini_options] main_file).
# The database URL and data folder come from the environment that tests/conftest.py prepares per test.
from nicegui import ui

from app.core.config import reset_settings_cache
from app.main import build, run_kwargs

reset_settings_cache()
settings = build(generate_schemas=True)  # throwaway test database; servers migrate
ui.run(**run_kwargs(settings))
