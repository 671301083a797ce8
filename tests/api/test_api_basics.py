"""Keys, scopes, organisation scoping, problem details and pages of the public API."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from api import keys
from audit.models import AuditEvent
from locks.models import Lock
from tenants.models import ApiKey, Property, Unit
from tests.api.conftest import ApiClient, hours

pytestmark = pytest.mark.django_db


def test_the_document_is_served_and_describes_problem_details(api: ApiClient) -> None:
    doc = ApiClient(None).client.get("/api/v1/openapi.json").json()
    assert doc["info"]["title"] == "Doors API"
    answer = doc["paths"]["/api/v1/stays"]["post"]["responses"]
    assert set(answer) >= {"201", "401", "403", "404", "409", "413", "422", "429"}
    assert "application/problem+json" in answer["422"]["content"]
    docs = ApiClient(None).client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


def test_no_key_a_wrong_key_and_a_revoked_key_are_401(lock: Lock, make_key: Any) -> None:
    assert ApiClient(None).get("/locks").status_code == 401
    assert ApiClient("doors_not-a-key").get("/locks").status_code == 401
    key, secret = make_key()
    assert ApiClient(secret).get("/locks").status_code == 200
    keys.revoke_key(key)
    answer = ApiClient(secret).get("/locks")
    assert answer.status_code == 401
    assert answer["Content-Type"] == "application/problem+json"
    assert answer["WWW-Authenticate"].startswith("Bearer")


def test_a_key_is_stored_hashed_and_its_use_is_noted(make_key: Any, lock: Lock) -> None:
    key, secret = make_key()
    assert secret.startswith("doors_")
    assert secret not in key.hashed_secret
    assert key.hashed_secret == keys.hash_secret(secret)
    assert key.prefix == secret[:12]
    ApiClient(secret).get("/locks")
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert AuditEvent.objects.filter(action="api_key.create", object_id=str(key.pk)).exists()


def test_unknown_scope_and_no_scope_are_refused(org: Any) -> None:
    with pytest.raises(Exception, match="Unknown scope"):
        keys.create_key(organisation=org, name="x", scopes=["everything"])
    with pytest.raises(Exception, match="at least one scope"):
        keys.create_key(organisation=org, name="x", scopes=[])


def test_a_missing_scope_is_403_naming_it(api_as: Any, unit: Unit, lock: Lock) -> None:
    reader = api_as(["read"])
    answer = reader.post(
        "/stays", {"unit": unit.pk, "guest": {"name": "Ada"}, "check_in": hours(1), "check_out": hours(20)}
    )
    assert answer.status_code == 403
    assert "'stays'" in answer.json()["detail"]
    assert api_as(["stays"]).get("/locks").status_code == 403


def test_another_organisations_ids_are_404(api: ApiClient, elsewhere: Unit) -> None:
    other_lock = elsewhere.locks.get()
    assert api.get(f"/units/{elsewhere.pk}").status_code == 404
    assert api.get(f"/locks/{other_lock.pk}").status_code == 404
    assert api.get(f"/properties/{elsewhere.property_id}").status_code == 404
    booking = {"unit": elsewhere.pk, "guest": {"name": "Eve"}, "check_in": hours(1), "check_out": hours(5)}
    assert api.post("/stays", booking).status_code == 404
    code = {"lock": other_lock.pk, "label": "x", "starts_at": hours(1), "check_out": hours(5)}
    assert api.post("/access-codes", code).status_code in (404, 422)
    assert api.get("/locks").json()["items"] == []


def test_a_key_limited_to_a_property_sees_only_it(make_key: Any, org: Any, unit: Unit, lock: Lock) -> None:
    second = Property.objects.create(organisation=org, name="Annex", time_zone="Europe/Amsterdam")
    _, secret = make_key(properties=[second])
    limited = ApiClient(secret)
    assert limited.get(f"/locks/{lock.pk}").status_code == 404
    assert [p["id"] for p in limited.get("/properties").json()["items"]] == [second.pk]


def test_pages_follow_the_cursor_to_the_end(api: ApiClient, org: Any) -> None:
    prop = Property.objects.create(organisation=org, name="Tower", time_zone="UTC")
    Unit.objects.bulk_create(Unit(property=prop, name=f"Room {n:03d}") for n in range(7))
    seen, cursor = [], None
    while True:
        answer = api.get("/units?limit=3" + (f"&cursor={cursor}" if cursor else "")).json()
        seen += [u["name"] for u in answer["items"]]
        cursor = answer["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Room {n:03d}" for n in range(7)]
    assert api.get("/units?cursor=garbage").status_code == 400
    assert api.get("/units?limit=0").status_code == 422


def test_bad_input_is_a_problem_with_fields_and_creates_nothing(api: ApiClient, unit: Unit, lock: Lock) -> None:
    malformed = api.post("/stays", raw=b"{not json")
    assert malformed.status_code == 400
    assert malformed["Content-Type"] == "application/problem+json"
    naive = api.post(
        "/stays",
        {"unit": unit.pk, "guest": {"name": "Ada"}, "check_in": "2030-01-01T15:00:00", "check_out": hours(30)},
    )
    assert naive.status_code == 422
    assert {"field": "check_in", "detail": naive.json()["errors"][0]["detail"]} in naive.json()["errors"]
    assert "offset" in naive.json()["errors"][0]["detail"]
    unknown = api.post(
        "/stays", {"unit": unit.pk, "guest": {"name": "Ada"}, "check_in": hours(1), "check_out": hours(2), "vip": 1}
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "vip"
    wrong_type = api.post(
        "/stays", {"unit": "twelve", "guest": {"name": "A"}, "check_in": hours(1), "check_out": hours(2)}
    )
    assert wrong_type.status_code == 422
    backwards = api.post(
        "/stays", {"unit": unit.pk, "guest": {"name": "Ada"}, "check_in": hours(5), "check_out": hours(2)}
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "check_out"
    bad_email = api.post(
        "/stays",
        {"unit": unit.pk, "guest": {"name": "Ada", "email": "nope"}, "check_in": hours(1), "check_out": hours(2)},
    )
    assert bad_email.status_code == 422
    assert bad_email.json()["errors"][0]["field"] == "guest.email"
    huge = api.post("/stays", raw=b'{"pad": "' + b"x" * 70_000 + b'"}')
    assert huge.status_code == 413
    assert unit.stays.count() == 0


def test_unknown_paths_and_methods_are_problems(api: ApiClient) -> None:
    nowhere = api.client.get("/api/v1/nowhere", HTTP_AUTHORIZATION=f"Bearer {api.secret}")
    assert nowhere.status_code == 404
    assert nowhere["Content-Type"] == "application/problem+json"
    wrong = api.client.put("/api/v1/locks", HTTP_AUTHORIZATION=f"Bearer {api.secret}")
    assert wrong.status_code == 405
    assert wrong["Content-Type"] == "application/problem+json"


def test_rate_limit_is_429_with_retry_after(api: ApiClient, settings: Any, lock: Lock, queues: None) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    answers = [api.get("/locks").status_code for _ in range(5)]
    assert answers[:3] == [200, 200, 200]
    assert 429 in answers[3:]
    limited = api.get("/locks")
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 61


def test_api_key_command_prints_only_the_key(org: Any, capsys: Any) -> None:
    call_command(
        "api_key", "create", "--organisation", org.slug, "--name", "Opera", "--scope", "read", "--scope", "stays"
    )
    out = capsys.readouterr().out.strip()
    assert out.startswith("doors_")
    assert "\n" not in out
    key = ApiKey.objects.get(name="Opera")
    assert key.scopes == ["read", "stays"]
    assert keys.authenticate(out) == key
