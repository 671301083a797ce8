"""The public API, version 1: `/api/v1/`, its OpenAPI document at `/api/v1/openapi.json`, docs at `/api/v1/docs`.

django-ninja rather than Django REST framework: its pydantic schemas are at once the request validation, the
response serialisation and the OpenAPI document, so the document cannot say one thing while the code does
another; each operation declares every status it can answer, and ninja refuses (500, caught by the tests) a
response that does not fit its declaration. It is typed end to end, which mypy --strict keeps honest.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.errors import ValidationError as RequestInvalid

from api import problems, routes_codes, routes_events, routes_operations, routes_places, routes_stays
from api.access import KeyAuth

DESCRIPTION = """\
Drive the doors from a PMS, a channel manager or a script. Every request carries an API key
(`Authorization: Bearer <key>`), made by an owner on the dashboard's API keys page; a key acts for one
organisation (or some of its properties) within its scopes. Another organisation's ids answer 404.

Times are ISO 8601 with a UTC offset; naive times are refused. Lists are keyset pages in id order: pass
`next_cursor` as `cursor`. Every POST takes an `Idempotency-Key` header (kept 24 hours): a retry with the same
key and body gets the first answer, marked `Idempotent-Replayed: true`; the same key with another body is 422.
Refusals are RFC 9457 problem details (`application/problem+json`) with a detail per field.
"""


class DoorsApi(NinjaAPI):
    _documents: dict[str | None, Any] = {}

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        """Refusals are problem details: the document says `application/problem+json` for every 4xx, as sent.
        Made once per process (it only changes with the code)."""
        if path_prefix in self._documents:
            return self._documents[path_prefix]
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for status, answer in operation.get("responses", {}).items():
                    content = answer.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        content[problems.MEDIA_TYPE] = content.pop("application/json")
        self._documents[path_prefix] = schema
        return schema


api = DoorsApi(
    title="Doors API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=KeyAuth(),
)
api.add_router("", routes_places.router)
api.add_router("", routes_stays.router)
api.add_router("", routes_codes.router)
api.add_router("", routes_events.router)
api.add_router("", routes_operations.router)


def _problem(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
    assert isinstance(exc, Exception)  # ninja passes the raised exception; its type allows the class too
    return problems.handle(request, exc)


# In place of each of ninja's own handlers (found by the exception's class first), and for everything else.
for handled in (Exception, Http404, HttpError, RequestInvalid):
    api.add_exception_handler(handled, _problem)
