"""Request signing, exactly as docs/tuya-protocol.md (signing) describes.

sign = UPPER(HEX(HMAC-SHA256(secret, client_id [+ access_token] + t + nonce + stringToSign)))
stringToSign = METHOD \\n SHA256(body bytes) \\n signed headers \\n path[?sorted decoded query]
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any

EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()


def is_token_path(path: str) -> bool:
    """Token grant and refresh calls are signed without the access token."""
    return path.startswith("/v1.0/token")


def query_value(value: Any) -> str:
    """The text a query value is sent and signed as (booleans as Tuya expects them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def canonical_url(path: str, query: Mapping[str, Any] | None = None) -> str:
    """Path plus the query sorted by key, with raw (not percent-encoded) values."""
    if not query:
        return path
    pairs = "&".join(f"{key}={query_value(query[key])}" for key in sorted(query))
    return f"{path}?{pairs}"


def string_to_sign(
    method: str,
    url: str,
    body: bytes | None = None,
    signed_headers: Iterable[tuple[str, str]] = (),
) -> str:
    body_hash = hashlib.sha256(body).hexdigest() if body else EMPTY_BODY_SHA256
    header_block = "".join(f"{name}:{value}\n" for name, value in signed_headers)
    return f"{method.upper()}\n{body_hash}\n{header_block}\n{url}"


def sign(
    *,
    client_id: str,
    secret: str,
    t: str,
    string_to_sign: str,
    access_token: str = "",
    nonce: str = "",
) -> str:
    message = f"{client_id}{access_token}{t}{nonce}{string_to_sign}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest().upper()


def signed_headers(
    *,
    client_id: str,
    secret: str,
    method: str,
    path: str,
    t: str,
    query: Mapping[str, Any] | None = None,
    body: bytes | None = None,
    access_token: str = "",
    nonce: str = "",
    extra_signed: Iterable[tuple[str, str]] = (),
) -> dict[str, str]:
    """The headers that authenticate one request. `body` must be the exact bytes sent."""
    extra_signed = list(extra_signed)
    token = "" if is_token_path(path) else access_token
    text = string_to_sign(method, canonical_url(path, query), body, extra_signed)
    headers = {
        "client_id": client_id,
        "sign": sign(client_id=client_id, secret=secret, t=t, string_to_sign=text, access_token=token, nonce=nonce),
        "sign_method": "HMAC-SHA256",
        "t": t,
        "lang": "en",
    }
    if token:
        headers["access_token"] = token
    if nonce:
        headers["nonce"] = nonce
    if extra_signed:
        headers["Signature-Headers"] = ":".join(name for name, _ in extra_signed)
        headers.update(dict(extra_signed))
    return headers
