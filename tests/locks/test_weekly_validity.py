"""A weekly code must be able to open: its validity, on the property's calendar, has to hold one of its days.

Mon/Wed 09:00–12:00 valid from a Friday to the Saturday would be "On the lock" and never open (issue 11, D.15)."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from locks import codes
from locks.models import AccessCode, CloudAccount, Lock
from tenants.models import Membership, Organisation, Property, Role, Unit

pytestmark = pytest.mark.django_db
AMS = zoneinfo.ZoneInfo("Europe/Amsterdam")
MON_WED = codes.WeeklySchedule(frozenset({0, 2}), 9 * 60, 12 * 60)
FRIDAY = datetime(2030, 1, 4, 10, tzinfo=AMS)  # Fri 4 Jan 2030


def make_lock(zone: str = "Europe/Amsterdam") -> Lock:
    org = Organisation.objects.create(name=f"Org {zone}", slug=zone.replace("/", "-").lower())
    prop = Property.objects.create(organisation=org, name="Flats", kind="rental", time_zone=zone)
    room = Unit.objects.create(property=prop, name="Flat 1")
    cloud = CloudAccount.objects.create(organisation=org, name="c", endpoint="http://127.0.0.1:9", access_id="x")
    return Lock.objects.create(
        organisation=org, cloud_account=cloud, unit=room, device_id="d", name="Door", kind="wifi"
    )


def weekly(lock: Lock, starts_at: datetime, ends_at: datetime, schedule: Any = MON_WED) -> AccessCode:
    return codes.issue_access_code(
        lock=lock, label="Cleaner", starts_at=starts_at, ends_at=ends_at, kind="weekly", schedule=schedule
    )


def test_a_weekly_code_whose_validity_holds_none_of_its_days_is_refused_beside_the_days() -> None:
    lock = make_lock()
    with pytest.raises(ValidationError) as refused:
        weekly(lock, FRIDAY, FRIDAY + timedelta(days=1))  # Friday → Saturday: no Monday, no Wednesday
    message = " ".join(refused.value.message_dict["schedule_days"])
    assert "no Mon, Wed 09:00–12:00" in message
    assert "From Fri 4 Jan 2030 10:00 to Sat 5 Jan 2030 10:00 (Europe/Amsterdam)" in message
    assert not AccessCode.objects.exists()
    # The same days in a validity that reaches a Monday morning are fine.
    assert weekly(lock, FRIDAY, FRIDAY + timedelta(days=3)).kind == "weekly"


def test_a_day_counts_only_when_its_hours_overlap_the_validity() -> None:
    lock = make_lock()
    monday_noon = datetime(2030, 1, 7, 12, tzinfo=AMS)
    with pytest.raises(ValidationError):
        weekly(lock, FRIDAY, monday_noon - timedelta(hours=3))  # ends Monday 09:00, when the window starts
    with pytest.raises(ValidationError):
        weekly(lock, monday_noon, monday_noon + timedelta(hours=30))  # Monday 12:00 → Tuesday 18:00
    assert weekly(lock, monday_noon - timedelta(hours=1), monday_noon + timedelta(hours=1))


def test_days_are_counted_on_the_propertys_calendar_not_utcs() -> None:
    lock = make_lock("America/New_York")
    utc = zoneinfo.ZoneInfo("UTC")
    # Wednesday 01:00–03:00 UTC is Tuesday 20:00–22:00 in New York.
    starts, ends = datetime(2030, 1, 9, 1, tzinfo=utc), datetime(2030, 1, 9, 3, tzinfo=utc)
    tuesday_evening = codes.WeeklySchedule(frozenset({1}), 19 * 60, 23 * 60)
    assert weekly(lock, starts, ends, tuesday_evening)
    wednesday_night = codes.WeeklySchedule(frozenset({2}), 60, 3 * 60)
    with pytest.raises(ValidationError):
        weekly(lock, starts, ends, wednesday_night)


def test_changing_a_weekly_codes_validity_to_one_without_its_days_is_refused() -> None:
    lock = make_lock()
    code = weekly(lock, FRIDAY, FRIDAY + timedelta(days=90))
    with pytest.raises(ValidationError) as refused:
        codes.change_access_code(code, starts_at=FRIDAY, ends_at=FRIDAY + timedelta(days=2))
    assert "could never open" in " ".join(refused.value.message_dict["ends_at"])
    code.refresh_from_db()
    assert code.ends_at == FRIDAY + timedelta(days=90)


def test_a_weekly_code_that_opens_only_a_few_times_gets_a_note_saying_how_many() -> None:
    lock = make_lock()
    few = weekly(lock, FRIDAY, FRIDAY + timedelta(days=5))  # Mon 7, Wed 9
    note = codes.openings_note(few)
    assert "opens only 2 times" in note
    assert "(Mon 7 Jan 09:00, Wed 9 Jan 09:00)" in note
    assert codes.openings_note(weekly(lock, FRIDAY, FRIDAY + timedelta(days=60))) == ""


def test_the_lock_page_refuses_it_beside_the_days_and_proposes_months_for_weekly_codes(
    client: Any, django_user_model: Any
) -> None:
    lock = make_lock()
    user = django_user_model.objects.create_user("owner", password="pw-owner-1")
    Membership.objects.create(user=user, organisation=lock.organisation, role=Role.OWNER)
    client.force_login(user)
    page = client.get(reverse("locks:lock", args=[lock.pk])).content.decode()
    assert 'data-weekly-default="' in page  # app.js puts it in "Valid until" when "Weekly" is chosen
    form = {
        "lock": lock.pk,
        "label": "Cleaner",
        "kind": "weekly",
        "starts_at": "2030-01-04T10:00",
        "ends_at": "2030-01-05T10:00",
        "schedule_days": ["0", "2"],
        "schedule_start": "09:00",
        "schedule_end": "12:00",
    }
    response = client.post(reverse("locks:issue-code", args=[lock.pk]), form)
    assert response.status_code == 400
    assert "could never open" in " ".join(response.context["issue_form"].errors["schedule_days"])
    assert not AccessCode.objects.exists()
    response = client.post(reverse("locks:issue-code", args=[lock.pk]), {**form, "ends_at": "2030-01-10T10:00"})
    assert response.status_code == 302
    shown = client.get(response["Location"]).content.decode()
    assert "opens only 2 times" in shown
