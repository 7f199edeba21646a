"""DingTalk's exceptions: one root, so a caller catches one thing, and one class per kind of failure.

::

    DingTalkError                    anything that went wrong talking to DingTalk: catch this one
    ├── DingTalkTransportError       no usable envelope: timeout, connection reset, HTTP error page,
    │                                the IP flood-ban body, non-JSON text (``status``, ``url``, ``retry_after``)
    └── DingTalkAPIError             DingTalk answered with an error envelope (``errcode``, ``errmsg``, ``advice``)
        ├── NotFoundError            Kind.NOT_FOUND       60003 部门不存在, 60121 找不到该用户, 71007 ...
        ├── AlreadyExistsError       Kind.EXISTS          60102 / 60104 already in the org, 71006 回调已存在 ...
        ├── InvalidInputError        Kind.INVALID_INPUT   60001 部门名称, 60103 手机号码, 40022 ...
        ├── ThrottledError           Kind.THROTTLED       90018 并发, QpsLimit..., 90020 quota ...
        ├── PermissionDeniedError    Kind.PERMISSION      60011 / 50002 权限与范围, 40103 需对方同意 ...
        ├── ConfigurationError       Kind.CONFIG          40014 / 40089 credentials, 60020 白名单, 71012 ...
        └── ServiceBusyError         Kind.TRANSIENT       -1 系统繁忙, 400001, systemError ...

The code -> kind mapping is the errcode table (``app.dingtalk.errcodes``). Constructing ``DingTalkAPIError`` picks
the subclass of the code's kind, so ``isinstance(exc, NotFoundError)`` holds however the error was made (by the
transport, in a test, after unpickling); a code the table does not know stays a plain ``DingTalkAPIError``.

Every error has ``kind`` (``None`` when unknown) and ``is_transient``, so the retry policy and the sync engine
classify failures the same way. ``errcode`` is an ``int`` for oapi envelopes and the ``str`` code for v1.0 APIs.
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from app.dingtalk.errcodes import (
    THROTTLE_CODES,
    TOKEN_INVALID_CODES,
    TRANSIENT_CODES,
    ErrorInfo,
    Kind,
    chinese_only,
    lookup,
)

_SUBCODE_RE = re.compile(r"sub_?code\s*[=:]\s*\"?(-?\d+)", re.IGNORECASE)


def _coerce_code(code: int | str) -> int | str:
    # Official samples sometimes show errcode as a string ("0"); normalise so comparisons with ints work.
    if isinstance(code, str) and code.strip().lstrip("-").isdigit():
        return int(code.strip())
    return code


def _codes(errcode: int | str, errmsg: str, sub_code: int | str | None) -> tuple[int | str, int | str | None]:
    """``errcode`` normalised, and the sub code of a topapi wrapper error 88 (given, or parsed from ``errmsg``)."""
    code = _coerce_code(errcode)
    if sub_code is None and code == 88:
        match = _SUBCODE_RE.search(errmsg or "")
        sub_code = int(match.group(1)) if match else None
    return code, (_coerce_code(sub_code) if sub_code not in (None, "") else None)


def _effective(code: int | str, sub_code: int | str | None) -> int | str:
    if code == 88 and sub_code is not None and lookup(sub_code) is not None:
        return sub_code
    return code


def _kind_of(code: int | str, sub_code: int | str | None, http_status: int | None) -> Kind | None:
    effective = _effective(code, sub_code)
    if effective == 88 and sub_code is not None:
        return None  # wraps a cause the table does not know (and is not retried)
    info = lookup(effective)
    if info is not None:
        return info.kind
    return Kind.TRANSIENT if http_status is not None and http_status >= 500 else None


class DingTalkError(Exception):
    """The root: anything that went wrong talking to DingTalk. Subclasses say whether DingTalk answered."""

    @property
    def kind(self) -> Kind | None:
        return None

    @property
    def is_transient(self) -> bool:
        return False


class DingTalkAPIError(DingTalkError):
    """DingTalk answered with an error envelope (oapi ``errcode != 0`` or a v1.0 ``{"code", "message"}`` body).

    ``errcode`` is the raw code; for the topapi wrapper error 88 the wrapped ``sub_code`` (e.g. 60020, 40014) is
    parsed from ``sub_code`` or the ``errmsg`` text and drives ``effective_code``, ``meaning``, ``kind`` and the
    retry class.
    """

    def __new__(cls, errcode: int | str, errmsg: str = "", *args: Any, **kwargs: Any) -> DingTalkAPIError:
        target = cls
        if cls is DingTalkAPIError:
            code, sub_code = _codes(errcode, errmsg, kwargs.get("sub_code"))
            target = _CLASS_OF_KIND.get(_kind_of(code, sub_code, kwargs.get("http_status")), DingTalkAPIError)
        return super().__new__(target)

    def __init__(
        self,
        errcode: int | str,
        errmsg: str,
        request_id: str | None = None,
        *,
        sub_code: int | str | None = None,
        sub_msg: str | None = None,
        http_status: int | None = None,
        path: str | None = None,
    ) -> None:
        self.errcode, self.sub_code = _codes(errcode, errmsg, sub_code)
        self.errmsg = errmsg or ""
        self.request_id = request_id
        self.sub_msg = sub_msg
        self.http_status = http_status
        self.path = path
        super().__init__(str(self))

    @property
    def effective_code(self) -> int | str:
        """The code that describes the actual failure (the sub code of a wrapper error 88 when it is known)."""
        return _effective(self.errcode, self.sub_code)

    @property
    def info(self) -> ErrorInfo | None:
        return lookup(self.effective_code)

    @property
    def kind(self) -> Kind | None:
        return _kind_of(self.errcode, self.sub_code, self.http_status)

    @property
    def meaning(self) -> str:
        info = self.info
        if info is None:
            return "未知错误 (unknown error)"
        return f"{info.zh} ({info.en})"

    @property
    def advice(self) -> str | None:
        """What admins read: the Chinese advice (the English gloss in the table is for maintainers)."""
        info = self.info
        return chinese_only(info.advice) if info and info.advice else None

    @property
    def is_token_invalid(self) -> bool:
        return self.effective_code in TOKEN_INVALID_CODES

    @property
    def is_throttled(self) -> bool:
        """Wait at least the throttle pause before retrying (the documented one second)."""
        return self.effective_code in THROTTLE_CODES

    @property
    def is_transient(self) -> bool:
        code = self.effective_code
        if code in TRANSIENT_CODES:
            # An 88 that wraps a known non-transient cause (whitelist, permission) is not worth retrying.
            return not (code == 88 and self.sub_code is not None)
        return self.http_status is not None and self.http_status >= 500

    def __str__(self) -> str:
        text = f"DingTalk error {self.errcode}"
        if self.sub_code is not None:
            text += f" (sub code {self.sub_code})"
        text += f": {self.errmsg} [{self.meaning}]"
        if self.path:
            text += f" at {self.path}"
        if self.request_id:
            text += f" request_id={self.request_id}"
        return text

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_api_error,
            (self.errcode, self.errmsg, self.request_id, self.sub_code, self.sub_msg, self.http_status, self.path),
        )


class NotFoundError(DingTalkAPIError):
    """The department, user, callback or bucket is not there (any more)."""


class AlreadyExistsError(DingTalkAPIError):
    """Already there: look it up and map it instead of creating it again."""


class InvalidInputError(DingTalkAPIError):
    """DingTalk refuses the values sent; fixing the data is the way out."""


class ThrottledError(DingTalkAPIError):
    """A rate limit, a temporary ban or a used-up quota."""


class PermissionDeniedError(DingTalkAPIError):
    """The app lacks a permission or data scope, or DingTalk's rules for this person forbid it."""


class ConfigurationError(DingTalkAPIError):
    """The app's credentials, agent id, IP whitelist, callback URL or the server clock need fixing."""


class ServiceBusyError(DingTalkAPIError):
    """DingTalk is busy or timed out; the same request succeeds later."""


_CLASS_OF_KIND: dict[Kind | None, type[DingTalkAPIError]] = {
    Kind.NOT_FOUND: NotFoundError,
    Kind.EXISTS: AlreadyExistsError,
    Kind.INVALID_INPUT: InvalidInputError,
    Kind.THROTTLED: ThrottledError,
    Kind.PERMISSION: PermissionDeniedError,
    Kind.CONFIG: ConfigurationError,
    Kind.TRANSIENT: ServiceBusyError,
}


def _rebuild_api_error(
    errcode: int | str,
    errmsg: str,
    request_id: str | None,
    sub_code: int | str | None,
    sub_msg: str | None,
    http_status: int | None,
    path: str | None,
) -> DingTalkAPIError:
    return DingTalkAPIError(
        errcode, errmsg, request_id, sub_code=sub_code, sub_msg=sub_msg, http_status=http_status, path=path
    )


class DingTalkTransportError(DingTalkError):
    """The request did not produce a DingTalk envelope: network failure, timeout, HTTP error page, non-JSON body.

    ``url`` is always the redacted URL (no token or secret); ``retry_after`` is set when the server said how long
    to wait (the IP flood-ban body ``{"status":1111,"wait":5}``).
    """

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        url: str | None = None,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self.reason = reason
        self.status = status
        self.url = url
        self.transient = transient
        self.retry_after = retry_after
        super().__init__(str(self))

    @property
    def kind(self) -> Kind | None:
        return Kind.TRANSIENT if self.transient else None

    @property
    def is_transient(self) -> bool:
        return self.transient

    def __str__(self) -> str:
        parts = ["DingTalk transport error"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        parts.append(self.reason)
        if self.url:
            parts.append(f"at {self.url}")
        return ": ".join(parts[:1]) + ": " + " ".join(parts[1:])

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_transport, (self.reason, self.status, self.url, self.transient, self.retry_after))


def _rebuild_transport(
    reason: str, status: int | None, url: str | None, transient: bool, retry_after: float | None
) -> DingTalkTransportError:
    return DingTalkTransportError(reason, status=status, url=url, transient=transient, retry_after=retry_after)


def is_transient_status(status: int) -> bool:
    """HTTP statuses worth retrying: server errors and explicit "slow down"."""
    return status >= 500 or status == 429


def is_transient(exc: BaseException) -> bool:
    """Classify any exception raised while talking to DingTalk: True when retrying later may succeed."""
    if isinstance(exc, DingTalkError):
        return exc.is_transient
    if isinstance(exc, TimeoutError | ConnectionResetError):
        return True
    if isinstance(exc, aiohttp.ClientResponseError):
        return is_transient_status(exc.status)
    # Connection refused/reset, server disconnected, truncated payload: the network, not the request, failed.
    return isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError)
