"""What Tuya's gateway does before any endpoint runs: headers, clock, signature, token; and the envelopes."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse

from locks.simulator import clock, conf, signing
from locks.simulator.errors import TuyaError
from locks.simulator.models import SimProject, SimToken


def _header(request: HttpRequest, name: str) -> str:
    # As the client sent it, whatever it is named: request.headers finds Content-Type and Content-Length, which WSGI
    # keeps without the HTTP_ prefix, and matches names case-insensitively with '-' and '_' alike (WSGI folds both,
    # and Tuya's own headers have underscores: client_id, access_token).
    return str(request.headers.get(name, ""))


def project_secret(access_id: str) -> str | None:
    if access_id == conf.access_id():
        return conf.access_secret() or None
    return SimProject.objects.filter(access_id=access_id).values_list("secret", flat=True).first()


def project_uid(access_id: str) -> str:
    """The project's user id, stable per access id (Tuya returns it with every token)."""
    return "bay" + hashlib.sha256(access_id.encode()).hexdigest()[:17]


def verify(request: HttpRequest, path: str, now: datetime) -> tuple[str, SimToken | None]:
    """Check a request as Tuya does, in the order docs/tuya-protocol.md gives; returns (client_id, token) or raises
    TuyaError."""
    client_id, sign, t = _header(request, "client_id"), _header(request, "sign"), _header(request, "t")
    for name, value in (("client_id", client_id), ("sign", sign), ("t", t)):
        if not value:
            raise TuyaError(1105, name)
    secret = project_secret(client_id)
    if secret is None:
        raise TuyaError(1005)
    if not t.isdigit():
        raise TuyaError(1013)
    skew = conf.clock_skew_seconds()
    if skew and abs(int(t) - int(now.timestamp() * 1000)) > skew * 1000:
        raise TuyaError(1013)
    sign_method = _header(request, "sign_method")
    if sign_method and sign_method.upper() != "HMAC-SHA256":
        raise TuyaError(1004)

    token_call = signing.is_token_path(path)
    access_token = "" if token_call else _header(request, "access_token")
    if not token_call and not access_token:
        raise TuyaError(1002)

    names = [n.strip() for n in _header(request, "Signature-Headers").split(":") if n.strip()]
    expected = signing.sign_request(
        secret=secret,
        client_id=client_id,
        access_token=access_token,
        t=t,
        nonce=_header(request, "nonce"),
        method=request.method or "GET",
        path=path,
        query_string=str(request.META.get("QUERY_STRING", "")),
        body=request.body,
        signed_headers=[(n, _header(request, n)) for n in names],
    )
    if not signing.signs_match(expected, sign):
        raise TuyaError(1004)

    if token_call:
        return client_id, None
    token = SimToken.objects.filter(access_id=client_id, access_token=access_token, used=False).first()
    if token is None or token.expires_at <= now:
        raise TuyaError(1010)
    return client_id, token


def issue_token(access_id: str, now: datetime) -> SimToken:
    return SimToken.objects.create(
        access_id=access_id,
        uid=project_uid(access_id),
        access_token=secrets.token_hex(16),
        refresh_token=secrets.token_hex(16),
        expires_at=now + timedelta(seconds=conf.token_ttl()),
    )


def token_result(token: SimToken, now: datetime) -> dict[str, Any]:
    return {
        "access_token": token.access_token,
        "expire_time": max(0, int((token.expires_at - now).total_seconds())),
        "refresh_token": token.refresh_token,
        "uid": token.uid,
    }


def _json(payload: dict[str, Any]) -> HttpResponse:
    return HttpResponse(json.dumps(payload), content_type="application/json")


def success(result: Any) -> HttpResponse:
    return _json({"result": result, "success": True, "t": clock.now_ms(), "tid": secrets.token_hex(16)})


def failure(error: TuyaError) -> HttpResponse:
    # Tuya answers refusals with HTTP 200; only the envelope says it failed.
    return _json(
        {"code": error.code, "msg": error.msg, "success": False, "t": clock.now_ms(), "tid": secrets.token_hex(16)}
    )
