"""The started runtime for API routes, as a FastAPI dependency (``rt: Runtime = Depends(console_runtime)``).

Routes are an edge of the process: they look the runtime up here and hand the piece a service needs (the DingTalk
client, the HTTP session, the runtime itself) to it; services never reach for a global.
"""

from __future__ import annotations

from app import runtime


def console_runtime() -> runtime.Runtime:
    return runtime.get()


def runtime_if_started() -> runtime.Runtime | None:
    """For the health and metrics routes, which answer (and say what is missing) before the runtime starts."""
    return runtime.current()
