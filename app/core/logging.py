"""Structured logging: one JSON object per line (or plain text), with secrets redacted.

Redaction is a filter on the root handler so that no module can forget it: query parameters and JSON fields whose
names look like credentials are replaced before the line is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

_SECRET_NAMES = r"access_token|appsecret|app_secret|appSecret|password|passwd|secret|token|aes_key|aesKey|code"
_KV = re.compile(rf"(?i)\b({_SECRET_NAMES})(=|\"?\s*:\s*\"?)([^&\s\"',}}]+)")


def redact(text: str) -> str:
    return _KV.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


# A browser tab closed or a network dropped while the server was still talking to it: nothing is broken, so it is
# not an ERROR with a traceback (admins were paged for "JavaScript did not respond within 1.0 s").
_DISCONNECT_TYPES = frozenset(
    {"ClientDisconnect", "WebSocketDisconnect", "ConnectionClosed", "ConnectionClosedOK", "ConnectionClosedError"}
)


def is_expected_disconnect(exc: BaseException | None) -> bool:
    """True for the exceptions a client going away causes (closed tab, dropped websocket, unanswered JS call)."""
    while exc is not None:
        if type(exc).__name__ in _DISCONNECT_TYPES:
            return True
        if isinstance(exc, TimeoutError) and str(exc).startswith("JavaScript did not respond"):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class DisconnectsAreDebug(logging.Filter):
    """Logger filter: records about an expected client disconnect become one DEBUG line, or nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None and isinstance(record.msg, BaseException):
            exc = record.msg  # NiceGUI's default handler logs the exception object itself
        if record.levelno < logging.WARNING or not is_expected_disconnect(exc):
            return True
        if not logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
            return False
        record.msg, record.args = f"client went away: {type(exc).__name__}: {exc}", None
        record.levelno, record.levelname, record.exc_info, record.exc_text = logging.DEBUG, "DEBUG", None, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("org_id", "run_id", "event", "account"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", as_json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(
        JsonFormatter() if as_json else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_landing", False):
            root.removeHandler(old)
    handler._landing = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("nicegui", "app.main", "uvicorn.error"):
        target = logging.getLogger(name)
        if not any(isinstance(f, DisconnectsAreDebug) for f in target.filters):
            target.addFilter(DisconnectsAreDebug())
    # Third-party chatter that would only repeat what our own lines say.
    for noisy in ("tortoise", "aiosqlite", "asyncpg", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
