"""The URL walk of tests/config/test_url_walk.py, for the API: every operation of the OpenAPI document, called
with organisation A's key (every scope) and organisation B's ids in its path, its body and its filters, answers
404 (or a refusal that is not about B) and shows and changes nothing of B's. A key limited to one property gets the
same from the other property's rows. New operations are walked as soon as they are in the document; a path
parameter nobody mapped fails the walk."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from api import keys
from locks.models import EventMedia, Lock
from tenants.models import ApiKey, Guest, Property, Unit
from tests.api.conftest import ALL_SCOPES, ApiClient, document
from tests.config.test_url_walk import (
    CHOICE_KWARGS,
    ROW_KWARGS,
    Tenant,
    add_feed_rows,
    b_strings,
    check_b_untouched,
    snapshot,
)
from tests.conftest import private_media_in
from tests.locks.test_admin import build_rows, build_tenant

pytestmark = pytest.mark.django_db
# Body fields naming a row: B's row goes in.
BODY_ROWS: dict[str, type[Any]] = {"unit": Unit, "lock": Lock, "guest": Guest, "property": Property}
REFUSED = {403, 404}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        schema = document()["components"]["schemas"][name]
    if "anyOf" in schema:  # optional fields: the first non-null form
        schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
        return _resolve(schema)
    return schema


def sample(schema: dict[str, Any], b: Tenant, name: str = "") -> Any:
    """A value for `schema` that would be accepted if the rows named were the caller's: B's ids where a row goes."""
    schema = _resolve(schema)
    if name in BODY_ROWS and schema.get("type") == "integer":
        row = b.objects.get(BODY_ROWS[name])
        return row.pk if row is not None else 987654
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {field: sample(sub, b, field) for field, sub in props.items() if field in schema.get("required", [])}
    if kind == "array":
        return [sample(schema.get("items", {}), b)]
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "boolean":
        return True
    if kind == "string" and schema.get("format") == "date-time":
        return (timezone.now() + timedelta(hours=2)).isoformat()
    return "09:00" if "pattern" in schema else "Bravo Zulu"


def fillings(template: str, b: Tenant, operation: dict[str, Any]) -> list[str]:
    paths = [template]
    declared = {p["name"]: _resolve(p.get("schema", {})) for p in operation.get("parameters", []) if p["in"] == "path"}
    for param in re.findall(r"\{(\w+)\}", template):
        if "enum" in declared.get(param, {}):  # a choice the document lists: each value it accepts
            values = [str(v) for v in declared[param]["enum"]]
        elif param in ROW_KWARGS:
            row = b.objects.get(ROW_KWARGS[param])
            values = [str(row.pk) if row is not None else "987654"]
        elif param in CHOICE_KWARGS:
            values = CHOICE_KWARGS[param]
        else:
            raise AssertionError(f"{template}: map the parameter {param!r} in tests/config/test_url_walk.py")
        paths = [p.replace("{" + param + "}", v) for p in paths for v in values]
    return paths


def walk(client: ApiClient, b: Tenant, strings: list[str]) -> list[str]:
    problems: list[str] = []
    for template, operations in document()["paths"].items():
        for method, operation in operations.items():
            path = template.removeprefix("/api/v1")
            body = None
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if content:
                body = sample(content["schema"], b)
            query = ""
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter["name"] in BODY_ROWS:
                    query = f"?{parameter['name']}={sample({'type': 'integer'}, b, parameter['name'])}"
            for url in fillings(path, b, operation):
                answer = client.call(method.upper(), url + query, body)
                text = answer.content.decode(errors="replace")
                shown = [s for s in strings if s in text]
                if shown:
                    problems.append(f"{method.upper()} {url}{query}: {answer.status_code} shows {shown}")
                elif "{" in template and answer.status_code not in REFUSED:
                    problems.append(f"{method.upper()} {url}: {answer.status_code} {text[:200]}")
                elif "{" not in template and answer.status_code >= 500:
                    problems.append(f"{method.upper()} {url}{query}: {answer.status_code}")
    return problems


@pytest.fixture
def tenants(django_user_model: Any, settings: Any, tmp_path: Path) -> tuple[Tenant, Tenant]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    private_media_in(settings, tmp_path / "private")
    a = build_tenant("Alpha", "alpha", "8617342", django_user_model)
    b = build_tenant("Bravo Zulu", "bravo", "9264815", django_user_model)
    for tenant in (a, b):
        add_feed_rows(tenant)
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0 Bravo photo")
    photo = b.objects[EventMedia]
    EventMedia.objects.filter(pk=photo.pk).update(status=EventMedia.Status.DONE, original="b.jpg", thumbnail="b.jpg")
    return a, b


def test_a_key_of_a_gets_nothing_of_b_anywhere(tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    _, secret = keys.create_key(organisation=a.org, name="A's PMS", scopes=ALL_SCOPES)
    client = ApiClient(secret)
    client.get("/properties")  # the key's last use is noted now, not during the walk (the snapshot is B's rows)
    before = snapshot()
    problems = walk(client, b, b_strings(b))
    assert not problems, "\n".join(problems)
    check_b_untouched(before, b, a)


def test_a_key_limited_to_one_property_gets_nothing_of_another(tenants: tuple[Tenant, Tenant]) -> None:
    a, _ = tenants
    account = a.objects[Lock].cloud_account  # type: ignore[attr-defined]
    other_rows = build_rows(a.org, account, a.staff, "Yonder Zone", "yonder", "5172936")
    other = Tenant(org=a.org, staff=None, objects=other_rows, pin="5172936", local_key="lk-yonder-7f3a9c")
    add_feed_rows(other)
    _, secret = keys.create_key(
        organisation=a.org, name="A's desk PMS", scopes=ALL_SCOPES, properties=[a.objects[Property]]
    )
    problems = walk(ApiClient(secret), other, ["Yonder Zone", "5172936", "lk-yonder-7f3a9c"])
    assert not problems, "\n".join(problems)
    assert ApiKey.objects.count() >= 3
