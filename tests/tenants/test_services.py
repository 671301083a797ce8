"""Stays drive codes (tenants/services.py): booking issues them, changes follow, check-out removes them and
confirms it; the desk's booking finds or creates the guest and books once per form."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from locks.models import AccessCode
from tenants import selectors, services
from tenants.models import Guest, Stay, Unit
from tests.locks.conftest import run_workers
from tests.tenants.conftest import offline_lock

pytestmark = pytest.mark.django_db(transaction=True)
Status = AccessCode.Status


def book(unit, guest, capture, hours=(-1, 48), **extra):
    now = timezone.now()
    with capture(execute=True):
        return services.book_stay(
            unit=unit,
            guest=guest,
            check_in=now + timedelta(hours=hours[0]),
            check_out=now + timedelta(hours=hours[1]),
            **extra,
        )


def codes(stay):
    return list(stay.access_codes.order_by("pk"))


def test_booking_issues_one_code_per_lock_with_one_pin(
    make_lock, unit, guest, world, django_capture_on_commit_callbacks
):
    front, room = make_lock("wifi"), make_lock("wifi_keepalive")
    stay = book(unit, guest, django_capture_on_commit_callbacks)
    run_workers()
    issued = codes(stay)
    assert [c.lock for c in issued] == [front, room]
    assert {c.pin for c in issued} == {issued[0].pin}
    assert all(c.refresh_from_db() or c.status == Status.SET for c in issued)
    assert (issued[0].starts_at, issued[0].ends_at) == (stay.check_in, stay.check_out)
    assert world.opens(front.device_id, issued[0].pin)
    assert world.opens(room.device_id, issued[0].pin)


def test_extending_a_stay_moves_the_codes_end(make_lock, unit, guest, world, django_capture_on_commit_callbacks):
    lock = make_lock("zigbee")
    stay = book(unit, guest, django_capture_on_commit_callbacks)
    run_workers()
    later = stay.check_out + timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_stay(stay, check_out=later)
    run_workers()
    code = codes(stay)[0]
    assert (code.status, code.ends_at) == (Status.SET, later)
    stored = world.passwords(lock.device_id)[0]
    assert stored["invalid_time"] == int(later.timestamp())


def test_check_out_removes_the_code_and_confirms_it(make_lock, unit, guest, world, django_capture_on_commit_callbacks):
    lock = make_lock("wifi")
    stay = book(unit, guest, django_capture_on_commit_callbacks)
    run_workers()
    pin = codes(stay)[0].pin
    assert world.opens(lock.device_id, pin)
    with django_capture_on_commit_callbacks(execute=True):
        services.check_out_stay(stay)
    assert not selectors.removal_confirmed(stay)  # asked, not yet confirmed by the lock
    run_workers()
    assert selectors.removal_confirmed(stay)
    assert codes(stay)[0].status == Status.REMOVED
    assert not world.opens(lock.device_id, pin)
    stay.refresh_from_db()
    assert stay.status == Stay.Status.CHECKED_OUT


def test_moving_rooms_moves_the_code(make_lock, unit, guest, account, world, django_capture_on_commit_callbacks):
    old_lock = make_lock("zigbee")
    other_room = Unit.objects.create(property=unit.property, name="Room 14")
    new_lock = make_lock("zigbee")
    new_lock.unit = other_room
    new_lock.save()
    stay = book(unit, guest, django_capture_on_commit_callbacks)
    run_workers()
    old_pin = codes(stay)[0].pin
    with django_capture_on_commit_callbacks(execute=True):
        services.move_stay(stay, unit=other_room)
    run_workers()
    old, new = codes(stay)
    assert (old.lock, old.status) == (old_lock, Status.REMOVED)
    assert (new.lock, new.status) == (new_lock, Status.SET)
    assert not world.opens(old_lock.device_id, old_pin)
    assert world.opens(new_lock.device_id, new.pin)


def test_cancel_removes_codes(make_lock, unit, guest, django_capture_on_commit_callbacks):
    make_lock("wifi")
    stay = book(unit, guest, django_capture_on_commit_callbacks, hours=(24, 72))
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_stay(stay)
    run_workers()
    assert [c.status for c in codes(stay)] == [Status.REMOVED]


def test_check_out_twice_is_harmless(make_lock, unit, guest, django_capture_on_commit_callbacks):
    make_lock("wifi")
    stay = book(unit, guest, django_capture_on_commit_callbacks)
    services.check_out_stay(stay)
    services.check_out_stay(stay)
    assert AccessCode.objects.filter(stay=stay).count() == 1


def test_check_out_before_check_in_is_refused(make_lock, unit, guest, django_capture_on_commit_callbacks):
    make_lock("wifi")
    with pytest.raises(ValidationError) as info:
        book(unit, guest, django_capture_on_commit_callbacks, hours=(48, 24))
    assert "check_out" in info.value.message_dict
    assert not Stay.objects.exists()
    assert not AccessCode.objects.exists()


def test_a_unit_without_a_lock_cannot_be_booked(unit, guest, django_capture_on_commit_callbacks, queues):
    with pytest.raises(ValidationError) as info:
        book(unit, guest, django_capture_on_commit_callbacks)
    assert "has no lock" in info.value.message_dict["unit"][0]
    assert not Stay.objects.exists()


def test_hotel_rooms_are_not_double_booked(make_lock, unit, guest, django_capture_on_commit_callbacks):
    make_lock("wifi")
    book(unit, guest, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError, match="already booked"):
        book(unit, guest, django_capture_on_commit_callbacks, hours=(2, 5))


def test_another_organisations_guest_is_refused(make_lock, unit, django_capture_on_commit_callbacks):
    from tenants.models import Guest, Organisation

    make_lock("wifi")
    other = Organisation.objects.create(name="Other", slug="other")
    stranger = Guest.objects.create(organisation=other, name="Eve")
    with pytest.raises(ValidationError) as info:
        book(unit, stranger, django_capture_on_commit_callbacks)
    assert "guest" in info.value.message_dict
    assert not Stay.objects.exists()


def test_property_time_zone_is_used_for_codes(make_lock, unit, guest, django_capture_on_commit_callbacks):
    unit.property.time_zone = "America/New_York"
    unit.property.save()
    make_lock("wifi")
    stay = book(unit, guest, django_capture_on_commit_callbacks)
    assert codes(stay)[0].time_zone == "America/New_York"


def test_a_stay_that_has_begun_is_checked_in_and_a_future_one_is_booked_until_arrival(
    make_lock, unit, guest, django_capture_on_commit_callbacks
):
    make_lock("wifi")
    now_stay = book(unit, guest, django_capture_on_commit_callbacks)
    assert now_stay.status == Stay.Status.CHECKED_IN
    services.cancel_stay(now_stay)
    later = book(unit, guest, django_capture_on_commit_callbacks, hours=(24, 48))
    assert later.status == Stay.Status.BOOKED
    assert services.check_in_stay(later).status == Stay.Status.CHECKED_IN
    assert services.check_in_stay(later).status == Stay.Status.CHECKED_IN  # twice is harmless
    services.check_out_stay(later)
    with pytest.raises(ValidationError, match="over"):
        services.check_in_stay(later)


# --- the desk's booking: the guest found or created, one stay per form --------------------------------------


def desk_booking(unit, actor, token, name="Grace Hopper", email="grace@example.com"):
    now = timezone.now()
    return services.book_guest(
        unit=unit,
        guest=services.GuestDetails(name=name, email=email),
        check_in=now - timedelta(hours=1),
        check_out=now + timedelta(hours=20),
        booking_token=token,
        actor=actor,
    )


def test_one_form_books_once_and_a_new_form_finds_the_guest_again(unit, front_desk, queues):
    offline_lock(unit.property.organisation, unit)
    token = uuid.uuid4()
    first = desk_booking(unit, front_desk, token)
    again = desk_booking(unit, front_desk, token)
    assert (first.booked, again.booked, again.stay) == (True, False, first.stay)
    services.cancel_stay(first.stay)
    later = desk_booking(unit, front_desk, uuid.uuid4(), email="GRACE@example.com")
    assert later.booked
    assert later.stay != first.stay
    assert later.stay.guest == first.stay.guest  # name and e-mail (any case) name the same person
    assert Stay.objects.count() == 2


def test_without_an_actor_nobody_is_seen_and_the_guest_is_new(unit, guest, queues):
    found = services.find_or_create_guest(
        organisation=unit.property.organisation, details=services.GuestDetails(guest.name, guest.email)
    )
    assert found != guest
    assert found.organisation == guest.organisation


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks that make the second submit wait")
def test_two_racing_submits_of_one_form_book_one_stay_and_one_guest(unit, front_desk, queues):
    offline_lock(unit.property.organisation, unit)
    token = uuid.uuid4()
    start = threading.Barrier(2)
    results, errors = [], []

    def submit():
        try:
            start.wait()
            results.append(desk_booking(unit, front_desk, token))
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert sorted(r.booked for r in results) == [False, True]
    assert results[0].stay == results[1].stay
    assert (Stay.objects.count(), Guest.objects.count(), AccessCode.objects.count()) == (1, 1, 1)


def test_a_new_guest_records_who_added_them(org, front_desk) -> None:
    details = services.GuestDetails("Ada Lovelace", "ada@example.com")
    added = services.find_or_create_guest(organisation=org, details=details, actor=front_desk)
    assert added.created_by == front_desk
    by_a_job = services.find_or_create_guest(organisation=org, details=details)  # nobody seen: a new guest
    assert by_a_job != added
    assert by_a_job.created_by is None
