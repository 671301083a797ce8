"""Every emission point, driven through the real services against the simulated cloud: the event is written in the
service's transaction with the right data, once, and reaches the receiver signed."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import django_rq
import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from locks import alert_scans, codes, convergence, jobs
from locks.models import AccessCode, Alert, LockEvent, RemoteUnlockRequest
from tenants import services as stays
from tenants.models import Guest, Property, Stay, Unit
from tests.locks.conftest import run_workers, window
from webhooks.models import WebhookDelivery, WebhookMessage

pytestmark = pytest.mark.django_db(transaction=True)


def events(event_type: str | None = None) -> list[dict[str, Any]]:
    rows = WebhookMessage.objects.order_by("pk")
    if event_type:
        rows = rows.filter(event_type=event_type)
    return [json.loads(m.body) for m in rows]


def types() -> list[str]:
    return list(WebhookMessage.objects.order_by("pk").values_list("event_type", flat=True))


def sync(lock) -> None:
    django_rq.get_queue("sync").enqueue(jobs.sync_lock_events, lock.pk)
    run_workers()


@pytest.fixture
def subscribed(make_endpoint, settings) -> str:
    _, secret = make_endpoint()
    return secret


@pytest.fixture
def guest(org) -> Guest:
    return Guest.objects.create(organisation=org, name="Ada Lovelace", email="ada@example.com")


def book(unit: Unit, guest: Guest, hours: tuple[float, float] = (-1, 24)) -> Stay:
    starts, ends = window(*hours)
    return stays.book_stay(unit=unit, guest=guest, check_in=starts, check_out=ends)


def test_a_stay_tells_its_life_and_its_codes_theirs(subscribed, make_lock, unit, guest, receiver, org, queues) -> None:
    lock = make_lock("wifi")
    stay = book(unit, guest, (2, 48))
    [created] = events("stay.created")
    assert created["data"] == {
        "id": stay.pk,
        "status": "booked",
        "kind": "hotel",
        "check_in": stay.check_in.isoformat().replace("+00:00", "Z"),
        "check_out": stay.check_out.isoformat().replace("+00:00", "Z"),
        "unit_id": unit.pk,
        "unit_name": "Room 12",
        "property_id": unit.property_id,
        "guest_id": guest.pk,
        "guest_name": "Ada Lovelace",
        "guest_email": "ada@example.com",
    }
    run_workers()  # the code reaches the lock; both events reach the receiver
    code = AccessCode.objects.get(stay=stay)
    assert code.status == AccessCode.Status.SET, code.failure_reason
    [code_set] = events("access_code.set")
    assert code_set["data"] == {
        "id": code.pk,
        "lock_id": lock.pk,
        "stay_id": stay.pk,
        "guest_id": guest.pk,
        "label": code.label,
        "kind": "window",
        "status": "set",
        "starts_at": code_set["data"]["starts_at"],
        "ends_at": code_set["data"]["ends_at"],
        "failure_reason": None,
    }
    assert code.pin not in json.dumps(events())  # never the PIN
    verified = [Webhook(subscribed).verify(r.body, r.headers) for r in receiver.requests]
    assert [p["type"] for p in verified] == ["stay.created", "access_code.set"]

    stays.change_stay(stay, check_out=stay.check_out + timedelta(days=1))
    stays.check_in_stay(stay)
    stays.check_out_stay(stay)
    assert types()[2:] == ["stay.changed", "stay.checked_in", "stay.checked_out"]
    assert events("stay.checked_out")[0]["data"]["status"] == "checked_out"
    run_workers()  # the code comes off the lock
    [removed] = events("access_code.removed")
    assert removed["data"]["id"] == code.pk
    assert removed["data"]["status"] == "removed"


def test_moving_and_cancelling_a_stay(subscribed, make_lock, unit, guest, queues) -> None:
    make_lock("wifi")
    prop = Property.objects.get(pk=unit.property_id)
    room = Unit.objects.create(property=prop, name="Room 14")
    lock2 = make_lock("wifi")
    lock2.unit = room
    lock2.save()
    stay = book(unit, guest, (3, 30))
    stays.move_stay(stay, unit=room)
    stays.cancel_stay(stay)
    assert types() == ["stay.created", "stay.changed", "stay.cancelled"]  # (no worker ran: no code events)
    moved = events("stay.changed")[0]["data"]
    assert (moved["unit_id"], moved["unit_name"]) == (room.pk, "Room 14")
    assert events("stay.cancelled")[0]["data"]["status"] == "cancelled"


def test_a_code_the_lock_gives_up_on_is_access_code_failed(
    subscribed, make_lock, world, settings, django_capture_on_commit_callbacks
) -> None:
    settings.SIM_ISSUE_PASSWORD_INTERVAL = 0
    lock = make_lock("zigbee")
    world.online(lock.device_id, False)
    starts, ends = window()
    with django_capture_on_commit_callbacks(execute=True):
        code = codes.issue_access_code(lock=lock, label="Cleaner", starts_at=starts, ends_at=ends)
    run_workers()
    for _ in range(4):
        convergence.converge_access_code(code.pk)
    code.refresh_from_db()
    assert code.status == AccessCode.Status.FAILED
    [failed] = events("access_code.failed")
    assert failed["data"]["id"] == code.pk
    assert failed["data"]["failure_reason"] == code.failure_reason
    assert "did not accept" in code.failure_reason
    convergence.converge_access_code(code.pk)  # failing again is not a new event
    assert len(events("access_code.failed")) == 1


def test_an_unlock_is_told_once_with_who_opened(subscribed, make_lock, world, unit, guest, queues) -> None:
    lock = make_lock("wifi")
    stay = book(unit, guest)
    run_workers()
    code = AccessCode.objects.get(stay=stay)
    assert world.opens(lock.device_id, code.pin)
    sync(lock)
    event = LockEvent.objects.get(lock=lock, category=LockEvent.Category.UNLOCK)
    [unlocked] = events("lock.unlocked")
    assert unlocked["data"] == {
        "event_id": event.pk,
        "lock_id": lock.pk,
        "at": unlocked["data"]["at"],
        "method": "temporary code",
        "access_code_id": code.pk,
        "guest_id": guest.pk,
        "guest_name": "Ada Lovelace",
        "stay_id": stay.pk,
    }
    sync(lock)  # a re-read stores nothing and tells nothing
    assert len(events("lock.unlocked")) == 1


def test_an_alarm_is_a_lock_alert(subscribed, make_lock, world, queues) -> None:
    lock = make_lock("wifi")
    world.call("POST", f"/_sim/devices/{lock.device_id}/alarm", {"alarm": "pry"})
    sync(lock)
    alert = Alert.objects.get(lock=lock, kind="tamper")
    [told] = events("lock.alert")
    assert told["data"] == {
        "id": alert.pk,
        "lock_id": lock.pk,
        "kind": "tamper",
        "message": alert.english_text,
        "at": told["data"]["at"],
    }
    assert "lock.unlocked" not in types()


def test_a_lock_going_offline_and_back_is_told_once_each(subscribed, make_lock, world) -> None:
    lock = make_lock("wifi")
    assert alert_scans.check_lock_health(lock.pk) == "online"
    assert not events()  # no change: nothing to tell
    world.online(lock.device_id, False)
    assert alert_scans.check_lock_health(lock.pk) == "offline"
    assert alert_scans.check_lock_health(lock.pk) == "offline"
    world.online(lock.device_id, True)
    assert alert_scans.check_lock_health(lock.pk) == "online"
    assert [t for t in types() if t.startswith("lock.o")] == ["lock.offline", "lock.online"]
    offline = events("lock.offline")[0]["data"]
    assert (offline["lock_id"], offline["lock_name"]) == (lock.pk, lock.name)


def test_a_doorbell_is_a_remote_unlock_request(subscribed, make_lock, world, queues) -> None:
    lock = make_lock("wifi")
    world.call("POST", f"/_sim/devices/{lock.device_id}/remote-request", {})
    sync(lock)
    request = RemoteUnlockRequest.objects.get(lock=lock)
    [told] = events("remote_unlock.requested")
    assert told["data"]["id"] == request.pk
    assert told["data"]["lock_id"] == lock.pk
    at = timezone.datetime.fromisoformat(told["data"]["at"])
    expires = timezone.datetime.fromisoformat(told["data"]["expires"])
    assert expires - at == timedelta(seconds=60)


def test_only_subscribed_enabled_endpoints_of_the_organisation_get_it(
    make_endpoint, make_lock, unit, guest, org, queues
) -> None:
    stays_only, _ = make_endpoint(event_types=["stay.created"])
    codes_only, _ = make_endpoint(event_types=["access_code.set"], url="http://127.0.0.1:9/other")
    make_lock("wifi")
    book(unit, guest, (2, 30))
    run_workers()
    by_type = {
        t: set(WebhookDelivery.objects.filter(message__event_type=t).values_list("endpoint", flat=True))
        for t in ("stay.created", "access_code.set")
    }
    assert by_type == {"stay.created": {stays_only.pk}, "access_code.set": {codes_only.pk}}


def test_nothing_is_written_when_nobody_listens(make_lock, unit, guest, queues) -> None:
    make_lock("wifi")
    book(unit, guest)
    run_workers()
    assert not WebhookMessage.objects.exists()
