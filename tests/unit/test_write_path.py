"""Every service write goes through ``app.services.write``: a model written anywhere else in ``app/services`` fails.

The scan is structural (AST): an awaited ORM write (``.save()``, ``.create()``, ``.delete()``, ``bulk_create``,
``.update()``, ``update_or_create``, ``get_or_create``, relation ``.add()`` / ``.remove()`` / ``.clear()``) must sit
lexically inside ``async with write(...)`` / ``async with w:``, or inside a helper that receives the open unit as a
``w: Write`` parameter (only code holding an open unit can call it).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "app" / "services"

WRITE_METHODS = frozenset(
    {"save", "create", "delete", "bulk_create", "bulk_update", "update", "update_or_create", "get_or_create",
     "add", "remove", "clear"}
)  # fmt: skip

# Modules that write outside the unit on purpose, and why. Keep this short.
ALLOWED_MODULES = {
    "audit.py": "the audit record is the unit's own step 4 (AuditLog.create, called by Write.audit)",
    "login_throttle.py": "failed-login counters must persist even when the login they belong to is refused",
    "heartbeat.py": "the process's liveness row, beaten by a worker for no actor; a lost beat harms nothing",
    "access_notify.py": "the notification outbox: filled by change listeners after a write committed, delivered by "
    "its worker for no actor",
}


def violations(source: str, filename: str = "<src>") -> list[str]:
    """``file:line method`` for every awaited model write outside a unit of work in ``source``."""
    tree = ast.parse(source, filename)
    found: list[str] = []

    def called(expr: ast.AST | None, *names: str) -> bool:
        if isinstance(expr, ast.Await):
            expr = expr.value
        if not isinstance(expr, ast.Call):
            return False
        func = expr.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        return name in names

    # Names bound to a unit: `w = await writer(...)` (checked now, entered later) or `unit = write(...)`.
    units = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and called(node.value, "write", "writer")
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def is_unit(item: ast.withitem) -> bool:
        expr = item.context_expr
        return called(expr, "write") or (isinstance(expr, ast.Name) and expr.id in units)

    def takes_unit(fn: ast.AsyncFunctionDef | ast.FunctionDef) -> bool:
        params = [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]
        return any(
            isinstance(p.annotation, ast.Name | ast.Constant)
            and (getattr(p.annotation, "id", None) or getattr(p.annotation, "value", None)) == "Write"
            for p in params
        )

    def visit(node: ast.AST, inside: bool) -> None:
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
            inside = takes_unit(node)  # a nested or module-level function starts fresh
        elif isinstance(node, ast.AsyncWith) and any(is_unit(i) for i in node.items):
            for item in node.items:
                visit(item, inside)
            for stmt in node.body:
                visit(stmt, True)
            return
        elif isinstance(node, ast.Await) and not inside:
            call = node.value
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in WRITE_METHODS:
                found.append(f"{filename}:{node.lineno} .{call.func.attr}()")
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, False)
    return found


def test_no_service_writes_a_model_outside_the_unit_of_work() -> None:
    problems: list[str] = []
    for path in sorted(SERVICES.rglob("*.py")):
        rel = path.relative_to(SERVICES).as_posix()
        if rel in ALLOWED_MODULES:
            continue
        problems += violations(path.read_text(encoding="utf-8"), rel)
    assert not problems, "model writes outside `async with write(...)`:\n" + "\n".join(problems)


BAD = """
async def rename(actor, dept, name):
    await authorize(actor, Perm.CONTACTS_EDIT, dept.org_id)
    dept.name = name
    await dept.save()
    await Person.filter(main_dept_id=dept.id).update(needs_push=True)
    async with in_transaction():
        await Department.create(name=name)
"""

GOOD = """
async def rename(actor, dept, name):
    async with write(actor, Perm.CONTACTS_EDIT, org_id=dept.org_id, target=dept) as w:
        dept.name = name
        await dept.save()
        await _follow_up(w, dept)
    w2 = await writer(actor, Perm.ORG_EDIT)
    async with w2:
        await Org.filter(id=1).update(name=name)


async def _follow_up(w: Write, dept):
    await Person.filter(main_dept_id=dept.id).update(needs_push=True)
"""


def test_the_scanner_catches_writes_outside_and_accepts_writes_inside() -> None:
    assert violations(BAD) == ["<src>:5 .save()", "<src>:6 .update()", "<src>:8 .create()"]
    assert violations(GOOD) == []


def test_another_context_manager_is_not_a_unit() -> None:
    source = """
async def save(lock, org):
    async with lock:
        await org.save()
"""
    assert violations(source) == ["<src>:4 .save()"]


def test_a_nested_function_does_not_inherit_the_unit() -> None:
    source = """
async def outer(actor):
    async with write(actor, Perm.ORG_EDIT) as w:
        async def later():
            await Org.filter(id=1).delete()
        w.after_commit(later)
"""
    assert violations(source) == ["<src>:5 .delete()"]


@pytest.mark.parametrize("name", sorted(ALLOWED_MODULES))
def test_every_allowed_module_exists(name: str) -> None:
    assert (SERVICES / name).is_file(), f"{name} is allow-listed but gone: drop it from the list"


def test_a_write_added_to_a_real_service_module_is_caught() -> None:
    path = SERVICES / "contacts" / "departments.py"
    source = path.read_text(encoding="utf-8")
    assert violations(source, "departments.py") == []
    bad = source + "\n\nasync def rename_quietly(dept):\n    dept.name = 'x'\n    await dept.save()\n"
    line = bad.count("\n")
    assert violations(bad, "departments.py") == [f"departments.py:{line} .save()"]
