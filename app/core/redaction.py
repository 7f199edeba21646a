"""Redaction: the one set of rules that keeps secrets out of logs, exception texts and stored interface logs.

Two strengths, both defined here and nowhere else:

- **By exact name** (``SECRET_KEYS``): ``redact``, ``redact_mapping`` and ``redact_url`` mask the values of the
  parameters the DingTalk protocols use for credentials (``access_token``, ``appsecret``, ``code`` ...). Precise on
  purpose: what they produce is read by people (the connector's 接口日志, transport error messages), so ``errcode``,
  ``dept_id`` or ``appkey`` stay readable. Callers that handle more secrets pass ``extra_keys``.
- **By name pattern** (``redact_log_line``): the logging filter applies it to every line, whoever wrote it, so it is
  broad: any name that contains ``password``, ``secret``, ``token``, ``key``, ``code`` ... plus ``Basic`` / ``Bearer``
  credentials.

And for stored before/after snapshots (the audit trail, ``redact_snapshot``): a field whose name contains
``password``, ``secret``, ``token``, ``aes_key`` or ``private`` keeps only that it was set (``SNAPSHOT_MASK``), so
the trail still shows that a secret changed; ``appkey`` or ``agent_id`` stay readable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from yarl import URL

__all__ = [
    "MASK",
    "SECRET_KEYS",
    "SNAPSHOT_MASK",
    "redact",
    "redact_log_line",
    "redact_mapping",
    "redact_snapshot",
    "redact_url",
]

MASK = "***"
SNAPSHOT_MASK = "******"
_SNAPSHOT_SECRET_PARTS = ("password", "secret", "aes_key", "token", "private")

SECRET_KEYS = frozenset(
    k.lower()
    for k in (
        "access_token",
        "accessToken",
        "appsecret",
        "app_secret",
        "appSecret",
        "clientSecret",
        "client_secret",
        "code",
        "authCode",
        "tmp_auth_code",
        "refreshToken",
        "refresh_token",
        "token",
        "aes_key",
        "aesKey",
        "signature",
        "password",
        "accessKeySecret",
        "x-acs-dingtalk-access-token",  # the v1.0 token header
    )
)
_KEY_ALTERNATION = "|".join(sorted((re.escape(k) for k in SECRET_KEYS), key=len, reverse=True))
# key=value (query strings) and "key": "value" / 'key': 'value' (JSON text, dict reprs).
_QUERY_SECRET = re.compile(rf"(?i)(?<![\w-])({_KEY_ALTERNATION})=([^&#\s\"']*)")
_JSON_SECRET = re.compile(rf"(?i)([\"']({_KEY_ALTERNATION})[\"']\s*:\s*)(\"[^\"]*\"|'[^']*'|[^,}}\s]+)")

# Any name that contains one of these (``*password*``, ``*secret*``, ``*token*``, ``*key*``, plus a few the
# protocols use) in ``name=value`` (query strings, form bodies), ``"name": "value"`` (JSON) or ``name: value``.
_SECRET_PARTS = r"password|passwd|pwd|secret|token|key|code|signature|credential"
_LOG_KV = re.compile(rf"(?i)([\w.-]*(?:{_SECRET_PARTS})[\w.-]*)(\"?\s*[=:]\s*\"?|\"?\s*:\s*\")([^&\s\"',}}]+)")
_LOG_AUTH = re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9+/=._~-]{6,}")


def redact(text: str) -> str:
    """Mask the values of ``SECRET_KEYS`` in free text: URLs, JSON and dict reprs."""
    text = _QUERY_SECRET.sub(lambda m: f"{m.group(1)}={MASK}", text)
    return _JSON_SECRET.sub(lambda m: f'{m.group(1)}"{MASK}"', text)


def redact_mapping(data: Any, extra_keys: Iterable[str] = ()) -> Any:
    """A copy of ``data`` (nested dicts/lists) with the values of ``SECRET_KEYS`` (and ``extra_keys``) masked."""
    keys = SECRET_KEYS | {k.lower() for k in extra_keys} if extra_keys else SECRET_KEYS
    return _masked(data, keys)


def _masked(data: Any, keys: frozenset[str]) -> Any:
    if isinstance(data, Mapping):
        return {k: (MASK if str(k).lower() in keys else _masked(v, keys)) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_masked(v, keys) for v in data]
    return data


def redact_snapshot(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """A before/after snapshot with the values of secret fields masked (empty ones stay empty: nothing was set)."""
    if values is None:
        return None
    return {
        k: SNAPSHOT_MASK if v and any(part in k.lower() for part in _SNAPSHOT_SECRET_PARTS) else v
        for k, v in values.items()
    }


def redact_url(url: str | URL, params: Mapping[str, Any] | None = None) -> str:
    """``url`` plus ``params`` as a string with secret query values masked."""
    full = URL(str(url))
    if params:
        full = full.update_query({k: str(v) for k, v in params.items()})
    safe = [(k, MASK if k.lower() in SECRET_KEYS else v) for k, v in full.query.items()]
    return str(full.with_query(safe)) if safe else str(full)


def redact_log_line(text: str) -> str:
    """The logging filter's rule: mask any credential-like ``name=value`` / JSON field and Basic/Bearer values."""
    text = _LOG_AUTH.sub(lambda m: f"{m.group(1)} {MASK}", text)
    return _LOG_KV.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
