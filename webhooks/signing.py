"""Standard Webhooks signing (https://www.standardwebhooks.com/): secrets and the `webhook-signature` header.

The signature is `v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`, keyed with the secret's
base64-decoded bytes; several space-separated signatures are allowed, which rotation uses. The tests check it with
the `standardwebhooks` package, an implementation written by others.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification asks for 24 to 64


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def key_of(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key_of(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signatures(secrets_in_use: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The header's value: one signature per secret in use (the current one first)."""
    return " ".join(signature(secret, msg_id, timestamp, body) for secret in secrets_in_use)
