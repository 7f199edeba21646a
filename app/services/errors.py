"""Errors that services raise for the UI and the APIs to show. Messages are for the admin, in Chinese."""

from __future__ import annotations


class ServiceError(Exception):
    """A rule said no. ``field`` names the form field the message belongs next to, when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(ServiceError):
    pass


class NotFound(ServiceError):
    pass


class PermissionDenied(ServiceError):
    def __init__(self, permission: str, message: str = "无权限执行此操作") -> None:
        super().__init__(message)
        self.permission = permission


class LoginFailed(ServiceError):
    pass
