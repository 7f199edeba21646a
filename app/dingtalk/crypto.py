"""DingTalk callback encryption, decryption and signatures.

The scheme (shared by the legacy ``register_call_back`` push and the console "HTTP 推送"):

- ``EncodingAESKey`` is 43 characters from ``[A-Za-z0-9]``; the AES key is ``base64(EncodingAESKey + "=")``
  (32 bytes) and the CBC IV is the first 16 bytes of that key.
- Plaintext buffer: 16 random bytes, the message length as 4-byte big-endian, the UTF-8 message, then the key id
  (corpId for API-registered callbacks, appKey for console pushes, suiteKey for ISV apps).
- PKCS#7 padding to 32-byte blocks (not the AES block size), AES-256-CBC without cipher-level padding, base64.
- Signature: SHA-1 hex of the sorted concatenation of token, timestamp, nonce and the base64 ciphertext.

Only the standard library and ``cryptography`` are used so both the platform and the DingTalk simulator can share
this module.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
import struct
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "AES_KEY_LENGTH",
    "CallbackCryptoError",
    "DecryptError",
    "DingTalkCrypto",
    "InvalidAESKeyError",
    "KeyIdMismatchError",
    "SignatureMismatchError",
    "generate_aes_key",
    "generate_nonce",
    "generate_token",
    "pkcs7_pad",
    "pkcs7_unpad",
    "sign",
]

AES_KEY_LENGTH = 43
# DingTalk pads to 32 bytes (the key size), not to the 16-byte AES block; a full block is added when aligned.
PAD_BLOCK = 32
_RANDOM_PREFIX_LENGTH = 16
_ALNUM = string.ascii_letters + string.digits


class CallbackCryptoError(Exception):
    """Base class; ``code`` mirrors the error numbers of DingTalk's reference crypto library."""

    code = 900000

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidAESKeyError(CallbackCryptoError):
    """The EncodingAESKey is not 43 alphanumeric characters."""

    code = 900004


class SignatureMismatchError(CallbackCryptoError):
    """The signature sent with a message does not match the one computed locally."""

    code = 900005


class DecryptError(CallbackCryptoError):
    """The ciphertext is not valid base64, not block aligned, badly padded or its length field is wrong."""

    code = 900008


class KeyIdMismatchError(CallbackCryptoError):
    """The message decrypted fine but was encrypted for another corpId / appKey / suiteKey."""

    code = 900010

    def __init__(self, message: str, *, expected: str, actual: str) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


def generate_aes_key() -> str:
    """A fresh 43-character EncodingAESKey."""
    return "".join(secrets.choice(_ALNUM) for _ in range(AES_KEY_LENGTH))


def generate_token(length: int = 32) -> str:
    """A fresh callback token (letters and digits; the console accepts 3-32 chars, the API 6-63)."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def generate_nonce(length: int = 16) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def sign(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """SHA-1 over the four strings sorted in byte order and joined without a separator (lowercase hex)."""
    parts = sorted([str(token), str(timestamp), str(nonce), str(encrypt)])
    return hashlib.sha1("".join(parts).encode("utf-8")).hexdigest()


def pkcs7_pad(data: bytes, block: int = PAD_BLOCK) -> bytes:
    pad = block - (len(data) % block)
    return data + bytes([pad]) * pad


def pkcs7_unpad(data: bytes, block: int = PAD_BLOCK) -> bytes:
    if not data:
        raise DecryptError("empty plaintext after decryption")
    pad = data[-1]
    if pad < 1 or pad > block or pad > len(data) or data[-pad:] != bytes([pad]) * pad:
        raise DecryptError("invalid PKCS#7 padding")
    return data[:-pad]


def decode_aes_key(encoding_aes_key: str) -> bytes:
    if (
        not isinstance(encoding_aes_key, str)
        or len(encoding_aes_key) != AES_KEY_LENGTH
        or any(ch not in _ALNUM for ch in encoding_aes_key)
    ):
        raise InvalidAESKeyError("EncodingAESKey must be exactly 43 characters from [A-Za-z0-9]")
    key = base64.b64decode(encoding_aes_key + "=")
    if len(key) != 32:  # pragma: no cover - 43 base64 chars always decode to 32 bytes
        raise InvalidAESKeyError("EncodingAESKey does not decode to 32 bytes")
    return key


class DingTalkCrypto:
    """Encrypts, decrypts and signs callback messages for one (token, EncodingAESKey, key id) triple."""

    def __init__(self, token: str, aes_key: str, key_id: str) -> None:
        self.token = token
        self.aes_key = aes_key
        self.key_id = key_id
        self._key = decode_aes_key(aes_key)
        self._iv = self._key[:16]

    # -- primitives -------------------------------------------------------------------------------------------

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._iv))

    def encrypt(self, msg: str, *, random_prefix: bytes | None = None) -> str:
        """Base64 ciphertext of ``msg``; ``random_prefix`` (16 bytes) exists only for reproducible test vectors."""
        if random_prefix is None:
            random_prefix = generate_nonce(_RANDOM_PREFIX_LENGTH).encode("ascii")
        if len(random_prefix) != _RANDOM_PREFIX_LENGTH:
            raise ValueError("random_prefix must be 16 bytes")
        body = msg.encode("utf-8")
        plain = random_prefix + struct.pack(">I", len(body)) + body + self.key_id.encode("utf-8")
        encryptor = self._cipher().encryptor()
        cipher_bytes = encryptor.update(pkcs7_pad(plain)) + encryptor.finalize()
        return base64.b64encode(cipher_bytes).decode("ascii")

    def decrypt(self, encrypt: str) -> str:
        """Plaintext message of a base64 ciphertext; checks padding, length field and key id."""
        try:
            cipher_bytes = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError, TypeError) as exc:
            raise DecryptError("ciphertext is not valid base64") from exc
        if not cipher_bytes or len(cipher_bytes) % 16:
            raise DecryptError("ciphertext length is not a multiple of the AES block size")
        decryptor = self._cipher().decryptor()
        plain = pkcs7_unpad(decryptor.update(cipher_bytes) + decryptor.finalize())
        if len(plain) < _RANDOM_PREFIX_LENGTH + 4:
            raise DecryptError("plaintext too short")
        (length,) = struct.unpack(">I", plain[_RANDOM_PREFIX_LENGTH : _RANDOM_PREFIX_LENGTH + 4])
        start = _RANDOM_PREFIX_LENGTH + 4
        if start + length > len(plain):
            raise DecryptError("message length field exceeds the plaintext")
        try:
            msg = plain[start : start + length].decode("utf-8")
            key_id = plain[start + length :].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecryptError("plaintext is not UTF-8") from exc
        if key_id != self.key_id:
            raise KeyIdMismatchError(
                "key id inside the message does not match (wrong corpId / appKey / suiteKey)",
                expected=self.key_id,
                actual=key_id,
            )
        return msg

    def signature(self, timestamp: str | int, nonce: str, encrypt: str) -> str:
        return sign(self.token, str(timestamp), nonce, encrypt)

    def verify(self, signature: str, timestamp: str | int, nonce: str, encrypt: str) -> None:
        """Raise :class:`SignatureMismatchError` unless ``signature`` matches (constant-time compare)."""
        expected = self.signature(timestamp, nonce, encrypt)
        if not isinstance(signature, str) or not hmac.compare_digest(expected, signature.lower()):
            raise SignatureMismatchError("callback signature mismatch")

    # -- message level ----------------------------------------------------------------------------------------

    def decrypt_message(self, signature: str, timestamp: str | int, nonce: str, encrypt: str) -> str:
        """Verify then decrypt, as a receiver does with DingTalk's query parameters and body."""
        self.verify(signature, timestamp, nonce, encrypt)
        return self.decrypt(encrypt)

    def encrypted_reply(
        self, msg: str = "success", timestamp: str | int | None = None, nonce: str | None = None
    ) -> dict[str, str]:
        """The JSON answer DingTalk expects from a callback receiver (note the camelCase ``timeStamp``)."""
        ts = str(timestamp) if timestamp is not None else str(int(time.time() * 1000))
        nonce = nonce if nonce is not None else generate_nonce()
        encrypt = self.encrypt(msg)
        signature = self.signature(ts, nonce, encrypt)
        return {"msg_signature": signature, "timeStamp": ts, "nonce": nonce, "encrypt": encrypt}
