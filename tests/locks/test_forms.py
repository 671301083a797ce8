"""Times typed on forms mean the property's wall clock, whatever the server's zone, across DST."""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import pytest
from django.utils import timezone

from locks.forms import LocalDateTimeField, make_aware_in

UTC = dt_timezone.utc


def test_a_typed_time_is_the_propertys_wall_clock_not_the_servers(settings) -> None:
    settings.TIME_ZONE = "Asia/Tokyo"
    with timezone.override("Asia/Tokyo"):
        naive = LocalDateTimeField().clean("2026-07-01T15:00")
    assert naive == datetime(2026, 7, 1, 15, 0)
    assert naive.tzinfo is None
    assert make_aware_in(naive, "Europe/Lisbon").astimezone(UTC) == datetime(2026, 7, 1, 14, 0, tzinfo=UTC)


def test_a_time_in_the_spring_forward_gap_moves_forward_as_clocks_do() -> None:
    # 2026-03-29 02:30 does not exist in Amsterdam (02:00 → 03:00).
    aware = make_aware_in(datetime(2026, 3, 29, 2, 30), "Europe/Amsterdam")
    assert aware.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST


def test_an_ambiguous_autumn_time_takes_the_first_of_the_two() -> None:
    # 2026-10-25 02:30 happens twice in Amsterdam; fold=0 is the first (still CEST).
    aware = make_aware_in(datetime(2026, 10, 25, 2, 30), "Europe/Amsterdam")
    assert aware.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert aware.utcoffset() == timedelta(hours=2)


def test_a_code_that_spans_a_clock_change_names_the_day() -> None:
    from datetime import date

    from locks.models import AccessCode

    zone = "Europe/Amsterdam"
    spring = AccessCode(
        time_zone=zone,
        starts_at=datetime(2031, 3, 20, 9, tzinfo=UTC),
        ends_at=datetime(2031, 4, 5, 9, tzinfo=UTC),
    )
    assert spring.clock_change == date(2031, 3, 30)  # the last Sunday of March
    night = AccessCode(  # starts at 01:00 local on the very night, before the 02:00 change
        time_zone=zone, starts_at=datetime(2031, 3, 30, 0, tzinfo=UTC), ends_at=datetime(2031, 3, 31, tzinfo=UTC)
    )
    assert night.clock_change == date(2031, 3, 30)
    summer = AccessCode(
        time_zone=zone, starts_at=datetime(2031, 6, 1, tzinfo=UTC), ends_at=datetime(2031, 7, 1, tzinfo=UTC)
    )
    assert summer.clock_change is None
    tokyo = AccessCode(
        time_zone="Asia/Tokyo", starts_at=datetime(2031, 1, 1, tzinfo=UTC), ends_at=datetime(2032, 1, 1, tzinfo=UTC)
    )
    assert tokyo.clock_change is None  # no DST there


# --- clock changes: a typed time that does not exist, or exists twice, is said on the form -------------------------

SPRING_GAP = "2027-03-28T02:30"  # Amsterdam: 02:00 → 03:00
AUTUMN_TWICE = "2027-10-31T02:30"  # Amsterdam: 03:00 → 02:00


def test_a_time_in_the_spring_gap_is_named_with_the_time_to_use_instead() -> None:
    from locks.forms import wall_clock_problem

    problem = wall_clock_problem(datetime(2027, 3, 28, 2, 30), "Europe/Amsterdam")
    assert problem is not None
    assert "02:30 does not exist on Sun 28 Mar 2027 in Europe/Amsterdam" in problem
    assert "from 02:00 to 03:00" in problem
    assert "Did you mean 03:00?" in problem
    # New York's gap is on another day and at another hour: nothing is hard-wired to Europe.
    problem = wall_clock_problem(datetime(2027, 3, 14, 2, 5), "America/New_York")
    assert problem is not None
    assert "from 02:00 to 03:00" in problem
    # Lord Howe Island moves its clocks by half an hour.
    problem = wall_clock_problem(datetime(2027, 10, 3, 2, 10), "Australia/Lord_Howe")
    assert problem is not None
    assert "from 02:00 to 02:30" in problem


def test_an_autumn_time_that_happens_twice_is_named_and_the_edges_of_the_hour_are_fine() -> None:
    from locks.forms import wall_clock_problem

    problem = wall_clock_problem(datetime(2027, 10, 31, 2, 30), "Europe/Amsterdam")
    assert problem is not None
    assert "02:30 happens twice on Sun 31 Oct 2027" in problem
    assert "from 03:00 to 02:00" in problem
    assert wall_clock_problem(datetime(2027, 10, 31, 2, 0), "Europe/Amsterdam") is not None
    for fine in [datetime(2027, 10, 31, 1, 59), datetime(2027, 10, 31, 3, 0), datetime(2027, 3, 28, 3, 0)]:
        assert wall_clock_problem(fine, "Europe/Amsterdam") is None
    assert wall_clock_problem(datetime(2027, 3, 28, 2, 30), "Asia/Tokyo") is None


def _forms_with_wall_clock_fields() -> set[type]:
    """Every form class of the project with a LocalDateTimeField (the modules that define forms are imported)."""
    import importlib

    from django import forms as django_forms

    for module in ["locks.forms", "tenants.forms", "locks.user_views", "locks.admin", "tenants.admin"]:
        importlib.import_module(module)
    found: set[type] = set()
    todo = [django_forms.BaseForm]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__.split(".")[0] in {"locks", "tenants"} and any(
            isinstance(field, LocalDateTimeField) for field in getattr(cls, "base_fields", {}).values()
        ):
            found.add(cls)
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("typed", [SPRING_GAP, AUTUMN_TWICE])
def test_every_wall_clock_field_of_every_form_says_when_a_clock_change_makes_the_time_unclear(
    typed: str, django_user_model: Any
) -> None:
    from locks import forms
    from locks.models import AccessCode, CloudAccount, Lock, LockUser
    from locks.user_views import EditUserForm
    from tenants.forms import StayDatesForm
    from tenants.models import Guest, Membership, Organisation, Property, Role, Stay, Unit

    org = Organisation.objects.create(name="Canal Hotel", slug="canal")
    user = django_user_model.objects.create_user("owner", password="pw-owner-1")
    Membership.objects.create(user=user, organisation=org, role=Role.OWNER)
    prop = Property.objects.create(organisation=org, name="Canal", kind="hotel", time_zone="Europe/Amsterdam")
    room = Unit.objects.create(property=prop, name="Room 1")
    cloud = CloudAccount.objects.create(organisation=org, name="c", endpoint="http://127.0.0.1:9", access_id="x")
    lock = Lock.objects.create(
        organisation=org, cloud_account=cloud, unit=room, device_id="d1", name="Door", kind="access_control"
    )
    guest = Guest.objects.create(organisation=org, name="Ada")
    start = datetime(2027, 3, 20, 14, tzinfo=UTC)
    stay = Stay.objects.create(unit=room, guest=guest, check_in=start, check_out=start + timedelta(days=20))
    code = AccessCode.objects.create(
        organisation=org,
        lock=lock,
        label="Ada",
        pin="482913",
        time_zone="Europe/Amsterdam",
        starts_at=start,
        ends_at=start + timedelta(days=20),
    )
    lock_user = LockUser.objects.create(organisation=org, lock=lock, name="Ada", role="normal", cloud_user_id="u1")
    fine = "2027-04-20T11:00"
    build: dict[type, Any] = {
        forms.IssueCodeForm: lambda data: forms.IssueCodeForm(
            {"lock": lock.pk, "label": "Ada", "kind": "window", **data}, user=user, organisation=org
        ),
        forms.ChangeCodeForm: lambda data: forms.ChangeCodeForm({"version": code.version, **data}, code=code),
        forms.BookStayForm: lambda data: forms.BookStayForm(
            {"unit": room.pk, "guest_name": "Ada", "kind": "hotel", **data}, user=user, organisation=org
        ),
        forms.OfflinePasswordForm: lambda data: forms.OfflinePasswordForm({"kind": "multiple", **data}, lock=lock),
        StayDatesForm: lambda data: StayDatesForm({"seen": stay.updated_at.isoformat(), **data}, stay=stay),
        EditUserForm: lambda data: EditUserForm({"role": "normal", **data}, lock_user=lock_user),
    }
    found = _forms_with_wall_clock_fields()
    assert found <= set(build), f"a new form with wall-clock fields needs a line here: {found - set(build)}"
    for form_class in found:
        names = [name for name, f in form_class.base_fields.items() if isinstance(f, LocalDateTimeField)]
        good = build[form_class](dict.fromkeys(names, fine))
        assert not any(name in good.errors for name in names), (form_class.__name__, good.errors)
        for name in names:
            data = dict.fromkeys(names, fine) | {name: typed}
            form = build[form_class](data)
            assert not form.is_valid(), (form_class, name)
            said = " ".join(form.errors.get(name, []))
            assert "does not exist" in said or "happens twice" in said, (form_class.__name__, name, form.errors)
