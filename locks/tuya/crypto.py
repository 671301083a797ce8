"""The crypto the lock APIs require: password tickets and media files.

Tuya requires AES-ECB to send door PINs (docs/tuya-protocol.md, password tickets). ECB is weak in general; it is used
here only because the vendor API demands it, and only for that exchange.
"""

from __future__ import annotations

import io
import os
from typing import BinaryIO

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .errors import TuyaMediaError, TuyaValidationError

AES_BLOCK = 16
# The spec's media layout: 4 bytes, a 16-byte IV, 44 bytes, then AES-CBC/PKCS5 ciphertext.
MEDIA_PREFIX = 4
MEDIA_IV = 16
MEDIA_GAP = 44
MEDIA_HEADER = MEDIA_PREFIX + MEDIA_IV + MEDIA_GAP
_CHUNK = 64 * 1024


def _aes_key(raw: bytes, what: str) -> bytes:
    if len(raw) not in (16, 24, 32):
        raise TuyaValidationError(f"The {what} must be 16, 24 or 32 bytes long, not {len(raw)}.")
    return raw


def aes_ecb(key: bytes, data: bytes, *, encrypt: bool) -> bytes:
    """AES-ECB with PKCS7 padding, as Tuya uses it for tickets, PINs and push messages."""
    cipher = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305 - mandated by the Tuya lock API
    if encrypt:
        padder = padding.PKCS7(128).padder()
        encryptor = cipher.encryptor()
        return encryptor.update(padder.update(data) + padder.finalize()) + encryptor.finalize()
    decryptor = cipher.decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(decryptor.update(data) + decryptor.finalize()) + unpadder.finalize()


def decrypt_ticket_key(ticket_key: str, access_secret: str) -> bytes:
    """The ticket's plain key K: AES-ECB-decrypt the hex ticket_key with the project's access secret."""
    key = _aes_key(access_secret.encode(), "access secret")
    try:
        data = bytes.fromhex(ticket_key)
        if not data or len(data) % AES_BLOCK:
            raise ValueError("length")
        return aes_ecb(key, data, encrypt=False)
    except ValueError:
        raise TuyaValidationError(
            "The ticket key could not be decrypted with this access secret: check the secret."
        ) from None


def encrypt_pin(pin: str, key: bytes) -> str:
    """The PIN as Tuya wants it: upper-case hex of AES-ECB-PKCS7(K, digits)."""
    if not pin.isascii() or not pin.isdigit():
        raise TuyaValidationError("A door PIN is made of digits only.")
    return aes_ecb(_aes_key(key, "ticket key"), pin.encode(), encrypt=True).hex().upper()


def decrypt_pin(encrypted: str, key: bytes) -> str:
    try:
        return aes_ecb(_aes_key(key, "ticket key"), bytes.fromhex(encrypted), encrypt=False).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise TuyaValidationError("The encrypted PIN does not decrypt with this key.") from None


def encrypt_pin_for_ticket(pin: str, *, ticket_key: str, access_secret: str) -> str:
    return encrypt_pin(pin, decrypt_ticket_key(ticket_key, access_secret))


def _media_key(file_key: str | bytes) -> bytes:
    raw = file_key.encode() if isinstance(file_key, str) else file_key
    if len(raw) not in (16, 24, 32):
        raise TuyaMediaError(f"The media file key must be 16, 24 or 32 characters long, not {len(raw)}.")
    return raw


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = source.read(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def decrypt_media_stream(source: BinaryIO, target: BinaryIO, file_key: str | bytes) -> int:
    """Decrypt a Tuya media file chunk by chunk, so a large video never has to fit in memory.

    Returns the number of plain bytes written. Raises TuyaMediaError for a truncated or corrupt
    file or a wrong key (a wrong key shows up as bad padding, with near certainty).
    """
    key = _media_key(file_key)
    header = _read_exactly(source, MEDIA_HEADER)
    if len(header) < MEDIA_HEADER:
        raise TuyaMediaError(
            f"The media file is truncated: {len(header)} bytes, not even the {MEDIA_HEADER}-byte header."
        )
    iv = header[MEDIA_PREFIX : MEDIA_PREFIX + MEDIA_IV]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    written = 0
    ciphertext_size = 0
    while chunk := source.read(_CHUNK):
        ciphertext_size += len(chunk)
        plain = unpadder.update(decryptor.update(chunk))
        target.write(plain)
        written += len(plain)
    if ciphertext_size == 0 or ciphertext_size % AES_BLOCK:
        raise TuyaMediaError("The media file is truncated: its encrypted part is not whole AES blocks.")
    try:
        tail = unpadder.update(decryptor.finalize()) + unpadder.finalize()
    except ValueError:
        raise TuyaMediaError("The media file does not decrypt with this key (wrong key or corrupt file).") from None
    target.write(tail)
    return written + len(tail)


def decrypt_media(data: bytes, file_key: str | bytes) -> bytes:
    out = io.BytesIO()
    decrypt_media_stream(io.BytesIO(data), out, file_key)
    return out.getvalue()


def encrypt_media(plain: bytes, file_key: str | bytes, *, iv: bytes | None = None) -> bytes:
    """The inverse of decrypt_media, in the spec's layout; for tests and tools."""
    key = _media_key(file_key)
    iv = iv or os.urandom(MEDIA_IV)
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    body = encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()
    return bytes(MEDIA_PREFIX) + iv + bytes(MEDIA_GAP) + body
