"""Typed errors of the EKP org-export client.

Callers (sync engine, settings page) branch on the class, never on message text: an auth error means "fix the
account", a forbidden error means "fix the access policy / IP list", a service error carries EKP's own message.
"""

from __future__ import annotations


class EkpError(Exception):
    """Base class of every error raised by :mod:`app.ekp`."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class EkpConnectionError(EkpError):
    """EKP could not be reached: DNS, refused connection, TLS failure or timeout."""


class EkpAuthError(EkpError):
    """EKP refused the credentials (REST 401, SOAP fault ``sysWs.errMsg.unauthorized.user``)."""


class EkpForbiddenError(EkpError):
    """EKP's access policy refused the caller (REST 403, SOAP ``illegal.ip`` / ``locked.user``)."""


class EkpServiceError(EkpError):
    """EKP answered ``returnState=1`` (or an HTTP error of the service itself); ``message`` is EKP's text."""


class EkpProtocolError(EkpError):
    """EKP answered something this client cannot understand (bad JSON/XML, missing fields, non-advancing cursor)."""
