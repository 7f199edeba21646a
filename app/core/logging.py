"""Structured logging: one JSON object per line (or plain text), with secrets redacted.

Redaction is a filter on the root handler so that no module can forget it: query parameters and JSON fields whose
names look like credentials are replaced before the line is written (the rule lives in ``app.core.redaction``).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from app.core.redaction import redact_log_line

MAX_LINE = 2000  # a log line about refused input never carries the input itself at full length


class FloodFilter(logging.Filter):
    """At most ``per_minute`` WARNING-or-lower lines a minute of one kind (logger + message template).

    Thousands of bad requests (unknown paths, refused callbacks) then cost a few lines, not megabytes; errors
    always pass. A summary line says how many were left out.
    """

    def __init__(self, per_minute: int = 60) -> None:
        super().__init__()
        self.per_minute = per_minute
        self._window = 0
        self._counts: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        import time

        window = int(time.monotonic() // 60)
        if window != self._window:
            dropped = sum(c - self.per_minute for c in self._counts.values() if c > self.per_minute)
            self._window, self._counts = window, {}
            if dropped:
                record.msg = f"({dropped} similar log lines left out in the last minute) " + str(record.msg)
        template = str(record.msg) if record.args else str(record.msg)[:30]
        key = (record.name, template)
        count = self._counts.get(key, 0) + 1
        if len(self._counts) < 10_000 or key in self._counts:
            self._counts[key] = count
        return count <= self.per_minute


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = str(record.msg)
        redacted = redact_log_line(message)
        if len(redacted) > MAX_LINE:
            redacted = redacted[:MAX_LINE] + f"…（截断，原长 {len(redacted)} 字符）"
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


class RefusalLog:
    """Warnings about refused input, at most ``per_minute`` lines a minute per process; the rest are counted.

    A stranger sending thousands of bad requests must not be able to fill the disk or bury real problems.
    """

    def __init__(self, per_minute: int = 30) -> None:
        self.per_minute = per_minute
        self._window = 0
        self._count = 0
        self._dropped = 0

    def warning(self, logger: logging.Logger, message: str, *args: object) -> None:
        import time

        window = int(time.monotonic() // 60)
        if window != self._window:
            if self._dropped:
                logger.warning("%s more refused requests in the last minute were not logged", self._dropped)
            self._window, self._count, self._dropped = window, 0, 0
        if self._count >= self.per_minute:
            self._dropped += 1
            return
        self._count += 1
        logger.warning(message, *args)


refused = RefusalLog()


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
            entry["exc"] = redact_log_line(self.formatException(record.exc_info))[-8000:]
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", as_json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(FloodFilter())
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
