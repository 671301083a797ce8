"""Tuya request signatures, verified from what was received (docs/tuya-protocol.md: signing, verifying a request)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import parse_qsl

TOKEN_PATH_PREFIX = "/v1.0/token"


def canonical_url(path: str, query_string: str) -> str:
    """Path as sent + `?` + decoded params sorted by key (stable, so repeated keys keep their order)."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    if not pairs:
        return path
    return path + "?" + "&".join(f"{k}={v}" for k, v in sorted(pairs, key=lambda kv: kv[0]))


def string_to_sign(method: str, body: bytes, signed_headers: Iterable[tuple[str, str]], url: str) -> str:
    header_block = "".join(f"{name}:{value}\n" for name, value in signed_headers)
    return f"{method.upper()}\n{hashlib.sha256(body).hexdigest()}\n{header_block}\n{url}"


def is_token_path(path: str) -> bool:
    return path.startswith(TOKEN_PATH_PREFIX)


def compute_sign(*, secret: str, client_id: str, access_token: str, t: str, nonce: str, to_sign: str) -> str:
    message = client_id + access_token + t + nonce + to_sign
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest().upper()


def sign_request(
    *,
    secret: str,
    client_id: str,
    access_token: str,
    t: str,
    method: str,
    path: str,
    query_string: str = "",
    body: bytes = b"",
    nonce: str = "",
    signed_headers: Iterable[tuple[str, str]] = (),
) -> str:
    """The sign a correct client sends; the verifier compares against this."""
    token = "" if is_token_path(path) else access_token
    to_sign = string_to_sign(method, body, signed_headers, canonical_url(path, query_string))
    return compute_sign(secret=secret, client_id=client_id, access_token=token, t=t, nonce=nonce, to_sign=to_sign)


def signs_match(expected: str, received: str) -> bool:
    return hmac.compare_digest(expected.upper(), received.upper())
