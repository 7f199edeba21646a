"""docs/development.md's walk-throughs name the exact files and symbols a change touches; this keeps them true.

Each numbered step of a walk-through starts with the file it changes. Every path named must exist, and every
constant, class or test function named on a step's line must be defined in that step's file. For the person
field, the example field (``telephone``) must appear in exactly the application files the steps name, so a new
place that a field has to be added to cannot go unmentioned. For a page, every page module must be registered in
``PAGE_MODULES``: a module alone would never be served.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "development.md"
_TICKED = re.compile(r"`([^`]+)`")
_PATH = re.compile(r"^(app|tests|migrations|docs)/[\w/.<>-]*$")
_SYMBOL = re.compile(r"^(?:[A-Z][A-Za-z0-9_]*|test_\w+)$")  # constants, classes, test functions


def _block(name: str) -> str:
    text = GUIDE.read_text(encoding="utf-8")
    match = re.search(rf"<!-- walkthrough:{name} -->\n(.*?)<!-- /walkthrough:{name} -->", text, re.S)
    assert match, f"docs/development.md has no walk-through block {name!r}"
    return match.group(1)


def _steps(block: str) -> list[str]:
    """Numbered steps with their continuation lines joined."""
    steps: list[str] = []
    for line in block.splitlines():
        if re.match(r"^\d+\. ", line):
            steps.append(line)
        elif steps and line.startswith("   "):
            steps[-1] += " " + line.strip()
    return steps


def _paths(text: str) -> list[str]:
    return [t for t in _TICKED.findall(text) if _PATH.match(t)]


def _check_step_names(steps: list[str]) -> None:
    for step in steps:
        paths = _paths(step)
        for path in paths:
            if "<" not in path:
                assert (ROOT / path).exists(), f"docs/development.md names {path}, which does not exist"
        first = ROOT / paths[0] if paths and "<" not in paths[0] else None
        if first is None or not first.is_file():
            continue
        source = first.read_text(encoding="utf-8")
        for symbol in (t for t in _TICKED.findall(step) if _SYMBOL.match(t)):
            assert re.search(rf"\b{re.escape(symbol)}\b", source), f"{symbol} is not in {paths[0]} as the guide says"


def test_the_person_field_walk_through_names_every_place_the_field_lives() -> None:
    steps = _steps(_block("person-field"))
    assert len(steps) >= 6
    _check_step_names(steps)
    named = {p for step in steps for p in _paths(step) if p.startswith("app/") and p.endswith(".py")}
    lives = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "app").rglob("*.py")
        if "simulator" not in path.parts and re.search(r"\btelephone\b", path.read_text(encoding="utf-8"))
    }
    assert lives == named, f"the example field lives in {sorted(lives)}, the guide names {sorted(named)}"
    migrations = [p for step in steps for p in _paths(step) if p.startswith("migrations/") and p.endswith(".py")]
    assert migrations and all("telephone" in (ROOT / m).read_text(encoding="utf-8") for m in migrations)


def _page_modules() -> tuple[str, ...]:
    tree = ast.parse((ROOT / "app" / "main.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "PAGE_MODULES" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("app/main.py has no PAGE_MODULES")


def test_the_page_walk_through_is_how_pages_are_registered() -> None:
    steps = _steps(_block("page"))
    assert len(steps) >= 3
    _check_step_names(steps)
    registered = set(_page_modules())
    declaring = {
        path.stem for path in (ROOT / "app" / "pages").glob("*.py") if "@page(" in path.read_text(encoding="utf-8")
    }
    assert declaring <= registered, f"page modules missing from PAGE_MODULES: {sorted(declaring - registered)}"
    assert all((ROOT / "app" / "pages" / f"{name}.py").exists() for name in registered)


def test_the_checks_fail_on_a_wrong_guide() -> None:
    """The checks above are not vacuous: a misnamed symbol or a missing file is caught."""
    for wrong in ("1. `app/sync/fields.py`: a row in `NO_SUCH_TABLE`.", "1. `app/no_such_module.py`: anything."):
        try:
            _check_step_names(_steps(wrong))
        except AssertionError:
            continue
        raise AssertionError(f"a wrong step passed: {wrong}")
