"""Model fields shared by several domains."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from app.core.security import decrypt_secret, encrypt_secret


class EncryptedTextField(fields.TextField):
    """A text column stored encrypted (Fernet) and read back as plain text.

    Pages and logs must still mask the value: encryption protects the database file and its backups, not the screen.
    """

    def to_db_value(self, value: Any, instance: Any) -> Any:
        value = super().to_db_value(value, instance)
        return encrypt_secret(value) if isinstance(value, str) else value

    def to_python_value(self, value: Any) -> Any:
        value = super().to_python_value(value)
        return decrypt_secret(value) if isinstance(value, str) else value
