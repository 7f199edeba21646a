"""Password hashing and encryption of secret columns.

Passwords: argon2id through libpass (the maintained passlib); legacy bcrypt hashes still verify.
Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with the key from settings. One key for the process, installed
at startup with ``install_secret_key``; the ``EncryptedTextField`` model field uses it transparently.
"""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor

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
    """What pages show instead of a secret: at most its last four characters, never its length or its start.

    Short secrets (under 12 characters) show nothing of themselves: four of eight would be half the secret.
    """
    if not secret:
        return ""
    keep = min(keep, 4)
    if len(secret) < 12:
        return "*" * 8
    return f"{'*' * 8}{secret[-keep:]}"


# -- off the event loop --------------------------------------------------------------------------------------------
# Argon2 costs tens of milliseconds of CPU on purpose. Run on the event loop, five logins at once would stall every
# page and callback; so hashing runs in a small thread pool, and when too many checks are already waiting the login
# is refused at once ("系统繁忙") instead of queueing without bound.

HASH_THREADS = 2
HASH_QUEUE_LIMIT = 32
_hash_pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="argon2")
_in_flight = 0
_DUMMY_HASH: str | None = None


class HashingBusy(RuntimeError):
    """More password checks are waiting than the bound allows."""


async def _run_bounded(func, *args):
    global _in_flight
    if _in_flight >= HASH_QUEUE_LIMIT:
        raise HashingBusy("too many password checks waiting")
    _in_flight += 1
    try:
        return await asyncio.get_running_loop().run_in_executor(_hash_pool, func, *args)
    finally:
        _in_flight -= 1


async def verify_password_async(password: str, hashed: str | None) -> bool:
    """Verify in the pool. ``hashed`` None (unknown account) still costs one real check, so timing tells nothing."""
    global _DUMMY_HASH
    if hashed is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = await _run_bounded(hash_password, secrets.token_urlsafe(12))
        await _run_bounded(verify_password, password[:MAX_PASSWORD_BYTES], _DUMMY_HASH)
        return False
    return bool(await _run_bounded(verify_password, password, hashed))


async def hash_password_async(password: str) -> str:
    return await _run_bounded(hash_password, password)
