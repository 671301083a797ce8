"""Stays and door codes through the API: every action, its scope, and the refusals a PMS will meet."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEvent
from locks.models import AccessCode, Lock
from tenants.models import Property, Stay, Unit
from tests.api.conftest import ApiClient, hours
from tests.tenants.conftest import offline_lock

pytestmark = pytest.mark.django_db


def book(api: ApiClient, unit: Unit, **extra: Any) -> dict[str, Any]:
    body = {"unit": unit.pk, "guest": {"name": "Ada"}, "check_in": hours(2), "check_out": hours(26), **extra}
    answer = api.post("/stays", body)
    assert answer.status_code == 201, answer.content
    return dict(answer.json())


def test_a_booking_ahead_is_booked_with_a_code_per_lock(api: ApiClient, unit: Unit, lock: Lock) -> None:
    Lock.objects.create(
        organisation=lock.organisation, cloud_account=lock.cloud_account, unit=unit, device_id="front", name="Front"
    )
    stay = book(api, unit, guest={"name": "Ada", "email": "ada@example.com", "phone": "+31 6 1234"})
    assert stay["status"] == "booked"
    assert stay["guest"]["email"] == "ada@example.com"
    assert len(stay["access_codes"]) == 2
    assert {c["status"] for c in stay["access_codes"]} == {"requested"}
    assert AuditEvent.objects.get(action="stay.book").api_key_id is not None


def test_the_same_guest_is_found_again(api: ApiClient, unit: Unit, lock: Lock) -> None:
    first = book(api, unit, guest={"name": "Ada", "email": "ada@example.com"})
    api.post(f"/stays/{first['id']}/cancel")
    second = book(api, unit, guest={"name": "Ada", "email": "ADA@example.com"})
    assert second["guest"]["id"] == first["guest"]["id"]


def test_change_move_check_in_check_out_and_cancel(api: ApiClient, unit: Unit, lock: Lock) -> None:
    stay = book(api, unit)
    later = api.patch(f"/stays/{stay['id']}", {"check_out": hours(50)})
    assert later.status_code == 200
    assert AccessCode.objects.get(stay_id=stay["id"]).ends_at.isoformat()[:16] == later.json()["check_out"][:16]
    room = Unit.objects.create(property=unit.property, name="Room 14")
    offline_lock(unit.property.organisation, room, name="Room 14 door")
    moved = api.patch(f"/stays/{stay['id']}", {"unit": room.pk}).json()
    assert moved["unit_id"] == room.pk
    assert [c["desired"] for c in moved["access_codes"]] == ["removed", "active"]
    assert api.post(f"/stays/{stay['id']}/check-in").json()["status"] == "checked_in"
    assert api.post(f"/stays/{stay['id']}/check-out").json()["status"] == "checked_out"
    assert api.post(f"/stays/{stay['id']}/check-out").status_code == 200  # twice is harmless
    refused = api.post(f"/stays/{stay['id']}/check-in")
    assert refused.status_code == 409
    assert "over" in refused.json()["detail"]
    assert api.patch(f"/stays/{stay['id']}", {"check_out": hours(60)}).status_code == 409


def test_a_hotel_room_cannot_be_double_booked(api: ApiClient, unit: Unit, lock: Lock) -> None:
    book(api, unit)
    clash = api.post("/stays", {"unit": unit.pk, "guest": {"name": "Bo"}, "check_in": hours(3), "check_out": hours(9)})
    assert clash.status_code == 422
    assert clash.json()["errors"][0]["field"] == "unit"
    assert Stay.objects.count() == 1


def test_a_unit_without_a_lock_is_refused_clearly(api: ApiClient, unit: Unit) -> None:
    answer = api.post("/stays", {"unit": unit.pk, "guest": {"name": "Bo"}, "check_in": hours(1), "check_out": hours(9)})
    assert answer.status_code == 422
    assert "no lock" in answer.json()["detail"]


def test_stays_list_filters(api: ApiClient, unit: Unit, lock: Lock) -> None:
    stay = book(api, unit)
    assert [s["id"] for s in api.get(f"/stays?unit={unit.pk}&status=booked").json()["items"]] == [stay["id"]]
    assert api.get("/stays?status=cancelled").json()["items"] == []
    assert api.get("/stays?check_in_after=2030-01-01T00:00:00").status_code == 422


def test_issue_a_window_a_weekly_and_a_one_use_code(api: ApiClient, lock: Lock) -> None:
    window = api.post("/access-codes", {"lock": lock.pk, "label": "Clean", "starts_at": hours(1), "ends_at": hours(4)})
    assert window.status_code == 201
    assert window.json()["kind"] == "window"
    weekly = api.post(
        "/access-codes",
        {
            "lock": lock.pk, "label": "Gardener", "kind": "weekly", "starts_at": hours(1), "ends_at": hours(24 * 60),
            "schedule": {"days": [0, 2], "start": "09:00", "end": "12:00"},
        },
    )  # fmt: skip
    assert weekly.status_code == 201
    assert weekly.json()["schedule"] == {"days": [0, 2], "start": "09:00", "end": "12:00"}
    no_days = api.post(
        "/access-codes",
        {"lock": lock.pk, "label": "G", "kind": "weekly", "starts_at": hours(1), "ends_at": hours(24 * 60)},
    )
    assert no_days.status_code == 422
    assert no_days.json()["errors"][0]["field"] == "schedule.days"
    bad_day = api.post(
        "/access-codes",
        {
            "lock": lock.pk, "label": "G", "kind": "weekly", "starts_at": hours(1), "ends_at": hours(24 * 60),
            "schedule": {"days": [7], "start": "09:00", "end": "12:00"},
        },
    )  # fmt: skip
    assert bad_day.status_code == 422
    once = api.post("/access-codes", {"lock": lock.pk, "label": "Plumber", "kind": "once", "starts_at": hours(0.1),
                                      "ends_at": hours(5)})  # fmt: skip
    assert once.status_code == 201
    short_pin = {"lock": lock.pk, "label": "X", "starts_at": hours(1), "ends_at": hours(2), "pin": "123"}
    pin = api.post("/access-codes", short_pin)
    assert pin.status_code == 422
    assert pin.json()["errors"][0]["field"] == "pin"


def test_change_freeze_remove_and_resend(api: ApiClient, lock: Lock) -> None:
    code = api.post("/access-codes", {"lock": lock.pk, "label": "C", "starts_at": hours(1), "ends_at": hours(5)}).json()
    changed = api.patch(f"/access-codes/{code['id']}", {"ends_at": hours(8), "version": code["version"]})
    assert changed.status_code == 200
    stale = api.patch(f"/access-codes/{code['id']}", {"ends_at": hours(9), "version": code["version"]})
    assert stale.status_code == 409
    frozen = api.post(f"/access-codes/{code['id']}/freeze")
    assert frozen.status_code == 409  # a Wi-Fi lock cannot freeze
    assert "Zigbee" in frozen.json()["detail"]
    assert api.post(f"/access-codes/{code['id']}/resend").status_code == 409  # only a failed code
    removed = api.delete(f"/access-codes/{code['id']}")
    assert removed.json()["desired"] == "removed"
    assert api.post(f"/access-codes/{code['id']}/unfreeze").status_code == 409


def test_codes_list_filters(api: ApiClient, lock: Lock) -> None:
    api.post("/access-codes", {"lock": lock.pk, "label": "C", "starts_at": hours(1), "ends_at": hours(5)})
    assert len(api.get(f"/access-codes?lock={lock.pk}&status=requested").json()["items"]) == 1
    assert api.get("/access-codes?status=bogus").status_code == 422


def test_reveal_needs_its_scope_and_is_audited(api_as: Any, lock: Lock) -> None:
    codes_only = api_as(["codes", "read"])
    code = codes_only.post("/access-codes", {"lock": lock.pk, "label": "C", "starts_at": hours(1), "ends_at": hours(5)})
    refused = codes_only.post(f"/access-codes/{code.json()['id']}/reveal")
    assert refused.status_code == 403
    assert "reveal-pins" in refused.json()["detail"]
    revealing = api_as(["reveal-pins"])
    shown = revealing.post(f"/access-codes/{code.json()['id']}/reveal")
    assert shown.json()["pin"] == AccessCode.objects.get().pin
    assert AuditEvent.objects.filter(action="code.reveal").count() == 1


def test_scopes_gate_every_write(api_as: Any, unit: Unit, lock: Lock) -> None:
    reader = api_as(["read"])
    stays = api_as(["stays", "read"])
    stay = book(stays, unit)
    code_id = stay["access_codes"][0]["id"]
    new_stay = {"unit": unit.pk, "guest": {"name": "Bo"}, "check_in": hours(40), "check_out": hours(50)}
    new_code = {"lock": lock.pk, "label": "x", "starts_at": hours(1), "ends_at": hours(2)}
    for method, path, body in [
        ("POST", "/stays", new_stay), ("PATCH", f"/stays/{stay['id']}", {"check_out": hours(30)}),
        ("POST", f"/stays/{stay['id']}/check-in", None), ("POST", f"/stays/{stay['id']}/check-out", None),
        ("POST", f"/stays/{stay['id']}/cancel", None), ("POST", "/access-codes", new_code),
        ("PATCH", f"/access-codes/{code_id}", {"ends_at": hours(30)}),
        ("POST", f"/access-codes/{code_id}/freeze", None),
        ("POST", f"/access-codes/{code_id}/unfreeze", None), ("POST", f"/access-codes/{code_id}/resend", None),
        ("DELETE", f"/access-codes/{code_id}", None), ("POST", f"/access-codes/{code_id}/reveal", None),
    ]:  # fmt: skip
        assert reader.call(method, path, body).status_code == 403, (method, path)
    assert stays.post("/access-codes", new_code).status_code == 403
    assert api_as(["codes"]).post("/stays", new_stay).status_code == 403


def test_a_limited_key_cannot_book_or_issue_elsewhere(make_key: Any, org: Any, unit: Unit, lock: Lock) -> None:
    annex = Property.objects.create(organisation=org, name="Annex", time_zone="Europe/Amsterdam")
    limited = ApiClient(make_key(properties=[annex])[1])
    body = {"unit": unit.pk, "guest": {"name": "Bo"}, "check_in": hours(1), "check_out": hours(9)}
    assert limited.post("/stays", body).status_code == 404
    code = {"lock": lock.pk, "label": "x", "starts_at": hours(1), "ends_at": hours(2)}
    assert limited.post("/access-codes", code).status_code == 404
