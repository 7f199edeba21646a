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
    # Third-party chatter that would only repeat what our own lines say.
    for noisy in ("tortoise", "aiosqlite", "asyncpg", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
