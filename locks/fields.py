"""Model fields whose values are encrypted at rest (Tuya secrets, local keys, door PINs).

Fernet (AES-128-CBC + HMAC) with a MultiFernet over settings.FIELD_ENCRYPTION_KEYS: the first key
encrypts, every key decrypts, so keys rotate by putting a new one first and re-saving the rows
(`manage.py rotate_keys`). The database only ever sees ciphertext.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

if TYPE_CHECKING:  # generic only in django-stubs: set as text (or an expression), read as text
    from django.db.models.expressions import Combinable

    _TextField = models.TextField[str | Combinable, str]
else:
    _TextField = models.TextField


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("An encrypted value does not decrypt with any key in FIELD_ENCRYPTION_KEYS.") from None


class EncryptedTextField(_TextField):
    """A text value stored as a Fernet token; reads give back the plain text."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        return None if value is None else encrypt(str(value))

    def get_internal_type(self) -> str:
        return "TextField"
