"""Who is calling: the request's API key, its scopes, the rate limit, and the client address for the audit trail."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from api import ratelimit
from api.idempotency import bearer_key
from api.problems import SCOPE, ApiProblem
from tenants.models import ApiKey
from tenants.signals import client_ip


class KeyAuth(HttpBearer):
    """`Authorization: Bearer <key>`. Not a cookie, so the API needs no CSRF token: a browser never sends a key by
    itself, and the session cookie opens nothing here."""

    def __call__(self, request: HttpRequest) -> ApiKey | None:
        key = bearer_key(request)
        if key is not None:
            ratelimit.spend(key)
        return key

    def authenticate(self, request: HttpRequest, token: str) -> Any:  # pragma: no cover - __call__ does it
        return bearer_key(request)


def key_of(request: HttpRequest) -> ApiKey:
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    return key


def need(request: HttpRequest, scope: str) -> ApiKey:
    """The caller's key, if it has `scope`; otherwise a 403 naming the scope to ask for."""
    key = key_of(request)
    if not key.allows(scope):
        raise ApiProblem(403, f"This key lacks the '{scope}' scope; an owner can make one that has it.", type=SCOPE)
    return key


def ip_of(request: HttpRequest) -> str | None:
    return client_ip(request)
