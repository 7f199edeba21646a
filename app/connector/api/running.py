"""The connector's started runtime for API routes, as a FastAPI dependency (``rt = Depends(connector_runtime)``).

Routes are an edge of the process: they look the runtime up here and hand it (or the piece a service uses) to the
service; the connector's services and workers never reach for the global.
"""

from __future__ import annotations

from app.connector import runtime


def connector_runtime() -> runtime.ConnectorRuntime:
    return runtime.get()
