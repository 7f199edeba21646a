"""Callback crypto against DingTalk's published vectors, random round trips and every error type."""

from __future__ import annotations

import base64
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from app.dingtalk.crypto import (
    CallbackCryptoError,
    DecryptError,
    DingTalkCrypto,
    InvalidAESKeyError,
    KeyIdMismatchError,
    SignatureMismatchError,
    generate_aes_key,
    generate_token,
    pkcs7_pad,
    pkcs7_unpad,
    sign,
)

# Vector A: official "回调接口本地调试方案" sample, also used by a widely used Python SDK's test-suite.
A_TOKEN = "123456"
A_KEY = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"
A_KEY_ID = "suite4xxxxxxxxxxxxxxx"
A_TIMESTAMP = "1445827045067"
A_NONCE = "nEXhMP4r"
A_ENCRYPT = (
    "1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmfxjZ8Ej23JVYa9Vr"
    "YeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ=="
)
A_SIGNATURE = "5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0"
A_PLAIN = '{"EventType":"check_create_suite_url","Random":"LPIdSnlF","TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}'
A_FIXED_RANDOM = b"1234567890123456"
A_ENCRYPT_FIXED = (
    "5DJFWzjRNOQk+5GSZxW+VrFMDWCIidPjEjg3//gm5x556BedVi62rDj1F9uXU97a4jw1R4FACUv9RCpoDobNqxhxRB2YtW901k4KHbP1/wpFJ3"
    "xdLG0n0A8U1VhENg80zKJd+YROR0YMGum4WYuoXJ6J98vt0ihYeIFoapNddLML5MyNAGM9saSpkouDMSvD+iU14i7V8ix1ia1Tb9ogog=="
)
A_SIGNATURE_FIXED = "bcf6dcefa4ce2dbaf7b0666c7264d46fd9aad4bd"


@pytest.fixture
def vector_a() -> DingTalkCrypto:
    return DingTalkCrypto(A_TOKEN, A_KEY, A_KEY_ID)


def test_vector_a_signature(vector_a: DingTalkCrypto) -> None:
    assert vector_a.signature(A_TIMESTAMP, A_NONCE, A_ENCRYPT) == A_SIGNATURE
    assert sign(A_TOKEN, A_TIMESTAMP, A_NONCE, A_ENCRYPT) == A_SIGNATURE


def test_vector_a_decrypt(vector_a: DingTalkCrypto) -> None:
    assert vector_a.decrypt(A_ENCRYPT) == A_PLAIN
    assert vector_a.decrypt_message(A_SIGNATURE, A_TIMESTAMP, A_NONCE, A_ENCRYPT) == A_PLAIN


def test_vector_a_encrypt_direction(vector_a: DingTalkCrypto) -> None:
    encrypted = vector_a.encrypt(A_PLAIN, random_prefix=A_FIXED_RANDOM)
    assert encrypted == A_ENCRYPT_FIXED
    assert vector_a.signature(A_TIMESTAMP, A_NONCE, encrypted) == A_SIGNATURE_FIXED
    assert vector_a.decrypt(A_ENCRYPT_FIXED) == A_PLAIN


def test_vector_a_plaintext_layout(vector_a: DingTalkCrypto) -> None:
    # Decrypt by hand to pin the layout: random(16) | len (big-endian) | msg | key id | pad to 32.
    key = base64.b64decode(A_KEY + "=")
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    raw = dec.update(base64.b64decode(A_ENCRYPT)) + dec.finalize()
    assert raw[:16] == b"hU3bEfGZZewzhG5a"
    assert struct.unpack(">I", raw[16:20])[0] == len(A_PLAIN)
    assert raw[-1] == 22 and len(raw) % 32 == 0
    assert raw[20 + len(A_PLAIN) : -22] == A_KEY_ID.encode()


def test_signature_sorts_in_byte_order() -> None:
    # Uppercase sorts before lowercase in byte order; a locale-aware sort would give another digest.
    import hashlib

    expected = hashlib.sha1("".join(sorted(["b", "B", "a", "1"])).encode()).hexdigest()
    assert sign("b", "B", "a", "1") == expected == sign("1", "a", "B", "b")


@pytest.mark.parametrize("message", ["success", "", "中文消息 ✓", '{"EventType":"check_url"}', "x" * 5000])
def test_random_round_trip(message: str) -> None:
    key = generate_aes_key()
    crypto = DingTalkCrypto(generate_token(), key, "ding" + generate_token(12))
    encrypted = crypto.encrypt(message)
    assert crypto.decrypt(encrypted) == message
    assert len(base64.b64decode(encrypted)) % 32 == 0
    # The random prefix makes each ciphertext different.
    assert crypto.encrypt(message) != encrypted


def test_many_random_keys_round_trip() -> None:
    for _ in range(50):
        crypto = DingTalkCrypto("tok", generate_aes_key(), "corp")
        assert crypto.decrypt(crypto.encrypt("hello")) == "hello"


def test_encrypted_reply_shape_and_verifiable(vector_a: DingTalkCrypto) -> None:
    reply = vector_a.encrypted_reply(timestamp="1783610513", nonce="abc12345")
    assert set(reply) == {"msg_signature", "timeStamp", "nonce", "encrypt"}
    assert reply["timeStamp"] == "1783610513" and reply["nonce"] == "abc12345"
    assert vector_a.decrypt_message(reply["msg_signature"], reply["timeStamp"], reply["nonce"], reply["encrypt"]) == (
        "success"
    )
    default = vector_a.encrypted_reply()
    assert default["timeStamp"].isdigit() and len(default["timeStamp"]) == 13
    assert len(default["nonce"]) >= 8
    vector_a.verify(default["msg_signature"], default["timeStamp"], default["nonce"], default["encrypt"])


def test_generators() -> None:
    key = generate_aes_key()
    assert len(key) == 43 and key.isalnum()
    assert len(base64.b64decode(key + "=")) == 32
    assert generate_aes_key() != key
    token = generate_token()
    assert token.isalnum() and 6 <= len(token) < 64


@pytest.mark.parametrize("bad_key", ["", "short", A_KEY[:-1], A_KEY + "x", A_KEY[:-1] + "+", A_KEY[:-1] + "="])
def test_bad_key(bad_key: str) -> None:
    with pytest.raises(InvalidAESKeyError) as info:
        DingTalkCrypto("t", bad_key, "k")
    assert info.value.code == 900004
    assert isinstance(info.value, CallbackCryptoError)


def test_bad_signature(vector_a: DingTalkCrypto) -> None:
    with pytest.raises(SignatureMismatchError) as info:
        vector_a.decrypt_message("0" * 40, A_TIMESTAMP, A_NONCE, A_ENCRYPT)
    assert info.value.code == 900005
    with pytest.raises(SignatureMismatchError):
        vector_a.verify(A_SIGNATURE, A_TIMESTAMP, "otherNonce", A_ENCRYPT)
    # Another token gives another signature for the same message.
    other = DingTalkCrypto("654321", A_KEY, A_KEY_ID)
    with pytest.raises(SignatureMismatchError):
        other.verify(A_SIGNATURE, A_TIMESTAMP, A_NONCE, A_ENCRYPT)
    # Hex case does not matter.
    vector_a.verify(A_SIGNATURE.upper(), A_TIMESTAMP, A_NONCE, A_ENCRYPT)


def test_key_id_mismatch() -> None:
    wrong = DingTalkCrypto(A_TOKEN, A_KEY, "dingOtherCorp")
    with pytest.raises(KeyIdMismatchError) as info:
        wrong.decrypt(A_ENCRYPT)
    assert info.value.code == 900010
    assert info.value.actual == A_KEY_ID and info.value.expected == "dingOtherCorp"


def test_wrong_key_is_a_decrypt_error(vector_a: DingTalkCrypto) -> None:
    other = DingTalkCrypto(A_TOKEN, generate_aes_key(), A_KEY_ID)
    # With the wrong key the padding (or at the latest the length field / key id) is garbage.
    with pytest.raises(CallbackCryptoError):
        other.decrypt(A_ENCRYPT)


@pytest.mark.parametrize(
    "garbage",
    ["not base64!!", "", base64.b64encode(b"x" * 15).decode(), base64.b64encode(b"x" * 17).decode()],
)
def test_bad_ciphertext(vector_a: DingTalkCrypto, garbage: str) -> None:
    with pytest.raises(DecryptError) as info:
        vector_a.decrypt(garbage)
    assert info.value.code == 900008


def _raw_encrypt(plain: bytes) -> str:
    key = base64.b64decode(A_KEY + "=")
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def test_bad_padding(vector_a: DingTalkCrypto) -> None:
    body = b"0123456789abcdef" + struct.pack(">I", 2) + b"ok" + A_KEY_ID.encode()
    assert len(body) < 64
    bad = body + b"\x00" * (64 - len(body))  # pad byte 0 is never valid
    with pytest.raises(DecryptError):
        vector_a.decrypt(_raw_encrypt(bad))
    inconsistent = body + bytes(range(1, 64 - len(body) + 1))  # last byte right, others not
    with pytest.raises(DecryptError):
        vector_a.decrypt(_raw_encrypt(inconsistent))
    assert vector_a.decrypt(_raw_encrypt(pkcs7_pad(body))) == "ok"


def test_length_field_too_large(vector_a: DingTalkCrypto) -> None:
    body = b"0123456789abcdef" + struct.pack(">I", 10_000) + b"ok"
    with pytest.raises(DecryptError):
        vector_a.decrypt(_raw_encrypt(pkcs7_pad(body)))


def test_pkcs7_block_32() -> None:
    assert len(pkcs7_pad(b"")) == 32 and pkcs7_pad(b"")[-1] == 32
    assert pkcs7_pad(b"a" * 31) == b"a" * 31 + b"\x01"
    assert pkcs7_pad(b"a" * 32)[-1] == 32 and len(pkcs7_pad(b"a" * 32)) == 64
    assert pkcs7_unpad(pkcs7_pad(b"abc")) == b"abc"
    with pytest.raises(DecryptError):
        pkcs7_unpad(b"")
