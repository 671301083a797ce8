"""The front desk's pages through Django's test client: forms, idempotent check-in, stale pages, scoping, roles,
and the audit of every look at a PIN."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from locks.models import AccessCode
from tenants import services
from tenants.models import Guest, Membership, Property, Role, Stay, Unit
from tests.tenants.conftest import book, offline_lock

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")


def local(moment: datetime) -> str:
    return moment.astimezone(AMS).strftime("%Y-%m-%dT%H:%M")


def check_in_data(unit: Unit, token: str | None = None, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    data = {
        "unit": unit.pk,
        "guest_name": "Ada Lovelace",
        "guest_email": "ada@example.com",
        "guest_phone": "",
        "check_in": local(now),
        "check_out": local(now + timedelta(days=1)),
        "kind": "hotel",
        "booking_token": token or str(uuid.uuid4()),
    }
    data.update(extra)
    return data


def field_block(html: str, name: str) -> str:
    """The markup of one form field's block (label, input, errors)."""
    match = re.search(rf'<div class="field[^"]*">\s*<label for="id_{name}">.*?</div>', html, re.S)
    assert match, f"no field {name}"
    return match.group(0)


# --- the check-in form ----------------------------------------------------------------------------------------


def test_today_offers_check_in_now_until_tomorrow_eleven_in_the_property_zone(desk: Client, lock: Any) -> None:
    html = desk.get(reverse("desk:today")).content.decode()
    assert re.search(r'<select name="unit"[^>]*autofocus', html)
    now = timezone.now().astimezone(AMS)
    check_in = re.search(r'name="check_in" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert abs(datetime.fromisoformat(check_in).replace(tzinfo=AMS) - now) < timedelta(minutes=2)
    tomorrow = (now + timedelta(days=1)).date()
    assert f'name="check_out" value="{tomorrow:%Y-%m-%d}T11:00"' in html
    assert "Europe/Amsterdam" in html


def test_check_in_books_the_stay_and_goes_to_its_page(desk: Client, lock: Any, unit: Unit, front_desk: Any) -> None:
    response = desk.post(reverse("desk:today"), check_in_data(unit), REMOTE_ADDR="203.0.113.5")
    stay = Stay.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("desk:stay", args=[stay.pk])
    assert (stay.guest.name, stay.unit) == ("Ada Lovelace", unit)
    assert stay.access_codes.count() == 1
    assert AuditEvent.objects.get(action="stay.book").actor == front_desk


def test_check_in_errors_show_beside_their_fields(desk: Client, lock: Any, unit: Unit) -> None:
    now = timezone.now()
    data = check_in_data(unit, guest_name="", check_out=local(now - timedelta(hours=3)), check_in=local(now))
    response = desk.post(reverse("desk:today"), data)
    assert response.status_code == 200
    html = response.content.decode()
    name = field_block(html, "guest_name")
    assert 'role="alert"' in name
    assert "This field is required." in name
    assert 'aria-invalid="true"' in name
    assert "autofocus" in name
    assert not Stay.objects.exists()
    # Fixed name; the service's refusal of the window lands beside check-out.
    response = desk.post(reverse("desk:today"), {**data, "guest_name": "Ada"})
    check_out = field_block(response.content.decode(), "check_out")
    assert "Check-out must be after check-in." in check_out
    assert 'role="alert"' in check_out
    assert not Stay.objects.exists()


def test_a_room_without_lock_is_refused_beside_the_room(desk: Client, lock: Any, unit: Unit) -> None:
    lock.delete()
    html = desk.post(reverse("desk:today"), check_in_data(unit)).content.decode()
    assert "Select a valid choice" in field_block(html, "unit")  # not offered: the desk cannot manage it


def test_the_same_form_sent_twice_books_one_stay(desk: Client, lock: Any, unit: Unit) -> None:
    data = check_in_data(unit)
    first = desk.post(reverse("desk:today"), data)
    second = desk.post(reverse("desk:today"), data, follow=True)
    stay = Stay.objects.get()
    assert first["Location"] == second.redirect_chain[-1][0] == reverse("desk:stay", args=[stay.pk])
    assert b"already done" in second.content
    assert AccessCode.objects.count() == 1


def test_a_new_form_books_again_and_a_form_without_token_books_nothing(desk: Client, lock: Any, unit: Unit) -> None:
    data = check_in_data(unit)
    del data["booking_token"]
    response = desk.post(reverse("desk:today"), data)
    assert response.status_code == 200
    assert b"out of date" in response.content
    assert not Stay.objects.exists()


def test_the_token_of_a_refused_form_still_books_once_corrected(desk: Client, lock: Any, unit: Unit) -> None:
    token = str(uuid.uuid4())
    refused = desk.post(reverse("desk:today"), check_in_data(unit, token, guest_name=""))
    assert f'value="{token}"' in refused.content.decode()
    desk.post(reverse("desk:today"), check_in_data(unit, token))
    desk.post(reverse("desk:today"), check_in_data(unit, token))
    assert Stay.objects.count() == 1


@pytest.mark.parametrize(
    ("desk_limited", "known_at", "attached"),
    [
        (True, "Annex", False),  # the bug: the desk got (and so saw) another property's guest
        (True, "Canal Hotel", True),
        (False, "Annex", True),  # a desk of the whole organisation finds the guest wherever they stayed
    ],
)
def test_check_in_finds_a_known_guest_only_among_those_the_desk_may_see(
    desk: Client, lock: Any, unit: Unit, org: Any, front_desk: Any, desk_limited: bool, known_at: str, attached: bool
) -> None:
    annex = Property.objects.create(organisation=org, name="Annex", kind=Property.Kind.HOTEL)
    annex_room = Unit.objects.create(property=annex, name="Annex 1")
    offline_lock(org, annex_room, name="Annex door")
    grace = Guest.objects.create(organisation=org, name="Grace Hopper", email="grace@example.com", notes="VIP")
    book(annex_room if known_at == "Annex" else unit, grace, hours=(30, 40))
    if desk_limited:
        Membership.objects.get(user=front_desk).limit_to([unit.property])
    room = Unit.objects.create(property=unit.property, name="Room 14")
    offline_lock(org, room, name="Room 14 door")
    data = check_in_data(room, guest_name="Grace Hopper", guest_email="GRACE@example.com")
    response = desk.post(reverse("desk:today"), data)
    assert response.status_code == 302
    stay = Stay.objects.get(unit=room)
    assert (stay.guest == grace) is attached
    assert stay.guest.name == "Grace Hopper"
    assert Guest.objects.filter(name="Grace Hopper").count() == (1 if attached else 2)
    if not attached:  # nothing of the other property's guest reaches the limited desk
        assert stay.guest.notes == ""
        assert grace not in Guest.objects.for_user(front_desk)


def test_a_limited_desk_keeps_the_guests_it_checked_in(
    desk: Client, lock: Any, unit: Unit, org: Any, front_desk: Any, django_user_model: Any
) -> None:
    """A limited desk sees a guest staying (any stay, cancelled too) or holding a code at its properties, and the
    guests it added itself (Guest.created_by): the desk's check-in adds them as the admin does."""
    membership = Membership.objects.get(user=front_desk)
    membership.limit_to([unit.property])
    assert desk.post(reverse("desk:today"), check_in_data(unit)).status_code == 302
    stay = Stay.objects.get()
    ada = stay.guest
    assert ada.created_by == front_desk
    desk.post(reverse("desk:stay-cancel", args=[stay.pk]), {"confirmed": "yes"})
    assert Stay.objects.get().status == Stay.Status.CANCELLED
    assert ada in Guest.objects.for_user(front_desk)  # the cancelled stay still links them to the property
    annex = Property.objects.create(organisation=org, name="Annex", kind=Property.Kind.HOTEL)
    annex_room = Unit.objects.create(property=annex, name="Annex 1")
    offline_lock(org, annex_room, name="Annex door")
    membership.limit_to([annex])  # the desk moves to the annex: Ada never stayed there
    assert ada in Guest.objects.for_user(front_desk)  # but this desk added her
    annex_desk = django_user_model.objects.create_user("annex-desk")
    Membership.objects.create(user=annex_desk, organisation=org, role=Role.FRONT_DESK).limit_to([annex])
    assert ada not in Guest.objects.for_user(annex_desk)  # another desk of the annex does not see her
    data = check_in_data(annex_room, guest_email="ADA@example.com", check_in=local(timezone.now() + timedelta(days=2)),
                         check_out=local(timezone.now() + timedelta(days=3)))  # fmt: skip
    assert desk.post(reverse("desk:today"), data).status_code == 302
    assert Stay.objects.get(unit=annex_room).guest == ada  # found again, not a second Ada


# --- the stay page and PINs ---------------------------------------------------------------------------------


def test_stay_page_masks_the_pin_and_offers_show_pin(desk: Client, stay: Stay) -> None:
    code = stay.access_codes.get()
    html = desk.get(reverse("desk:stay", args=[stay.pk])).content.decode()
    assert code.pin not in html
    assert code.masked_pin in html
    assert "Show PIN" in html
    assert reverse("desk:slip", args=[stay.pk]) in html
    assert not AuditEvent.objects.filter(action="code.reveal").exists()


def test_show_pin_is_an_audited_post_never_cached(desk: Client, stay: Stay, front_desk: Any) -> None:
    code = stay.access_codes.get()
    url = reverse("desk:code-reveal", args=[code.pk])
    assert desk.get(url).status_code == 405
    response = desk.post(url, headers={"HX-Request": "true"}, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 200
    assert code.pin in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="code.reveal")
    assert (event.actor, event.ip_address, event.object_id) == (front_desk, "198.51.100.7", str(code.pk))
    assert code.pin not in event.summary


def test_show_pin_without_htmx_renders_the_page_with_the_pin(desk: Client, stay: Stay) -> None:
    code = stay.access_codes.get()
    response = desk.post(reverse("desk:code-reveal", args=[code.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert f'class="pin revealed" aria-label="PIN {" ".join(code.pin)}">{code.pin}<' in response.content.decode()


def test_slip_shows_room_pin_window_and_qr_audited_and_never_cached(desk: Client, stay: Stay, front_desk: Any) -> None:
    code = stay.access_codes.get()
    url = reverse("desk:slip", args=[stay.pk])
    assert desk.get(url).status_code == 405  # the slip shows the PIN: only an audited POST opens it
    response = desk.post(url, REMOTE_ADDR="198.51.100.8")
    html = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert code.pin in html
    assert "Room 12" in html
    assert "Europe/Amsterdam" in html
    assert '<svg viewBox="' in html  # scaled by CSS, never cropped
    assert 'class="segno"' in html
    check_in = stay.check_in.astimezone(AMS)
    assert f"{check_in:%H:%M}" in html
    assert AuditEvent.objects.filter(action="code.reveal", actor=front_desk, ip_address="198.51.100.8").count() == 1
    assert AuditEvent.objects.filter(action="stay.slip", object_id=str(stay.pk)).exists()
    assert all(code.pin not in e.summary for e in AuditEvent.objects.all())


def test_code_status_polls_only_while_the_lock_has_not_confirmed(desk: Client, stay: Stay) -> None:
    code = stay.access_codes.get()
    url = reverse("desk:code-status", args=[code.pk])
    html = desk.get(url).content.decode()
    assert "Requested" in html
    assert 'hx-trigger="every 2s"' in html
    AccessCode.objects.filter(pk=code.pk).update(status=AccessCode.Status.SET)  # as the worker records it
    html = desk.get(url).content.decode()
    assert "On the lock" in html
    assert "hx-trigger" not in html
    assert code.pin not in html


# --- acting on a stay ---------------------------------------------------------------------------------------


def test_extending_the_stay_moves_its_code(desk: Client, stay: Stay) -> None:
    later = stay.check_out + timedelta(days=2)
    data = {"seen": stay.updated_at.isoformat(), "check_in": local(stay.check_in), "check_out": local(later)}
    response = desk.post(reverse("desk:stay-dates", args=[stay.pk]), data)
    assert response.status_code == 302
    stay.refresh_from_db()
    assert stay.check_out == later.replace(second=0, microsecond=0)
    assert stay.access_codes.get().ends_at == stay.check_out


def test_a_stale_page_cannot_change_the_stay(desk: Client, stay: Stay) -> None:
    seen = stay.updated_at.isoformat()
    services.change_stay(stay, check_out=stay.check_out + timedelta(hours=1))  # someone else, meanwhile
    stay.refresh_from_db()
    before = stay.check_out
    data = {"seen": seen, "check_in": local(stay.check_in), "check_out": local(before + timedelta(days=3))}
    response = desk.post(reverse("desk:stay-dates", args=[stay.pk]), data)
    assert response.status_code == 200
    assert b"changed while you were looking" in response.content
    stay.refresh_from_db()
    assert stay.check_out == before


def test_dates_refused_by_the_service_show_beside_the_field(desk: Client, stay: Stay) -> None:
    data = {
        "seen": stay.updated_at.isoformat(),
        "check_in": local(stay.check_in),
        "check_out": local(timezone.now() - timedelta(hours=2)),
    }
    html = desk.post(reverse("desk:stay-dates", args=[stay.pk]), data).content.decode()
    block = re.search(r'<label for="dates-check_out">.*?</div>', html, re.S).group(0)  # type: ignore[union-attr]
    assert 'role="alert"' in block
    assert "after check-in" in block or "already ended" in block


def test_moving_room_moves_the_code(desk: Client, stay: Stay, org: Any, unit: Unit) -> None:
    other = Unit.objects.create(property=unit.property, name="Room 14")
    offline_lock(org, other, "Room 14 door")
    data = {"seen": stay.updated_at.isoformat(), "unit": other.pk}
    assert desk.post(reverse("desk:stay-move", args=[stay.pk]), data).status_code == 302
    stay.refresh_from_db()
    assert stay.unit == other
    assert [c.lock.name for c in stay.access_codes.exclude(desired="removed")] == ["Room 14 door"]


@pytest.mark.parametrize(
    ("name", "button"), [("desk:stay-check-out", "Yes, check out"), ("desk:stay-cancel", "Yes, cancel")]
)
def test_check_out_and_cancel_ask_first_and_a_stray_click_changes_nothing(
    desk: Client, stay: Stay, name: str, button: str
) -> None:
    code = stay.access_codes.get()
    asked = desk.post(reverse(name, args=[stay.pk]))  # the button on the stay page, no JavaScript needed
    html = asked.content.decode()
    assert asked.status_code == 200
    assert button in html
    assert 'name="confirmed" value="yes"' in html
    assert "can no longer open the door" in html  # the guest is in the house
    assert reverse("desk:stay", args=[stay.pk]) in html  # and a way back
    stay.refresh_from_db()
    code.refresh_from_db()
    assert stay.status == Stay.Status.CHECKED_IN
    assert code.desired == AccessCode.Desired.ACTIVE
    done = desk.post(reverse(name, args=[stay.pk]), {"confirmed": "yes"})
    assert done.status_code == 302
    stay.refresh_from_db()
    assert stay.status != Stay.Status.CHECKED_IN
    assert stay.access_codes.get().desired == AccessCode.Desired.REMOVED


def test_check_out_then_removal_is_shown_until_confirmed(desk: Client, stay: Stay) -> None:
    response = desk.post(reverse("desk:stay-check-out", args=[stay.pk]), {"confirmed": "yes"}, follow=True)
    html = response.content.decode()
    assert "Removing the code from the lock" in html
    assert 'hx-trigger="every 2s"' in html
    assert Stay.objects.get().status == Stay.Status.CHECKED_OUT
    assert "Show PIN" not in html  # a code on its way off the lock is nothing to hand over
    AccessCode.objects.filter(stay=stay).update(status=AccessCode.Status.REMOVED)  # the lock confirmed it
    assert "Show PIN" not in desk.get(reverse("desk:stay", args=[stay.pk])).content.decode()
    html = desk.get(reverse("desk:stay-removal", args=[stay.pk])).content.decode()
    assert "Code removed from the lock." in html
    assert "hx-trigger" not in html


def test_stale_actions_on_an_ended_stay_say_so_instead_of_failing(desk: Client, stay: Stay) -> None:
    seen = stay.updated_at.isoformat()
    desk.post(reverse("desk:stay-check-out", args=[stay.pk]), {"confirmed": "yes"})
    again = desk.post(reverse("desk:stay-check-out", args=[stay.pk]), {"confirmed": "yes"}, follow=True)
    assert b"already checked out" in again.content
    cancel = desk.post(reverse("desk:stay-cancel", args=[stay.pk]), follow=True)
    assert b"already checked out" in cancel.content
    assert Stay.objects.get().status == Stay.Status.CHECKED_OUT
    data = {"seen": seen, "check_in": local(stay.check_in), "check_out": local(stay.check_out + timedelta(days=1))}
    dates = desk.post(reverse("desk:stay-dates", args=[stay.pk]), data, follow=True)
    assert b"already checked out: nothing changed" in dates.content
    assert Stay.objects.get().check_out == stay.check_out


def test_resending_a_code_that_did_not_fail_is_refused_with_a_message(desk: Client, stay: Stay) -> None:
    code = stay.access_codes.get()
    response = desk.post(reverse("desk:code-resend", args=[code.pk]), follow=True)
    assert response.status_code == 200
    assert b"Only a code that failed can be sent again." in response.content


def test_send_before_the_code_is_on_the_lock_is_refused(desk: Client, stay: Stay, settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    response = desk.post(reverse("desk:stay-send", args=[stay.pk]), {"channel": "email"}, follow=True)
    assert b"not on the lock yet" in response.content
    assert not (tmp_path / "outbox").exists()


# --- who may see and do what --------------------------------------------------------------------------------


def stay_urls(stay: Stay) -> list[tuple[str, str]]:
    code = stay.access_codes.first()
    assert code is not None
    gets = ["desk:stay", "desk:stay-removal"]
    posts = [
        "desk:stay-dates",
        "desk:stay-move",
        "desk:stay-check-in",
        "desk:stay-check-out",
        "desk:stay-cancel",
        "desk:stay-send",
    ]
    posts.append("desk:slip")
    urls = [("get", reverse(name, args=[stay.pk])) for name in gets]
    urls += [("post", reverse(name, args=[stay.pk])) for name in posts]
    urls += [("get", reverse("desk:code-status", args=[code.pk]))]
    urls += [("post", reverse(name, args=[code.pk])) for name in ["desk:code-reveal", "desk:code-resend"]]
    return urls


def test_another_organisations_stay_and_codes_are_not_found(desk: Client, stay: Stay, other_stay: Stay) -> None:
    for method, url in stay_urls(other_stay):
        assert getattr(desk, method)(url).status_code == 404, url
    other_stay.refresh_from_db()
    assert other_stay.status == Stay.Status.CHECKED_IN  # still open: nothing was done to it
    assert not AuditEvent.objects.filter(action="code.reveal").exists()
    listing = desk.get(reverse("desk:stays"), {"when": "current"}).content.decode()
    assert "Grace Hopper" not in listing
    assert "Ada Lovelace" in listing


def test_a_front_desk_limited_to_a_property_sees_no_other(
    desk: Client, stay: Stay, org: Any, front_desk: Any, lock: Any
) -> None:
    annex = Property.objects.create(organisation=org, name="Annex", kind=Property.Kind.HOTEL)
    Membership.objects.get(user=front_desk).limit_to([annex])
    for method, url in stay_urls(stay):
        assert getattr(desk, method)(url).status_code == 404, url


def test_a_viewer_may_look_but_sees_no_pin_and_cannot_act(viewer: Client, stay: Stay) -> None:
    code = stay.access_codes.get()
    html = viewer.get(reverse("desk:stay", args=[stay.pk])).content.decode()
    assert "Ada Lovelace" in html
    assert code.pin not in html
    for absent in ("Show PIN", "Print welcome slip", "Check out", "Move room"):
        assert absent not in html
    assert viewer.post(reverse("desk:code-reveal", args=[code.pk])).status_code == 403
    assert AuditEvent.objects.filter(action="code.reveal_refused").exists()
    slip = viewer.post(reverse("desk:slip", args=[stay.pk]))
    assert slip.status_code == 403
    assert code.pin not in slip.content.decode()
    for name in ["desk:stay-check-out", "desk:stay-cancel", "desk:stay-send"]:
        assert viewer.post(reverse(name, args=[stay.pk])).status_code == 403
    assert viewer.post(reverse("desk:code-resend", args=[code.pk])).status_code == 403
    assert Stay.objects.get().status == Stay.Status.CHECKED_IN
    today = viewer.get(reverse("desk:today"))
    assert today.status_code == 200
    assert b"Check a guest in" not in today.content
    assert viewer.post(reverse("desk:today"), check_in_data(stay.unit)).status_code == 403
    assert not AuditEvent.objects.filter(action="code.reveal").exists()


def test_a_post_without_csrf_token_is_refused(front_desk: Any, stay: Stay) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(front_desk)
    code = stay.access_codes.get()
    assert browser.post(reverse("desk:code-reveal", args=[code.pk])).status_code == 403
    assert browser.post(reverse("desk:stay-check-out", args=[stay.pk])).status_code == 403
    assert not AuditEvent.objects.filter(action="code.reveal").exists()
    assert Stay.objects.get().status == Stay.Status.CHECKED_IN


def test_nobody_signed_in_is_sent_to_sign_in(client: Client, stay: Stay) -> None:
    response = client.get(reverse("desk:stay", args=[stay.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- today's lists and the stays list -----------------------------------------------------------------------


def test_today_lists_arrivals_and_departures_of_the_property_day(desk: Client, lock: Any, unit: Unit, org: Any) -> None:
    today = timezone.now().astimezone(AMS).date()
    start = datetime.combine(today, datetime.min.time(), tzinfo=AMS)
    arriving = Guest.objects.create(organisation=org, name="Arriving Today")
    services.book_stay(
        unit=unit, guest=arriving, check_in=start + timedelta(hours=23, minutes=30), check_out=start + timedelta(days=2)
    )
    html = desk.get(reverse("desk:today")).content.decode()
    arrivals, departures = html.split('id="departures-title"')
    assert "Arriving Today" in arrivals
    assert "Arriving Today" not in departures
    assert "23:30" in arrivals
    assert "Requested" in arrivals


def test_stays_list_filters_searches_and_pages(
    desk: Client, lock: Any, unit: Unit, org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    room2 = Unit.objects.create(property=unit.property, name="Room 20")
    offline_lock(org, room2, "Room 20 door")
    now_guest = Guest.objects.create(organisation=org, name="Current Carla")
    later_guest = Guest.objects.create(organisation=org, name="Later Lars")
    book(unit, now_guest)
    later = book(room2, later_guest, hours=(48, 72))
    ended = book(room2, Guest.objects.create(organisation=org, name="Past Paula"), hours=(-30, 5))
    services.check_out_stay(ended)

    def names(**params: str) -> str:
        return desk.get(reverse("desk:stays"), params).content.decode()

    assert "Current Carla" in names()
    assert "Later Lars" not in names()
    assert "Later Lars" in names(when="upcoming")
    assert "Current Carla" not in names(when="upcoming")
    assert "Past Paula" in names(when="past")
    assert "Hotel stay" in names(when="past")
    assert "Current Carla" in names(q="room 12")
    assert "Current Carla" not in names(q="lars")
    partial = desk.get(
        reverse("desk:stays"), {"when": "upcoming"}, headers={"HX-Request": "true", "HX-Target": "stay-results"}
    )
    assert partial.content.decode().lstrip().startswith('<div id="stay-results">')
    services.cancel_stay(later)  # now two past stays: one per page
    monkeypatch.setattr("tenants.views.STAYS_PER_PAGE", 1)
    first, second = names(when="past"), names(when="past", page="2")
    assert "Page 1 of" in first
    assert "Page 2 of" not in first
    assert 'rel="next"' in first
    assert "Page 2 of" in second


def test_stays_list_shows_leases_as_long_term(desk: Client, lock: Any, unit: Unit, org: Any) -> None:
    tenant = Guest.objects.create(organisation=org, name="Tenant Tom")
    now = timezone.now()
    services.book_stay(
        unit=unit, guest=tenant, check_in=now - timedelta(days=1), check_out=now + timedelta(days=300), kind="long_term"
    )
    html = desk.get(reverse("desk:stays")).content.decode()
    assert "Tenant Tom" in html
    assert "Long-term lease" in html


def test_a_booked_guest_who_arrives_is_checked_in_from_the_stay_page(desk: Client, lock: Any, guest: Any) -> None:
    from tenants import services

    now = timezone.now()
    later = services.book_stay(
        unit=lock.unit, guest=guest, check_in=now + timedelta(hours=3), check_out=now + timedelta(days=1)
    )
    assert later.status == Stay.Status.BOOKED
    html = desk.get(reverse("desk:stay", args=[later.pk])).content.decode()
    assert "Guest has arrived: check in" in html
    response = desk.post(reverse("desk:stay-check-in", args=[later.pk]), follow=True)
    assert "Checked in: the guest has arrived." in response.content.decode()
    later.refresh_from_db()
    assert later.status == Stay.Status.CHECKED_IN
    assert AuditEvent.objects.filter(action="stay.check_in", object_id=str(later.pk)).exists()


# --- the room picker, dates with their year (issue 11, D.18) -------------------------------------------------------


def test_the_room_picker_says_which_rooms_are_free_for_the_chosen_times(
    desk: Client, stay: Stay, org: Any, unit: Unit
) -> None:
    spare = Unit.objects.create(property=unit.property, name="Room 14")
    offline_lock(org, spare, name="Room 14 door")
    until = timezone.localtime(stay.check_out, AMS)
    html = desk.get(reverse("desk:today")).content.decode()  # the defaults: now until tomorrow 11:00
    picker = field_block(html, "unit")
    assert f"Room 12 · taken until {until:%a} {until.day} {until:%b %H:%M}" in picker
    assert "Room 14 · free" in picker
    assert 'hx-get="/desk/rooms/"' in field_block(html, "check_out")  # asked again when the times change
    later = timezone.now() + timedelta(days=3)
    times = {"check_in": local(later), "check_out": local(later + timedelta(days=1)), "unit": str(spare.pk)}
    again = desk.get(reverse("desk:rooms"), times).content.decode()
    assert "Room 12 · free" in again
    assert re.search(rf'<option value="{spare.pk}" selected>', again)
    # A lease that ends next year says so.
    Stay.objects.filter(pk=stay.pk).update(check_out=stay.check_in + timedelta(days=400))
    shown = desk.get(reverse("desk:rooms"), {**times, "unit": ""}).content.decode()
    assert f"taken until {timezone.localtime(stay.check_in + timedelta(days=400), AMS):%a} " in shown
    assert str((timezone.localtime(stay.check_in, AMS) + timedelta(days=400)).year) in shown
    for nasty in ["", "x", "²", "9" * 30, "2027-03-28T02:30", "<b>"]:
        response = desk.get(reverse("desk:rooms"), {"check_in": nasty, "check_out": nasty, "unit": nasty})
        assert response.status_code == 200, nasty


def test_a_viewer_gets_no_room_picker(viewer: Client, stay: Stay) -> None:
    assert viewer.get(reverse("desk:rooms")).status_code == 403


def test_code_dates_show_the_year_only_when_it_is_not_this_year(desk: Client, stay: Stay) -> None:
    code = stay.access_codes.get()
    html = desk.get(reverse("desk:stay", args=[stay.pk])).content.decode()
    start = timezone.localtime(code.starts_at, AMS)
    assert f"{start.day} {start:%b %H:%M}" in html  # this year: no year beside the code's window
    AccessCode.objects.filter(pk=code.pk).update(ends_at=code.starts_at + timedelta(days=400))
    end = timezone.localtime(code.starts_at + timedelta(days=400), AMS)
    html = desk.get(reverse("desk:stay", args=[stay.pk])).content.decode()
    assert f"{end.day} {end:%b %Y %H:%M}" in html
