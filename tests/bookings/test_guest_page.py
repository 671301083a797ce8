"""The guest page (`/g/<token>/`, no sign-in) and the desk's buttons that hand its link out (issue 14).

The stays are booked through tenants.services on a lock whose cloud is never called (on_commit does not run under
`django_db`), and a code "reaches" its lock by setting its status, as the convergence job would. The fallback offline
passwords are LockOperation rows made directly, as fixtures: the arrival guarantee (bookings/arrivals.py) writes them,
this page only reads them.
"""

# ruff: noqa: F811  (the fixtures imported below are parameters of the tests)
from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from bookings import guest_pass
from bookings.models import Arrival, GuestPass
from locks.models import AccessCode, Alert, Lock, LockOperation
from tenants import services
from tenants.models import Guest, Membership, Organisation, Property, Stay, Unit
from tests.conftest import production_log
from tests.locks.conftest import front_desk, guest, org, owner, queues, unit  # noqa: F401
from tests.tenants.conftest import book, desk, lock, offline_lock, other_stay, stay, viewer  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_budget(queues: None, settings: Any) -> None:
    """Empty Redis (the rate limit's counters) and fast hashing for every test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def address(unit: Unit) -> Property:
    prop = unit.property
    prop.address = "Keizersgracht 12, Amsterdam"
    prop.save()
    return prop


def on_the_lock(stay: Stay) -> list[AccessCode]:
    """The convergence job's verdict: every code of the stay confirmed on its lock."""
    AccessCode.objects.filter(stay=stay).update(status=AccessCode.Status.SET)
    return list(AccessCode.objects.filter(stay=stay))


def second_door(org: Organisation, unit: Unit) -> None:
    """A front door (offline_lock) and a back door on the same room."""
    offline_lock(org, unit, "Front door")
    front = Lock.objects.get(unit=unit)
    Lock.objects.create(
        organisation=org, cloud_account=front.cloud_account, unit=unit, device_id="dev-back", name="Back door",
        kind="wifi",
    )  # fmt: skip


def page_of(stay: Stay) -> str:
    return reverse("guest:stay", kwargs={"token": guest_pass.pass_for(stay).token})


def door_of(stay: Stay) -> str:
    return reverse("guest:door", kwargs={"token": guest_pass.pass_for(stay).token})


# --- what the page shows -----------------------------------------------------------------------------------------


def test_within_the_window_the_page_shows_the_address_room_window_and_pin(
    client: Client,
    stay: Stay,
    address: Property,
) -> None:
    (code,) = on_the_lock(stay)
    response = client.get(page_of(stay))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Keizersgracht 12, Amsterdam" in html
    assert "Canal Hotel" in html
    assert "Room 12" in html
    zone = stay.unit.property.tz
    assert timezone.localtime(stay.check_in, zone).strftime("%H:%M") in html
    assert timezone.localtime(stay.check_out, zone).strftime("%H:%M") in html
    assert "Europe/Amsterdam" in html
    assert re.search(rf'<p class="pin"[^>]*>{code.pin}</p>', html)
    assert "The door did not open" in html
    assert response["Cache-Control"] == "no-store"
    assert response["X-Robots-Tag"].startswith("noindex")
    assert response["Referrer-Policy"] == "strict-origin"
    assert "Content-Security-Policy" in response
    assert "<script" not in html
    assert " style=" not in html
    assert "<style" not in html


def test_a_code_not_yet_on_the_lock_is_being_set_up_never_a_pin(client: Client, stay: Stay) -> None:
    (code,) = list(AccessCode.objects.filter(stay=stay))
    assert code.status != AccessCode.Status.SET
    html = client.get(page_of(stay)).content.decode()
    assert "being set up" in html
    assert "check again in a few minutes" in html
    assert code.pin not in html


def test_two_doors_with_different_pins_are_listed_per_door(
    client: Client,
    org: Organisation,
    unit: Unit,
    guest: Guest,
) -> None:
    second_door(org, unit)
    the_stay = book(unit, guest)
    codes = on_the_lock(the_stay)
    assert len(codes) == 2
    front, rear = sorted(codes, key=lambda c: c.lock.name, reverse=True)
    if front.pin == rear.pin:  # the service gives a stay one PIN on every lock when it can: make them differ
        AccessCode.objects.filter(pk=rear.pk).update(pin="7777123")
        rear.refresh_from_db()
    AccessCode.objects.filter(pk=rear.pk).update(status=AccessCode.Status.SENDING)
    html = client.get(page_of(the_stay)).content.decode()
    assert "Front door" in html
    assert "Back door" in html
    assert front.pin in html
    assert rear.pin not in html
    assert "being set up" in html


def test_one_pin_on_every_door_is_shown_once(
    client: Client,
    org: Organisation,
    unit: Unit,
    guest: Guest,
) -> None:
    second_door(org, unit)
    the_stay = book(unit, guest)
    codes = on_the_lock(the_stay)
    AccessCode.objects.filter(stay=the_stay).update(pin=codes[0].pin)
    html = client.get(page_of(the_stay)).content.decode()
    assert html.count(f">{codes[0].pin}</p>") == 1
    assert "Back door, Front door" in html


def test_the_fallback_offline_password_is_shown_with_its_window(
    client: Client,
    stay: Stay,
    lock: Lock,
) -> None:
    on_the_lock(stay)
    start = stay.check_in.replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=6)
    operation = LockOperation.objects.create(
        organisation=lock.organisation,
        lock=lock,
        kind=LockOperation.Kind.OFFLINE_PASSWORD,
        status=LockOperation.Status.DONE,
        secret="8642097531",
        result={"effective_time": int(start.timestamp()), "invalid_time": int(end.timestamp())},
    )
    failed = LockOperation.objects.create(
        organisation=lock.organisation, lock=lock, kind=LockOperation.Kind.OFFLINE_PASSWORD,
        status=LockOperation.Status.FAILED, secret="1357924680",
    )  # fmt: skip
    arrival = Arrival.objects.create(stay=stay, state=Arrival.State.FALLBACK)
    arrival.fallback_operations.set([operation, failed])
    html = client.get(page_of(stay)).content.decode()
    assert "If the code does not work" in html
    assert "8642097531" in html
    assert "1357924680" not in html  # a password the lock never got is no help
    zone = stay.unit.property.tz
    assert timezone.localtime(start, zone).strftime("%H:%M") in html
    assert timezone.localtime(end, zone).strftime("%H:%M") in html


def test_no_fallback_section_without_one(client: Client, stay: Stay) -> None:
    on_the_lock(stay)
    Arrival.objects.create(stay=stay)
    assert "If the code does not work" not in client.get(page_of(stay)).content.decode()


# --- when the page shows nothing ----------------------------------------------------------------------------------


def secrets_of(stay: Stay) -> list[str]:
    return [stay.guest.name, stay.unit.name, *[code.pin for code in AccessCode.objects.filter(stay=stay)]]


def test_before_the_window_only_not_valid_yet_and_the_date(
    client: Client,
    lock: Lock,
    unit: Unit,
    guest: Guest,
) -> None:
    later = book(unit, guest, hours=(30, 50))
    on_the_lock(later)
    response = client.get(page_of(later))
    html = response.content.decode()
    assert response.status_code == 200
    assert "not valid yet" in html
    opens = timezone.localtime(later.check_in - timedelta(hours=24), later.unit.property.tz)
    assert opens.strftime("%H:%M") in html
    for secret in secrets_of(later):
        assert secret not in html
    # Just inside the window the page opens.
    tomorrow = book(unit, guest, hours=(23, 25))
    assert client.get(page_of(tomorrow)).status_code == 200
    assert "not valid yet" not in client.get(page_of(tomorrow)).content.decode()


@pytest.mark.parametrize("how", ["over", "checked out", "cancelled", "revoked", "unknown"])
def test_an_ended_cancelled_revoked_or_unknown_link_shows_nothing_of_the_stay(
    client: Client,
    stay: Stay,
    address: Property,
    how: str,
) -> None:
    on_the_lock(stay)
    url = page_of(stay)
    hidden = [*secrets_of(stay), "Keizersgracht"]
    if how == "over":
        Stay.objects.filter(pk=stay.pk).update(
            check_in=timezone.now() - timedelta(days=3), check_out=timezone.now() - timedelta(minutes=1)
        )
    elif how == "checked out":
        services.check_out_stay(stay)
    elif how == "cancelled":
        services.cancel_stay(stay)
    elif how == "revoked":
        GuestPass.objects.filter(stay=stay).update(revoked_at=timezone.now())
    else:
        url = reverse("guest:stay", kwargs={"token": "x" * 32})
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 404
    assert "This link is no longer valid" in html
    for secret in hidden:
        assert secret not in html
    assert response["Cache-Control"] == "no-store"
    # Not a hint either way: an unknown token gets the very same page.
    unknown = client.get(reverse("guest:stay", kwargs={"token": "y" * 32}))
    assert unknown.status_code == 404
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
    assert strip.sub("", unknown.content.decode()) == strip.sub("", html)
    # And the door button of such a link tells nobody anything.
    assert client.post(url.replace("/g/", "/g/").rstrip("/") + "/door/").status_code == 404
    assert not Alert.objects.exists()


def test_a_token_opens_only_its_own_stay(
    client: Client,
    stay: Stay,
    other_stay: Stay,
    unit: Unit,
    guest: Guest,
) -> None:
    mine = on_the_lock(stay)
    theirs = on_the_lock(other_stay)
    neighbour = book(unit, Guest.objects.create(organisation=stay.guest.organisation, name="Bob Neighbour"), (30, 40))
    html = client.get(page_of(other_stay)).content.decode()
    assert "Harbour Inn" in html
    assert theirs[0].pin in html
    for leaked in [stay.guest.name, mine[0].pin, "Canal Hotel", "Room 12", neighbour.guest.name]:
        assert leaked not in html
    html = client.get(page_of(stay)).content.decode()
    assert mine[0].pin in html
    assert theirs[0].pin not in html
    assert "Grace Hopper" not in html


# --- the door did not open ------------------------------------------------------------------------------------


def csrf_pair(browser: Client, url: str) -> str:
    """What a browser without a session has after opening the page: the cookie, and the form's token."""
    html = browser.get(url).content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the page's form carries a CSRF token"
    assert "csrftoken" in browser.cookies
    return match.group(1)


def test_the_door_button_raises_one_alert_and_counts_a_repeat(stay: Stay, lock: Lock) -> None:
    on_the_lock(stay)
    browser = Client(enforce_csrf_checks=True)  # a guest: no session, CSRF checked as in production
    token = csrf_pair(browser, page_of(stay))
    response = browser.post(door_of(stay), {"csrfmiddlewaretoken": token})
    assert response.status_code == 303
    assert response["Location"].endswith("?reported=1")
    told = browser.get(response["Location"]).content.decode()
    assert "The front desk has been told" in told
    alert = Alert.objects.get()
    assert alert.kind == Alert.Kind.DOOR_DID_NOT_OPEN
    assert alert.lock == lock
    assert alert.organisation_id == lock.organisation_id
    assert "Ada Lovelace" in alert.text
    assert "Room 12" in alert.text
    assert "Europe/Amsterdam" in alert.text
    assert alert.count == 1
    browser.post(door_of(stay), {"csrfmiddlewaretoken": token})
    alert.refresh_from_db()
    assert Alert.objects.count() == 1
    assert alert.count == 2
    rows = AuditEvent.objects.filter(action="guest_page.door_not_open")
    assert rows.count() == 2
    assert rows.first().object_id == str(stay.pk)
    pins = [code.pin for code in AccessCode.objects.filter(stay=stay)]
    assert not any(pin in (alert.text + "".join(r.summary for r in rows)) for pin in pins)


def test_the_door_button_needs_the_csrf_token(stay: Stay, lock: Lock) -> None:
    browser = Client(enforce_csrf_checks=True)
    csrf_pair(browser, page_of(stay))
    assert browser.post(door_of(stay)).status_code == 403
    assert browser.post(door_of(stay), {"csrfmiddlewaretoken": "x" * 64}).status_code == 403
    assert not Alert.objects.exists()
    assert browser.get(door_of(stay)).status_code == 405


def test_each_alert_is_per_stay(
    client: Client,
    stay: Stay,
    lock: Lock,
    unit: Unit,
    org: Organisation,
) -> None:
    room = Unit.objects.create(property=unit.property, name="Room 14")
    Lock.objects.create(organisation=org, cloud_account=lock.cloud_account, unit=room, device_id="dev-14", name="14")
    second = book(room, Guest.objects.create(organisation=org, name="Bob Second"), (-1, 20))
    client.post(door_of(stay))
    client.post(door_of(second))
    assert Alert.objects.count() == 2


# --- rate limit, audit, logs ----------------------------------------------------------------------------------


def test_too_many_requests_per_link_or_per_address_are_429_in_words(
    stay: Stay,
    settings: Any,
    unit: Unit,
    guest: Guest,
) -> None:
    settings.GUEST_PAGE_RATE_LIMIT_PER_MINUTE = 3
    url = page_of(stay)
    # The same link from three addresses, then a fourth: the link's budget is spent.
    for n in range(3):
        assert Client(REMOTE_ADDR=f"203.0.113.{n}").get(url).status_code == 200
    refused = Client(REMOTE_ADDR="203.0.113.9").get(url)
    assert refused.status_code == 429
    assert "Too many requests" in refused.content.decode()
    assert "try again in" in refused.content.decode()
    assert 1 <= int(refused["Retry-After"]) <= 61
    assert refused["Cache-Control"] == "no-store"
    assert stay.guest.name not in refused.content.decode()
    # One address asking for other links (unknown ones too): its own budget is spent.
    walker = Client(REMOTE_ADDR="198.51.100.7")
    answers = [walker.get(reverse("guest:stay", kwargs={"token": f"guess{n:030d}"})).status_code for n in range(4)]
    assert answers == [404, 404, 404, 429]
    # The door button counts too.
    assert walker.post(door_of(stay)).status_code == 429
    assert not Alert.objects.exists()


def test_showing_the_pin_is_audited_at_most_once_an_hour_without_the_pin(
    client: Client,
    stay: Stay,
) -> None:
    (code,) = on_the_lock(stay)
    for _ in range(3):
        client.get(page_of(stay))
    rows = list(AuditEvent.objects.filter(action="guest_page.code_viewed"))
    assert len(rows) == 1
    assert rows[0].object_id == str(stay.pk)
    assert rows[0].organisation_id == stay.unit.property.organisation_id
    assert code.pin not in rows[0].summary
    assert guest_pass.pass_for(stay).token not in rows[0].summary
    # An hour later it is written again.
    AuditEvent.objects.filter(pk=rows[0].pk).update(at=timezone.now() - timedelta(minutes=61))
    client.get(page_of(stay))
    assert AuditEvent.objects.filter(action="guest_page.code_viewed").count() == 2


def test_no_pin_no_audit_of_a_view(client: Client, stay: Stay) -> None:
    client.get(page_of(stay))  # the code is still being set up
    assert not AuditEvent.objects.filter(action="guest_page.code_viewed").exists()


def test_the_token_never_reaches_the_logs(client: Client, stay: Stay) -> None:
    on_the_lock(stay)
    token = guest_pass.pass_for(stay).token
    with production_log(logging.DEBUG) as log:
        client.get(page_of(stay))
        client.get(reverse("guest:stay", kwargs={"token": "z" * 32}))  # Django's "Not Found: <path>" warning
        Client(enforce_csrf_checks=True).post(door_of(stay))  # a CSRF refusal, audited with its path
    written = log.getvalue()
    assert "/g/***/" in written
    assert token not in written
    assert "z" * 32 not in written
    assert not AuditEvent.objects.filter(summary__contains=token).exists()


# --- the desk: the link on the stay page ---------------------------------------------------------------------


def test_the_front_desk_shows_the_link_by_post_only(desk: Client, stay: Stay) -> None:
    page = desk.get(reverse("desk:stay", args=[stay.pk])).content.decode()
    assert "Guest page" in page
    assert "Show the guest page link" in page
    made = GuestPass.objects.filter(stay=stay).first()
    assert made is None or made.token not in page
    response = desk.post(reverse("guest:link-show", args=[stay.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    token = GuestPass.objects.get(stay=stay).token
    assert f"/g/{token}/" in response.content.decode()
    assert AuditEvent.objects.filter(action="guest_page.link_shown", object_id=str(stay.pk)).count() == 1
    assert token not in desk.get(reverse("desk:stay", args=[stay.pk])).content.decode()  # GET never shows it
    # The htmx answer is the section alone.
    part = desk.post(reverse("guest:link-show", args=[stay.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert part.lstrip().startswith('<section id="guest-page"')
    assert token in part


def test_a_new_link_kills_the_old_one_and_revoke_kills_it(client: Client, desk: Client, stay: Stay) -> None:
    on_the_lock(stay)
    old = page_of(stay)
    assert client.get(old).status_code == 200
    response = desk.post(reverse("guest:link-new", args=[stay.pk]))
    new_token = GuestPass.objects.get(stay=stay).token
    assert f"/g/{new_token}/" in response.content.decode()
    assert client.get(old).status_code == 404
    assert client.get(f"/g/{new_token}/").status_code == 200
    desk.post(reverse("guest:link-revoke", args=[stay.pk]))
    assert client.get(f"/g/{new_token}/").status_code == 404
    page = desk.post(reverse("guest:link-show", args=[stay.pk])).content.decode()
    assert new_token not in page
    assert "revoked" in page
    desk.post(reverse("guest:link-new", args=[stay.pk]))
    assert client.get(page_of(stay)).status_code == 200
    actions = set(AuditEvent.objects.filter(object_id=str(stay.pk)).values_list("action", flat=True))
    assert {"guest_page.link_renewed", "guest_page.revoked"} <= actions


def test_a_viewer_gets_no_section_and_no_link(viewer: Client, stay: Stay) -> None:
    page = viewer.get(reverse("desk:stay", args=[stay.pk])).content.decode()
    assert "Show the guest page link" not in page
    for name in ("guest:link-show", "guest:link-new", "guest:link-revoke"):
        assert viewer.post(reverse(name, args=[stay.pk])).status_code == 403
    assert not GuestPass.objects.filter(stay=stay).exists()


def test_a_limited_desk_reaches_only_its_own_propertys_stays(
    client: Client,
    front_desk: Any,
    stay: Stay,
    org: Organisation,
    guest: Guest,
) -> None:
    elsewhere = Property.objects.create(organisation=org, name="Annex", kind=Property.Kind.HOTEL)
    room = Unit.objects.create(property=elsewhere, name="Annex 1")
    offline_lock(org, room)
    annex_stay = book(room, guest)
    Membership.objects.get(user=front_desk).limit_to([stay.unit.property])
    client.force_login(front_desk)
    assert client.post(reverse("guest:link-show", args=[stay.pk])).status_code == 200
    assert client.post(reverse("guest:link-show", args=[annex_stay.pk])).status_code == 404
    assert client.post(reverse("guest:link-new", args=[annex_stay.pk])).status_code == 404
    assert not GuestPass.objects.filter(stay=annex_stay).exists()


def test_another_organisations_stay_is_404(desk: Client, other_stay: Stay) -> None:
    for name in ("guest:link-show", "guest:link-new", "guest:link-revoke"):
        assert desk.post(reverse(name, args=[other_stay.pk])).status_code == 404
    assert not GuestPass.objects.filter(stay=other_stay).exists()


def test_the_desk_buttons_need_csrf(front_desk: Any, stay: Stay) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(front_desk)
    assert browser.post(reverse("guest:link-show", args=[stay.pk])).status_code == 403
    assert not GuestPass.objects.filter(stay=stay).exists()


def test_an_ended_stay_hands_out_nothing(desk: Client, stay: Stay) -> None:
    services.check_out_stay(stay)
    response = desk.post(reverse("guest:link-show", args=[stay.pk]), follow=True)
    assert not GuestPass.objects.filter(stay=stay).exists()
    assert "opens nothing" in response.content.decode()
