"""Errors as RFC 9457 problem details (`application/problem+json`), one shape for every refusal of the API.

Every exception an operation can end in is turned into a `Problem` here: the request's own mistakes (malformed
JSON, wrong types, unknown fields, naive times) are 400/422 with a detail per field, a service's refusal is 422
(with fields) or 409 (the object's state forbids it), and a missing or foreign object is 404. A 500 is only ever a
bug; bad input never reaches one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestInvalid
from pydantic import Field

MEDIA_TYPE = "application/problem+json"
# Problem types this API names (relative URIs; docs/api.md lists them). Plain HTTP refusals are "about:blank".
INVALID = "/api/v1/problems/invalid-input"
MALFORMED = "/api/v1/problems/malformed-request"
CONFLICT = "/api/v1/problems/conflict"
SCOPE = "/api/v1/problems/missing-scope"
RATE_LIMITED = "/api/v1/problems/rate-limited"
IDEMPOTENCY_REUSED = "/api/v1/problems/idempotency-key-reused"
TOO_LARGE = "/api/v1/problems/body-too-large"

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
    429: "Too Many Requests",
}


class FieldProblem(Schema):
    field: str = Field(description="The field, dotted for nested ones (guest.email); empty for the whole request.")
    detail: str


class Problem(Schema):
    type: str = Field(description="A URI naming the kind of problem; about:blank for a plain HTTP status.")
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] = Field(default_factory=list, description="What is wrong with each field, if any.")


class ApiProblem(Exception):
    """Raised by operations for a refusal that is none of Django's exceptions."""

    def __init__(
        self, status: int, detail: str, *, type: str = "about:blank", headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.type, self.headers = status, detail, type, headers or {}


def problem_response(
    status: int,
    detail: str,
    *,
    type: str = "about:blank",
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {"type": type, "title": TITLES.get(status, "Error"), "status": status, "detail": detail}
    body["errors"] = errors or []
    response = HttpResponse(json.dumps(body), status=status, content_type=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# Pydantic's words for the mistakes a caller makes most, in ours.
FRIENDLIER = {
    "timezone_aware": "Give the time with its UTC offset, e.g. 2026-12-24T15:00:00+01:00 (naive times are refused).",
    "extra_forbidden": "Unknown field: leave it out (see the API document for this operation's fields).",
    "missing": "This field is required.",
}


def _field_name(location: tuple[Any, ...]) -> str:
    # ninja puts the source first ("body", "query", "path") and the parameter's name second for a body model.
    parts = [str(part) for part in location[1:]]
    if len(parts) > 1 and location[0] == "body":
        parts = parts[1:]
    return ".".join(parts)


def request_invalid(exc: RequestInvalid) -> HttpResponse:
    errors = [
        {"field": _field_name(tuple(error.get("loc", ()))), "detail": str(FRIENDLIER.get(error["type"], error["msg"]))}
        for error in exc.errors
    ]
    detail = "The request has invalid fields: " + ", ".join(sorted({e["field"] or "(body)" for e in errors})) + "."
    return problem_response(422, detail, type=INVALID, errors=errors)


def service_refused(exc: ValidationError) -> HttpResponse:
    """A service's ValidationError: with fields it is the input (422); without, the object's state (409)."""
    if hasattr(exc, "error_dict"):
        errors = [
            {"field": "" if field == "__all__" else field, "detail": str(message)}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
        return problem_response(422, " ".join(e["detail"] for e in errors), type=INVALID, errors=errors)
    return problem_response(409, " ".join(exc.messages), type=CONFLICT)


def handle(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The API's one exception handler (registered for Exception in api/v1.py)."""
    if isinstance(exc, ApiProblem):
        return problem_response(exc.status, exc.detail, type=exc.type, headers=exc.headers)
    if isinstance(exc, RequestInvalid):
        return request_invalid(exc)
    if isinstance(exc, ValidationError):
        return service_refused(exc)
    if isinstance(exc, AuthenticationError):
        return problem_response(
            401,
            "Send an API key as `Authorization: Bearer <key>`; owners make keys on the API keys page.",
            headers={"WWW-Authenticate": 'Bearer realm="doors"'},
        )
    if isinstance(exc, PermissionDenied):
        return problem_response(403, str(exc) or "This key may not do that.")
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        return problem_response(404, "No such object (or not one this key may see).")
    if isinstance(exc, RequestDataTooBig):
        return problem_response(413, "The request body is too large.", type=TOO_LARGE)
    if isinstance(exc, HttpError):
        kind = MALFORMED if exc.status_code == 400 else "about:blank"
        detail = "The body is not valid JSON." if exc.status_code == 400 else str(exc)
        return problem_response(exc.status_code, detail, type=kind)
    raise exc  # a bug: Django logs it and answers 500


@contextmanager
def fields_named(names: dict[str, str]) -> Iterator[None]:
    """A service's field errors under the API's field names (the form's `schedule_days` is `schedule.days`)."""
    try:
        yield
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        renamed = {names.get(field, field): messages for field, messages in error.message_dict.items()}
        raise ValidationError(renamed) from error
