"""A PMS's day through the API alone, against the simulated cloud and real workers: book with an Idempotency-Key
(a retry books nothing more), the code confirmed on the lock, the PIN revealed opens the door, check-out takes it
off. And the idempotency rules on their own."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from api.idempotency import purge_expired
from api.models import IdempotentRequest
from audit.models import AuditEvent
from tenants.models import Stay, Unit
from tests.api.conftest import ApiClient, hours
from tests.locks.conftest import World, run_workers


def booking(unit: Unit, name: str = "Grace Hopper") -> dict[str, Any]:
    return {
        "unit": unit.pk,
        "guest": {"name": name, "email": "grace@example.com"},
        "check_in": hours(-1),
        "check_out": hours(20),
    }


@pytest.mark.django_db(transaction=True)
def test_a_pms_checks_a_guest_in_and_out(api: ApiClient, make_lock: Any, world: World, unit: Unit) -> None:
    lock = make_lock("zigbee")
    body = booking(unit)
    first = api.post("/stays", body, headers={"Idempotency-Key": "pms-booking-1"})
    assert first.status_code == 201
    stay = first.json()
    assert stay["status"] == "checked_in"
    assert stay["codes_status"] == "pending"
    again = api.post("/stays", body, headers={"Idempotency-Key": "pms-booking-1"})
    assert again.status_code == 201
    assert again.json() == stay
    assert again["Idempotent-Replayed"] == "true"
    assert Stay.objects.count() == 1
    assert lock.access_codes.count() == 1

    run_workers()
    confirmed = api.get(f"/stays/{stay['id']}").json()
    assert confirmed["codes_status"] == "set"
    code_id = confirmed["access_codes"][0]["id"]
    assert confirmed["access_codes"][0]["status"] == "set"

    revealed = api.post(f"/access-codes/{code_id}/reveal")
    assert revealed["Cache-Control"] == "no-store"
    pin = revealed.json()["pin"]
    assert world.opens(lock.device_id, pin)
    assert AuditEvent.objects.filter(action="code.reveal", api_key__isnull=False).count() == 1

    out = api.post(f"/stays/{stay['id']}/check-out")
    assert out.json()["status"] == "checked_out"
    assert out.json()["codes_status"] in ("removing", "removed")
    run_workers()
    assert api.get(f"/stays/{stay['id']}").json()["codes_status"] == "removed"
    assert not world.opens(lock.device_id, pin)


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused(api: ApiClient, lock: Any, unit: Unit) -> None:
    assert api.post("/stays", booking(unit), headers={"Idempotency-Key": "k1"}).status_code == 201
    other = api.post("/stays", booking(unit, "Someone Else"), headers={"Idempotency-Key": "k1"})
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["detail"]
    assert Stay.objects.count() == 1


@pytest.mark.django_db
def test_a_refusal_is_replayed_too_and_a_new_key_tries_again(api: ApiClient, lock: Any, unit: Unit) -> None:
    ended = {**booking(unit), "check_in": hours(-30), "check_out": hours(-20)}
    first = api.post("/stays", ended, headers={"Idempotency-Key": "k2"})
    assert first.status_code == 422
    assert api.post("/stays", ended, headers={"Idempotency-Key": "k2"}).json() == first.json()
    assert api.post("/stays", booking(unit), headers={"Idempotency-Key": "k3"}).status_code == 201


@pytest.mark.django_db
def test_keys_are_per_api_key_and_kept_a_day(api_as: Any, lock: Any, unit: Unit) -> None:
    one, two = api_as(), api_as()
    assert one.post("/stays", booking(unit), headers={"Idempotency-Key": "same"}).status_code == 201
    # Another key's "same" is its own: it books (and is refused only because the room is taken).
    assert two.post("/stays", booking(unit), headers={"Idempotency-Key": "same"}).status_code == 422
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert purge_expired() == 2


@pytest.mark.django_db
def test_answers_are_kept_encrypted_and_pins_never(api: ApiClient, lock: Any, unit: Unit) -> None:
    stay = api.post("/stays", booking(unit), headers={"Idempotency-Key": "k4"}).json()
    code_id = stay["access_codes"][0]["id"]
    api.post(f"/access-codes/{code_id}/reveal", headers={"Idempotency-Key": "k5"})
    assert IdempotentRequest.objects.count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM api_idempotentrequest")
        (stored,) = cursor.fetchone()
    assert "grace@example.com" not in stored


@pytest.mark.django_db(transaction=True)
def test_two_racing_retries_book_once(api: ApiClient, lock: Any, unit: Unit) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: no race to show")
    answers: list[Any] = []
    body = booking(unit)

    def send() -> None:
        answers.append(ApiClient(api.secret).post("/stays", body, headers={"Idempotency-Key": "race"}))
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json()["id"] for a in answers}) == 1
    assert Stay.objects.count() == 1
