"""One error root for the connector's services: a Chinese message for the page or the API, and a field name."""

from __future__ import annotations


class ConnectorError(Exception):
    def __init__(self, message: str, *, field: str = "", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status
