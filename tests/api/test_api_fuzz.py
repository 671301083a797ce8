"""Every operation of the API that takes a body, sent arbitrary JSON by a key with every scope: each field drawn
from a value the document allows or from a pool of hostile ones (wrong types, huge and negative numbers, naive,
impossible and far-off times, NUL, markup, nesting), fields left out or unknown ones added. Never a 500, every
answer the one the document declares (the client checks it), and nothing written unless the answer says so."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import keys
from locks.models import AccessCode
from tenants.models import Stay
from tests.api.conftest import ALL_SCOPES, ApiClient, document, hours
from tests.api.test_api_walk import _resolve
from tests.config.test_forms_fuzz import NASTY
from tests.locks.test_admin import Tenant, build_tenant

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SCALARS = st.one_of(
    st.sampled_from(NASTY),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.sampled_from(["2030-01-01T10:00:00", "2030-02-30T10:00:00+01:00", "9999-12-31T23:59:59+14:00", "24:00"]),
)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # A named function, not a lambda: Hypothesis reads a lambda's source (with `ast`) to describe it, and on
    # Python 3.11.7 that can fail deep in a recursive draw ("AST constructor recursion depth mismatch").
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)


ANY_JSON = st.recursive(SCALARS, _containers, max_leaves=8)


def plausible(schema: dict[str, Any], rows: dict[str, int]) -> st.SearchStrategy[Any]:
    """A value the schema allows (the caller's own rows where a row goes), often enough to get past the first
    refusal; or anything at all."""
    schema = _resolve(schema)
    kind = schema.get("type")
    if "enum" in schema:
        good: st.SearchStrategy[Any] = st.sampled_from(schema["enum"])
    elif kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        good = st.fixed_dictionaries(
            {k: plausible(v, rows) for k, v in props.items() if k in required},
            optional={k: plausible(v, rows) for k, v in props.items() if k not in required},
        )
    elif kind == "array":
        good = st.lists(plausible(schema.get("items", {}), rows), min_size=1, max_size=3)
    elif kind == "integer":
        good = st.sampled_from(list(rows.values()) or [1])
    elif kind == "string" and schema.get("format") == "date-time":
        good = st.sampled_from([hours(1), hours(30), hours(-2)])
    elif kind == "string":
        good = st.sampled_from(["09:00", "17:30", "Ada", "ada@example.com", "1234567"])
    else:
        good = SCALARS
    return st.one_of(good, good, ANY_JSON)


def body_operations() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for template, operations in document()["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if content:
                found.append((method.upper(), template.removeprefix("/api/v1"), content["schema"]))
    return found


@pytest.fixture
def tenant(django_user_model: Any) -> Tenant:
    return build_tenant("Alpha", "alpha", "8617342", django_user_model)


def test_hostile_bodies_never_break_the_api(tenant: Tenant) -> None:
    rows = {name: obj.pk for name, obj in ((m.__name__.lower(), o) for m, o in tenant.objects.items())}
    _, secret = keys.create_key(organisation=tenant.org, name="Fuzz", scopes=ALL_SCOPES)
    client = ApiClient(secret)
    ids = {"unit": rows["unit"], "lock": rows["lock"], "guest": rows["guest"]}
    fuzzed = []
    for method, template, schema in body_operations():
        path = template
        for name, pk in (("{stay_id}", rows["stay"]), ("{code_id}", rows["accesscode"]), ("{lock_id}", rows["lock"])):
            path = path.replace(name, str(pk))
        if "{" not in path:
            fuzz(client, method, path, schema, ids)
            fuzzed.append(template)
    assert {"/stays", "/access-codes", "/stays/{stay_id}"} <= set(fuzzed)


def fuzz(client: ApiClient, method: str, path: str, schema: dict[str, Any], ids: dict[str, int]) -> None:

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(body=plausible(schema, ids), extra=st.dictionaries(st.text(max_size=6), SCALARS, max_size=1))
    def send(body: Any, extra: dict[str, Any]) -> None:
        if isinstance(body, dict):
            body = {**body, **extra}
        stays, codes = Stay.objects.count(), AccessCode.objects.count()
        answer = client.call(method, path, raw=json.dumps(body).encode())
        assert answer.status_code < 500, answer.content
        if answer.status_code >= 400:
            assert (Stay.objects.count(), AccessCode.objects.count()) == (stays, codes)

    send()
