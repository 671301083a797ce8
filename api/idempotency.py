"""`Idempotency-Key` on every POST of the API, the body-size guard in front of it, and problem details for the
refusals that happen before the API's own handlers (no such path, wrong method).

A middleware, not a decorator, because the answer to keep is the whole response as sent, refusals included. The
request runs in one transaction with its record: a second request with the same key waits on the record's unique
row until the first commits, then gets the first answer. A 5xx, a 401 or a 429 is not an answer to keep: its
transaction is rolled back with the record, and a retry runs afresh. Jobs the request enqueues still go after
commit (`transaction.on_commit`), so a replay enqueues nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from api import keys
from api.models import IdempotentRequest
from api.problems import IDEMPOTENCY_REUSED, INVALID, MEDIA_TYPE, TOO_LARGE, problem_response
from tenants.models import ApiKey

PREFIX = "/api/v1/"
KEPT = timedelta(hours=24)
NOT_KEPT = frozenset({401, 429})
# A reveal is safe to repeat, and each look must be audited: its PIN is never kept for a replay.
NOT_REPLAYED = "/reveal"


def bearer_key(request: HttpRequest) -> ApiKey | None:
    """The request's API key, looked up once per request (the middleware and the API's auth share it)."""
    if not hasattr(request, "_api_key"):
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        found = keys.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
        request._api_key = found  # type: ignore[attr-defined]
    key: ApiKey | None = request._api_key  # type: ignore[attr-defined]
    return key


def purge_expired() -> int:
    """Forget answers older than a day (a periodic job)."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=timezone.now() - KEPT).delete()
    return deleted


class ApiRequests:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        response = self._guarded(request)
        if response.status_code in (404, 405) and not response.get("Content-Type", "").startswith(MEDIA_TYPE):
            # No such path, or not this method on it: refused by Django's URLs or ninja's router, in plain text.
            detail = (
                "No such path in this API." if response.status_code == 404 else "This path does not take that method."
            )
            headers = {"Allow": response["Allow"]} if response.has_header("Allow") else None
            return problem_response(response.status_code, detail, headers=headers)
        return response

    def _guarded(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return self.get_response(request)
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > settings.API_MAX_BODY_BYTES:
            limit = settings.API_MAX_BODY_BYTES
            return problem_response(413, f"The body may be at most {limit} bytes.", type=TOO_LARGE)
        idempotency_key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or idempotency_key is None or request.path_info.endswith(NOT_REPLAYED):
            return self.get_response(request)
        if not 1 <= len(idempotency_key) <= 255 or not idempotency_key.isprintable():
            errors = [{"field": "Idempotency-Key", "detail": "Use 1 to 255 printable characters, e.g. a UUID."}]
            return problem_response(400, "The Idempotency-Key header is not usable.", type=INVALID, errors=errors)
        key = bearer_key(request)
        if key is None:
            return self.get_response(request)  # the API answers 401
        return self._once(request, key, idempotency_key)

    def _once(self, request: HttpRequest, key: ApiKey, idempotency_key: str) -> HttpResponse:
        fingerprint = hashlib.sha256(f"{request.method} {request.path_info}\n".encode() + request.body).hexdigest()
        with transaction.atomic():
            record = self._claim(key, idempotency_key, fingerprint)
            if record.status is not None:
                if record.fingerprint != fingerprint:
                    return problem_response(
                        422,
                        "This Idempotency-Key was used with another request; use a new key for a new request.",
                        type=IDEMPOTENCY_REUSED,
                    )
                replay = HttpResponse(record.body, status=record.status, content_type=record.content_type)
                replay["Idempotent-Replayed"] = "true"
                return replay
            response = self.get_response(request)
            if response.status_code >= 500 or response.status_code in NOT_KEPT:
                transaction.set_rollback(True)
                return response
            record.status, record.body = response.status_code, response.content.decode()
            record.content_type = response.get("Content-Type", "")
            record.save(update_fields=["status", "body", "content_type"])
            return response

    @staticmethod
    def _claim(key: ApiKey, idempotency_key: str, fingerprint: str) -> IdempotentRequest:
        """This key's record, made now (empty: ours to fill) or the earlier one; a stale one is started afresh."""
        now = timezone.now()
        mine = IdempotentRequest.objects.filter(api_key=key, key=idempotency_key)
        try:
            with transaction.atomic():
                return IdempotentRequest.objects.create(
                    api_key=key, key=idempotency_key, fingerprint=fingerprint, created_at=now
                )
        except IntegrityError:
            record = mine.select_for_update().get()
        if record.created_at < now - KEPT:
            record.fingerprint, record.status, record.body, record.created_at = fingerprint, None, "", now
            record.save()
        return record
