"""Alerts, remote-unlock requests and lock operations through the API, without the cloud: what each answer says,
the filters, acknowledging and deciding (once, audited with the key), asking for codes and the refusals in words.
The round trips through the simulator are in test_api_doors.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, get_args

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from api.schemas_events import AlertKind, OfflineKind, RemoteUnlockStatus
from audit.models import AuditEvent
from locks import operations, pins, remote
from locks.models import Alert, Lock, LockOperation, RemoteUnlockRequest
from tenants.models import ApiKey, Unit
from tests.api.conftest import ApiClient, hours
from tests.api.doors import alert, event, offline_operation, remote_request
from tests.tenants.conftest import offline_lock

pytestmark = pytest.mark.django_db


def test_the_documents_choices_are_the_models() -> None:
    assert set(get_args(AlertKind)) == set(Alert.Kind.values)
    assert set(get_args(RemoteUnlockStatus)) == set(RemoteUnlockRequest.Status.values)
    assert set(get_args(OfflineKind)) == set(operations.OFFLINE_TYPES)


# --- alerts -------------------------------------------------------------------------------------------------


def test_alerts_filter_by_open_acknowledged_lock_and_kind(api: ApiClient, org: Any, lock: Lock, unit: Unit) -> None:
    other = offline_lock(org, Unit.objects.create(property=unit.property, name="Room 14"), name="Room 14 door")
    tamper = alert(lock)
    seen = alert(lock, Alert.Kind.LOW_BATTERY, acknowledged_at=timezone.now())
    closed = alert(other, Alert.Kind.OFFLINE, resolved_at=timezone.now())

    def ids(query: str) -> list[int]:
        return [a["id"] for a in api.get(f"/alerts?{query}").json()["items"]]

    assert ids("") == [tamper.pk, seen.pk, closed.pk]
    assert ids("open=true") == [tamper.pk, seen.pk]
    assert ids("open=false") == [closed.pk]
    assert ids("acknowledged=false") == [tamper.pk, closed.pk]
    assert ids("open=true&acknowledged=true") == [seen.pk]
    assert ids(f"lock={other.pk}") == [closed.pk]
    assert ids("kind=tamper") == [tamper.pk]
    body = api.get(f"/alerts/{closed.pk}").json()
    assert (body["kind"], body["open"], body["lock_id"], body["count"]) == ("offline", False, other.pk, 1)


def test_acknowledging_closes_an_event_alert_once_and_names_the_key(make_key: Any, lock: Lock, unit: Unit) -> None:
    key, secret = make_key(["read", "remote-unlock"])
    api = ApiClient(secret)
    tamper = alert(lock, event=event(lock, category="alarm", classification="pry"))
    battery = alert(lock, Alert.Kind.LOW_BATTERY)
    first = api.post(f"/alerts/{tamper.pk}/acknowledge").json()
    assert first["acknowledged_at"] is not None
    assert first["open"] is False  # an incident: seen is done
    again = api.post(f"/alerts/{tamper.pk}/acknowledge").json()
    assert again["acknowledged_at"] == first["acknowledged_at"]
    trail = AuditEvent.objects.filter(action="alert.acknowledge", object_id=str(tamper.pk))
    assert [(row.api_key_id, row.actor_id) for row in trail] == [(key.pk, None)]
    state = api.post(f"/alerts/{battery.pk}/acknowledge").json()
    assert (state["open"], state["acknowledged_at"] is not None) == (True, True)  # a state stays open until it passes


# --- remote-unlock requests ---------------------------------------------------------------------------------


def test_a_request_says_its_state_deadline_and_photos(api: ApiClient, lock: Lock) -> None:
    doorbell = event(lock, category="alarm", classification="doorbell")
    pending = remote_request(lock, doorbell)
    body = api.get(f"/remote-unlock-requests/{pending.pk}").json()
    assert (body["status"], body["event_id"], body["photos"], body["decided_at"]) == ("pending", doorbell.pk, [], None)
    deadline = pending.requested_at + timedelta(seconds=60)
    assert abs(datetime.fromisoformat(body["answer_by"]) - deadline) < timedelta(milliseconds=1)
    old = remote_request(lock)
    RemoteUnlockRequest.objects.filter(pk=old.pk).update(status="expired")
    assert [r["id"] for r in api.get("/remote-unlock-requests?status=pending").json()["items"]] == [pending.pk]
    assert [r["id"] for r in api.get(f"/remote-unlock-requests?lock={lock.pk}").json()["items"]] == [pending.pk, old.pk]


def test_an_answer_is_taken_once_and_the_other_answer_is_409(make_key: Any, lock: Lock) -> None:
    key, secret = make_key(["read", "remote-unlock"])
    api = ApiClient(secret)
    waiting = remote_request(lock)
    approved = api.post(f"/remote-unlock-requests/{waiting.pk}/approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approving"
    assert api.post(f"/remote-unlock-requests/{waiting.pk}/approve").json()["status"] == "approving"  # a retry
    refused = api.post(f"/remote-unlock-requests/{waiting.pk}/reject")
    assert refused.status_code == 409
    assert "opening" in refused.json()["detail"].lower()
    assert AuditEvent.objects.filter(action="lock.remote_unlock", api_key=key).count() == 1
    late = remote_request(lock)
    RemoteUnlockRequest.objects.filter(pk=late.pk).update(requested_at=timezone.now() - timedelta(minutes=5))
    too_late = api.post(f"/remote-unlock-requests/{late.pk}/approve")
    assert too_late.status_code == 409
    assert "expired" in too_late.json()["detail"].lower()


def test_a_key_with_the_scope_decides_but_the_service_still_checks_it(make_key: Any, lock: Lock) -> None:
    """The rule lives in locks.remote: a key without remote-unlock is refused there too (and audited)."""
    reader, _ = make_key(["read", "reveal-pins"])
    waiting = remote_request(lock)
    with pytest.raises(PermissionDenied, match="may not open doors"):
        remote.approve_request(waiting.pk, actor=reader)
    assert AuditEvent.objects.filter(action="lock.remote_unlock_refused", api_key=reader).exists()
    waiting.refresh_from_db()
    assert waiting.status == "pending"


# --- lock operations ----------------------------------------------------------------------------------------


def test_an_offline_code_request_is_checked_and_queued(api: ApiClient, lock: Lock) -> None:
    answer = api.post(
        f"/locks/{lock.pk}/offline-codes",
        {"kind": "multiple", "label": "Plumber", "starts_at": hours(1.5), "ends_at": hours(6)},
    )
    assert answer.status_code == 201
    body = answer.json()
    assert (body["kind"], body["offline_kind"], body["status"], body["has_code"]) == (
        "offline",
        "multiple",
        "requested",
        False,
    )
    operation = LockOperation.objects.get(pk=body["id"])
    assert body["valid_from"].replace("Z", "+00:00") == operation.offline_window[0].isoformat()  # whole hours
    assert operation.offline_window[0].minute == 0
    missing = api.post(f"/locks/{lock.pk}/offline-codes", {"kind": "multiple"})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "ends_at"
    naive = api.post(
        f"/locks/{lock.pk}/offline-codes",
        {"kind": "multiple", "starts_at": "2030-01-01T10:00:00", "ends_at": hours(6)},
    )
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "starts_at"
    assert api.post(f"/locks/{lock.pk}/offline-codes", {"kind": "forever"}).status_code == 422


def test_clearing_one_offline_code_needs_one_of_the_same_lock(api: ApiClient, org: Any, lock: Lock, unit: Unit) -> None:
    issued = offline_operation(lock)
    other = offline_lock(org, Unit.objects.create(property=unit.property, name="Room 15"), name="Room 15 door")
    elsewhere = offline_operation(other)
    cleared = api.post(f"/locks/{lock.pk}/offline-codes", {"kind": "clear_one", "clears": issued.pk})
    assert cleared.status_code == 201
    assert cleared.json()["offline_kind"] == "clear_one"
    wrong = api.post(f"/locks/{lock.pk}/offline-codes", {"kind": "clear_one", "clears": elsewhere.pk})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "clears"
    assert api.post(f"/locks/{lock.pk}/offline-codes", {"kind": "clear_one", "clears": 999999}).status_code == 404


def test_a_lock_that_cannot_is_409_in_words(api: ApiClient, org: Any, unit: Unit) -> None:
    hotel = offline_lock(org, unit, name="Hotel door")
    Lock.objects.filter(pk=hotel.pk).update(kind="zigbee_hotel")
    refused = api.post(f"/locks/{hotel.pk}/dynamic-code")
    assert refused.status_code == 409
    assert "no dynamic passwords" in refused.json()["detail"]
    assert api.post(f"/locks/{hotel.pk}/offline-codes", {"kind": "once"}).status_code == 409


def test_operations_list_and_reveal_is_audited_and_never_cached(make_key: Any, lock: Lock) -> None:
    key, secret = make_key(["read", "reveal-pins"])
    api = ApiClient(secret)
    done = offline_operation(lock, secret="5550123456")
    waiting = LockOperation.objects.create(
        organisation_id=lock.organisation_id, lock=lock, kind=LockOperation.Kind.DYNAMIC_PASSWORD
    )
    assert [o["id"] for o in api.get(f"/lock-operations?lock={lock.pk}").json()["items"]] == [done.pk, waiting.pk]
    assert [o["id"] for o in api.get("/lock-operations?status=done").json()["items"]] == [done.pk]
    assert api.get(f"/lock-operations/{done.pk}").json()["has_code"] is True
    revealed = api.post(f"/lock-operations/{done.pk}/reveal")
    assert revealed.json() == {"id": done.pk, "code": "5550123456"}
    assert revealed["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="lock.secret_reveal", api_key=key, object_id=str(done.pk)).count() == 1
    not_yet = api.post(f"/lock-operations/{waiting.pk}/reveal")
    assert not_yet.status_code == 409
    assert "no code to show" in not_yet.json()["detail"]


def test_the_scope_is_also_the_services_rule_for_reveal(lock: Lock, make_key: Any) -> None:
    coder, _ = make_key([ApiKey.Scope.CODES, ApiKey.Scope.READ])
    with pytest.raises(PermissionDenied, match="may not see"):
        pins.reveal_operation_secret(offline_operation(lock), actor=coder)
