"""Who reaches the events, photos, alerts, remote-unlock requests and lock operations of the API: every endpoint
with the one scope it needs and without it, another organisation's ids, a key limited to one property."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from locks.models import Alert, Lock, RemoteUnlockRequest
from tenants.models import Organisation, Property, Unit
from tests.api.conftest import ALL_SCOPES, ApiClient, hours
from tests.api.doors import Activity, activity, private_media
from tests.tenants.conftest import offline_lock

pytestmark = pytest.mark.django_db

OFFLINE = {"kind": "multiple", "label": "Plumber", "starts_at": hours(1), "ends_at": hours(6)}
# (method, path, body, the scope it needs, the status with that scope alone)
ENDPOINTS: list[tuple[str, str, Any, str, int]] = [
    ("GET", "/events", None, "read", 200),
    ("GET", "/events/{event}", None, "read", 200),
    ("GET", "/event-photos/{photo}/original", None, "read", 200),
    ("GET", "/event-photos/{photo}/thumbnail", None, "read", 200),
    ("GET", "/alerts", None, "read", 200),
    ("GET", "/alerts/{alert}", None, "read", 200),
    ("POST", "/alerts/{alert}/acknowledge", None, "remote-unlock", 200),
    ("GET", "/remote-unlock-requests", None, "read", 200),
    ("GET", "/remote-unlock-requests/{request}", None, "read", 200),
    ("POST", "/remote-unlock-requests/{request}/approve", None, "remote-unlock", 200),
    ("POST", "/remote-unlock-requests/{request}/reject", None, "remote-unlock", 200),
    ("POST", "/locks/{lock}/offline-codes", OFFLINE, "codes", 201),
    ("POST", "/locks/{lock}/dynamic-code", None, "codes", 201),
    ("GET", "/lock-operations", None, "read", 200),
    ("GET", "/lock-operations/{operation}", None, "read", 200),
    ("POST", "/lock-operations/{operation}/reveal", None, "reveal-pins", 200),
]
WITH_IDS = [e for e in ENDPOINTS if "{" in e[1]]


@pytest.fixture
def ours(lock: Lock, settings: Any, tmp_path: Path) -> Activity:
    private_media(settings, tmp_path)
    return activity(lock)


@pytest.fixture
def theirs(elsewhere: Unit, ours: Activity) -> Activity:
    return activity(elsewhere.locks.get())


def _path(template: str, found: Activity) -> str:
    return template.format(**found.ids())


@pytest.mark.parametrize(("method", "template", "body", "scope", "status"), ENDPOINTS)
def test_each_endpoint_needs_its_scope_and_no_other(
    api_as: Any, ours: Activity, method: str, template: str, body: Any, scope: str, status: int
) -> None:
    path = _path(template, ours)
    refused = api_as([s for s in ALL_SCOPES if s != scope]).call(method, path, body)
    assert refused.status_code == 403
    assert f"'{scope}'" in refused.json()["detail"]
    allowed = api_as([scope]).call(method, path, body)
    assert allowed.status_code == status, allowed.content


@pytest.mark.parametrize(("method", "template", "body", "scope", "status"), WITH_IDS)
def test_another_organisations_ids_are_404_everywhere(
    api: ApiClient, theirs: Activity, method: str, template: str, body: Any, scope: str, status: int
) -> None:
    answer = api.call(method, _path(template, theirs), body)
    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/problem+json"


def test_another_organisations_rows_are_in_no_list(api: ApiClient, ours: Activity, theirs: Activity) -> None:
    for path, mine in [
        ("/events", ours.event.pk),
        ("/alerts", ours.alert.pk),
        ("/remote-unlock-requests", ours.request.pk),
        ("/lock-operations", ours.operation.pk),
    ]:
        assert [row["id"] for row in api.get(path).json()["items"]] == [mine], path
    for path in ["/events", "/alerts", "/remote-unlock-requests", "/lock-operations"]:
        assert api.get(f"{path}?lock={theirs.lock.pk}").json()["items"] == [], path


def test_nothing_is_done_to_another_organisations_rows(api: ApiClient, theirs: Activity) -> None:
    for template in [t for m, t, *_ in WITH_IDS if m == "POST"]:
        api.post(_path(template, theirs), OFFLINE if "offline" in template else None)
    theirs.alert.refresh_from_db()
    theirs.request.refresh_from_db()
    assert theirs.alert.acknowledged_at is None
    assert theirs.request.status == RemoteUnlockRequest.Status.PENDING
    assert theirs.lock.operations.count() == 1
    assert not AuditEvent.objects.filter(action="lock.secret_reveal").exists()


def test_a_key_limited_to_one_property_sees_nothing_of_another(
    make_key: Any, org: Organisation, ours: Activity, settings: Any
) -> None:
    annex = Property.objects.create(organisation=org, name="Annex", time_zone="Europe/Amsterdam")
    annex_lock = offline_lock(org, Unit.objects.create(property=annex, name="Annex 1"), name="Annex door")
    there = activity(annex_lock)
    _, secret = make_key(properties=[annex])
    limited = ApiClient(secret)
    for path, theirs_id in [
        ("/events", there.event.pk),
        ("/alerts", there.alert.pk),
        ("/remote-unlock-requests", there.request.pk),
        ("/lock-operations", there.operation.pk),
    ]:
        assert [row["id"] for row in limited.get(path).json()["items"]] == [theirs_id], path
    assert limited.get(f"/events?property={ours.lock.unit.property_id}").json()["items"] == []
    for method, template, body, *_ in WITH_IDS:
        assert limited.call(method, _path(template, ours), body).status_code == 404, template
    assert limited.get(f"/event-photos/{there.photo.pk}/original").status_code == 200


def test_a_limited_key_does_not_see_or_acknowledge_an_alert_of_no_lock(make_key: Any, org: Organisation) -> None:
    """An alert about the organisation (a refused cloud account) is on no property: only whole-organisation keys."""
    annex = Property.objects.create(organisation=org, name="Annex", time_zone="UTC")
    now = timezone.now()
    refused = Alert.objects.create(
        organisation=org,
        kind="cloud_refused",
        dedup_key="cloud:1",
        message="Refused",
        first_seen_at=now,
        last_seen_at=now,
    )
    limited = ApiClient(make_key(properties=[annex])[1])
    assert limited.get(f"/alerts/{refused.pk}").status_code == 404
    assert limited.post(f"/alerts/{refused.pk}/acknowledge").status_code == 404
    whole = ApiClient(make_key(["read", "remote-unlock"])[1])
    answer = whole.post(f"/alerts/{refused.pk}/acknowledge")
    assert answer.status_code == 200
    assert answer.json()["lock_id"] is None
    assert answer.json()["acknowledged_at"] is not None
