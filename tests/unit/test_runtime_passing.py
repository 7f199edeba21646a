"""Services, the sync engine and the connector's services and workers get the runtime (or the one piece of it they
use) as a parameter: none of them looks the process's runtime up.

The lookup (``runtime.get()``, ``runtime.current()``, the module global ``_current``, ``config_changed()`` which
reads it) belongs to the edges: the composition roots and lifespans, the page helper
(``app.components.frame.running``), the API dependency (``app.api.running``) and the CLI. The scan is structural
(AST): in a scanned module, a runtime module (``app.runtime``, ``app.connector.runtime``) may only be used for its
types; any other name taken from it fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("app/services", "app/sync", "app/connector/services", "app/connector/workers.py")
RUNTIME_MODULES = frozenset({"app.runtime", "app.connector.runtime"})
# What a service may name from a runtime module: the types of what it is handed.
TYPES = frozenset({"Runtime", "ConnectorRuntime", "Worker", "Stop"})


def violations(source: str, filename: str = "<src>") -> list[str]:
    """``file:line name`` for every use of a runtime module in ``source`` other than its types."""
    tree = ast.parse(source, filename)
    aliases: set[str] = set()  # local names bound to a runtime module
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in RUNTIME_MODULES:
                    aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if f"{node.module}.{alias.name}" in RUNTIME_MODULES:
                    aliases.add(alias.asname or alias.name)
                elif node.module in RUNTIME_MODULES and alias.name not in TYPES:
                    found.append(f"{filename}:{node.lineno} {node.module}.{alias.name}")

    def dotted(expr: ast.AST) -> str | None:
        if isinstance(expr, ast.Name):
            return expr.id
        if isinstance(expr, ast.Attribute):
            base = dotted(expr.value)
            return f"{base}.{expr.attr}" if base else None
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and dotted(node.value) in aliases and node.attr not in TYPES:
            found.append(f"{filename}:{node.lineno} {dotted(node.value)}.{node.attr}")
    return sorted(set(found), key=lambda f: (int(f.split(":")[1].split()[0]), f))


def _scanned_files() -> list[Path]:
    files: list[Path] = []
    for entry in SCANNED:
        path = ROOT / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def test_no_service_sync_or_connector_module_looks_the_runtime_up() -> None:
    problems: list[str] = []
    for path in _scanned_files():
        rel = path.relative_to(ROOT).as_posix()
        problems += violations(path.read_text(encoding="utf-8"), rel)
    assert not problems, "runtime looked up instead of passed in:\n" + "\n".join(problems)


def test_every_scanned_place_exists() -> None:
    for entry in SCANNED:
        assert (ROOT / entry).exists(), f"{entry} is scanned but gone: fix SCANNED"


BAD = """
from app import runtime
from app.connector import runtime as conn
from app.runtime import current
import app.runtime


async def verify(corpid):
    client = runtime.get().dingtalk
    rt = runtime.current()
    conn.config_changed()
    return runtime._current, app.runtime.get()
"""

GOOD = """
from app import runtime
from app.connector.runtime import ConnectorRuntime
from app.dingtalk.client import DingTalkClient


async def verify(client: DingTalkClient, corpid: str, rt: runtime.Runtime, crt: ConnectorRuntime) -> None:
    await client.login.check_app_corp(corpid)
    rt.tasks.spawn("x", verify(rt.dingtalk, corpid, rt, crt))
    crt.config_version += 1
    get = {}.get  # a name like the lookup, not from a runtime module
    get()
"""


def test_the_scanner_catches_lookups_and_accepts_passed_runtimes() -> None:
    assert violations(BAD) == [
        "<src>:4 app.runtime.current",
        "<src>:9 runtime.get",
        "<src>:10 runtime.current",
        "<src>:11 conn.config_changed",
        "<src>:12 app.runtime.get",
        "<src>:12 runtime._current",
    ]
    assert violations(GOOD) == []


def test_a_lookup_added_to_a_real_service_module_is_caught() -> None:
    path = ROOT / "app" / "services" / "orgs.py"
    source = path.read_text(encoding="utf-8")
    assert violations(source, "orgs.py") == []
    bad = source + "\n\ndef client():\n    return runtime.get().dingtalk\n"
    line = bad.count("\n")
    assert violations(bad, "orgs.py") == [f"orgs.py:{line} runtime.get"]
