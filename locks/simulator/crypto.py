"""Password-ticket crypto (docs/tuya-protocol.md, password tickets): AES-ECB with PKCS7, as Tuya requires."""

from __future__ import annotations

import secrets
import string

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_PRINTABLE = string.ascii_letters + string.digits


def _ecb_encrypt(key: bytes, data: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def _ecb_decrypt(key: bytes, data: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def new_ticket_key() -> str:
    """K: 16 random printable characters (the forum solution decodes K as 16 UTF-8 bytes)."""
    return "".join(secrets.choice(_PRINTABLE) for _ in range(16))


def wrap_ticket_key(access_secret: str, key: str) -> str:
    """ticket_key = upper HEX(AES-256-ECB-PKCS7(key=access secret, data=K))."""
    return _ecb_encrypt(access_secret.encode("utf-8"), key.encode("utf-8")).hex().upper()


def encrypt_pin(key: str, pin: str) -> str:
    """What a client sends as `password`; the simulator uses it only in its own tests and tools."""
    return _ecb_encrypt(key.encode("utf-8"), pin.encode("ascii")).hex().upper()


def decrypt_pin(key: str, password_hex: str) -> str | None:
    """The PIN behind `password`, or None when it is not valid hex / AES / PKCS7 / ASCII under K."""
    try:
        raw = bytes.fromhex(password_hex)
        if not raw or len(raw) % 16:
            return None
        return _ecb_decrypt(key.encode("utf-8"), raw).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
