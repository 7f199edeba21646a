"""What the connector's home page shows: binding state, mapping counts, open todos and 异常信息."""

from __future__ import annotations

from dataclasses import dataclass

from app.connector.services import binding, mapping, push, todos


@dataclass
class Overview:
    bound: binding.BindingView | None
    counts: dict[str, int]
    open_todos: int
    errors: int


async def overview() -> Overview:
    current = await binding.current()
    return Overview(
        bound=binding.view(current) if current else None,
        counts=await mapping.counts(),
        open_todos=await todos.open_count(),
        errors=await push.error_count(),
    )
