"""Password hashing and encryption of secret columns.

Passwords: argon2id through libpass (the maintained passlib); legacy bcrypt hashes still verify.
Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with the key from settings. One key for the process, installed
at startup with ``install_secret_key``; the ``EncryptedTextField`` model field uses it transparently.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from passlib.context import CryptContext

_pwd = CryptContext(schemes=["argon2", "bcrypt"], deprecated="auto")
_fernet: Fernet | None = None

# Passwords longer than this are refused; it also keeps bcrypt (legacy) from raising on verify.
MAX_PASSWORD_BYTES = 72
ENCRYPTED_PREFIX = "enc:v1:"


class SecretKeyMissing(RuntimeError):
    pass


def hash_password(password: str) -> str:
    return _pwd.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    if not hashed or len(password.encode()) > MAX_PASSWORD_BYTES:
        return False
    try:
        return _pwd.verify(password, hashed)
    except (ValueError, TypeError):
        return False


def install_secret_key(key: str) -> None:
    global _fernet
    try:
        _fernet = Fernet(key.encode() if isinstance(key, str) else key)
    except ValueError as exc:
        raise SecretKeyMissing(
            "LANDING_SECRET_KEY is not a valid Fernet key (32 url-safe base64-encoded bytes)"
        ) from exc


def _box() -> Fernet:
    if _fernet is None:
        raise SecretKeyMissing("secret encryption key not installed; call install_secret_key() at startup")
    return _fernet


def encrypt_secret(plain: str | None) -> str | None:
    if plain is None or plain == "":
        return plain
    return ENCRYPTED_PREFIX + _box().encrypt(plain.encode()).decode()


def decrypt_secret(stored: str | None) -> str | None:
    if stored is None or stored == "" or not stored.startswith(ENCRYPTED_PREFIX):
        return stored
    try:
        return _box().decrypt(stored[len(ENCRYPTED_PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise SecretKeyMissing("a stored secret cannot be decrypted with the configured key") from exc


def mask(secret: str | None, keep: int = 4) -> str:
    """What pages show instead of a secret: enough to recognise it, not to use it."""
    if not secret:
        return ""
    if len(secret) <= keep * 2:
        return "*" * len(secret)
    return f"{secret[:keep]}{'*' * 8}{secret[-keep:]}"
