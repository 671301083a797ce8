"""Fixtures for the public API: keys of every scope, and a client that checks every answer against the OpenAPI
document the API serves (status declared for the operation, content type, body schema)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import jsonschema
import pytest
from django.test import Client
from django.utils import timezone

from api import keys
from tenants.models import ApiKey, Organisation, Property, Unit
from tests.locks.conftest import (  # noqa: F401  (fixtures, found by pytest through this module)
    account,
    front_desk,
    guest,
    make_lock,
    org,
    owner,
    owner_client,
    queues,
    sim_url,
    unit,
    world,
)
from tests.tenants.conftest import lock, offline_lock  # noqa: F401

ALL_SCOPES = sorted(ApiKey.Scope.values)


@cache
def document() -> dict[str, Any]:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    for template, operations in document()["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            return template, operations[method.lower()]
    raise AssertionError(f"{method} {path} is not in the OpenAPI document")


def conforms(method: str, path: str, response: Any) -> None:
    """The answer is one the document declares for this operation, in its content type and (JSON) shape."""
    template, operation = _operation(method, path.split("?")[0])
    status = str(response.status_code)
    declared = operation["responses"]
    assert status in declared, f"{method} {template} answered {status}, not declared ({sorted(declared)})"
    content = declared[status].get("content", {})
    if not content:  # declared without a body (204)
        assert response.content == b"", f"{method} {template} {status} has a body it does not declare"
        return
    media = response["Content-Type"].split(";")[0]
    assert media in content, f"{method} {template} {status} sent {media}, declared {sorted(content)}"
    if not (media == "application/json" or media.endswith("+json")):
        return  # an image: its status and content type are all the document says of it
    schema = {**document(), "$ref": "#/paths/" + _pointer(template) + f"/{method.lower()}/responses/{status}"
              + "/content/" + _pointer(media) + "/schema"}  # fmt: skip
    jsonschema.Draft202012Validator(schema).validate(json.loads(response.content))


def _pointer(text: str) -> str:
    return text.replace("~", "~0").replace("/", "~1")


class ApiClient:
    """Django's test client with a key, checking every answer against the document (`checked=False` for the
    answers that are meant to fall outside any operation)."""

    def __init__(self, secret: str | None) -> None:
        self.client = Client()
        self.secret = secret

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Any:
        extra = {"HTTP_AUTHORIZATION": f"Bearer {self.secret}"} if self.secret else {}
        for name, value in (headers or {}).items():
            extra["HTTP_" + name.upper().replace("-", "_")] = value
        data = raw if raw is not None else (json.dumps(body, default=str) if body is not None else None)
        if data is None and method in ("POST", "PATCH"):
            data = ""  # an empty body, as curl -X POST sends (Django's client would send an empty multipart form)
        kwargs: dict[str, Any] = {"content_type": "application/json"} if data is not None else {}
        if data is not None:
            kwargs["data"] = data
        response = getattr(self.client, method.lower())("/api/v1" + path, **kwargs, **extra)
        conforms(method, "/api/v1" + path, response)
        return response

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)


@pytest.fixture
def make_key(org: Organisation) -> Callable[..., tuple[ApiKey, str]]:  # noqa: F811
    def make(
        scopes: Iterable[str] = ALL_SCOPES, *, organisation: Organisation | None = None, properties: Any = None
    ) -> tuple[ApiKey, str]:
        return keys.create_key(organisation=organisation or org, name="PMS", scopes=scopes, properties=properties)

    return make


@pytest.fixture
def api_as(make_key: Callable[..., tuple[ApiKey, str]]) -> Callable[..., ApiClient]:
    def as_key(scopes: Iterable[str] = ALL_SCOPES, **kw: Any) -> ApiClient:
        return ApiClient(make_key(scopes, **kw)[1])

    return as_key


@pytest.fixture
def api(api_as: Callable[..., ApiClient]) -> ApiClient:
    return api_as()


@pytest.fixture
def elsewhere(db: None) -> Unit:
    """A unit (with a lock) of another organisation: every id of it must be a 404."""
    other = Organisation.objects.create(name="Other", slug="other")
    prop = Property.objects.create(organisation=other, name="Other house", time_zone="Europe/Lisbon")
    room = Unit.objects.create(property=prop, name="Flat 1")
    offline_lock(other, room, name="Other door")
    return room


def iso(moment: datetime) -> str:
    return moment.isoformat()


def hours(from_now: float) -> str:
    return iso(timezone.now() + timedelta(hours=from_now))
