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

from api import (
    problems,
    routes_codes,
    routes_events,
    routes_feeds,
    routes_operations,
    routes_places,
    routes_stays,
    routes_webhooks,
)
from api.access import KeyAuth
from webhooks import payloads

DESCRIPTION = """\
Drive the doors from a PMS, a channel manager or a script. Every request carries an API key
(`Authorization: Bearer <key>`), made by an owner on the dashboard's API keys page; a key acts for one
organisation (or some of its properties) within its scopes. Another organisation's ids answer 404.

Times are ISO 8601 with a UTC offset; naive times are refused. Lists are keyset pages in id order: pass
`next_cursor` as `cursor`. Every POST takes an `Idempotency-Key` header (kept 24 hours): a retry with the same
key and body gets the first answer, marked `Idempotent-Replayed: true`; the same key with another body is 422.
Refusals are RFC 9457 problem details (`application/problem+json`) with a detail per field.
"""


SIGNATURE_HEADERS = [
    {"name": "webhook-id", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "The message's id, the same on every retry: deduplicate on it."},
    {"name": "webhook-timestamp", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "Unix seconds when this attempt was sent: refuse one far from now (a replay)."},
    {"name": "webhook-signature", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "`v1,<base64 HMAC-SHA256>` of `{webhook-id}.{webhook-timestamp}.{body}` with the endpoint's "
     "secret (two, space-separated, for a day after the secret is rotated)."},
]  # fmt: skip


def webhooks_section(components: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.1's `webhooks`: what each event type POSTs to a registered endpoint (Standard Webhooks)."""
    section: dict[str, Any] = {}
    for event_type, model in payloads.EVENT_TYPES.items():
        data = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(data.pop("$defs", {}))
        components.setdefault(model.__name__, data)
        envelope = {
            "type": "object",
            "required": ["type", "timestamp", "data"],
            "properties": {
                "type": {"const": event_type},
                "timestamp": {"type": "string", "format": "date-time"},
                "data": {"$ref": f"#/components/schemas/{model.__name__}"},
            },
            "additionalProperties": False,
        }
        section[event_type] = {
            "post": {
                "summary": event_type,
                "tags": ["Webhooks"],
                "parameters": SIGNATURE_HEADERS,
                "requestBody": {"required": True, "content": {"application/json": {"schema": envelope}}},
                "responses": {
                    "2XX": {"description": "Received. Anything else, or no answer within 10 s, is tried again "
                            "with back-off for over 24 hours."},
                },
            }
        }  # fmt: skip
    return section


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
        schema["webhooks"] = webhooks_section(schema.setdefault("components", {}).setdefault("schemas", {}))
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
api.add_router("", routes_webhooks.router)
api.add_router("", routes_events.router)
api.add_router("", routes_operations.router)
api.add_router("", routes_feeds.router)


def _problem(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
    assert isinstance(exc, Exception)  # ninja passes the raised exception; its type allows the class too
    return problems.handle(request, exc)


# In place of each of ninja's own handlers (found by the exception's class first), and for everything else.
for handled in (Exception, Http404, HttpError, RequestInvalid):
    api.add_exception_handler(handled, _problem)
