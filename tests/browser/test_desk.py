"""The front desk in a real browser: check in by keyboard, watch the code reach the lock, reveal it, open the
door with it, check out and see the lock confirm the removal; scoping, CSRF and roles as a browser meets them."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from playwright.sync_api import expect

from locks.models import CloudAccount, Lock
from tenants import reauth, services
from tenants.models import Guest, Membership, Organisation, Property, Role, Stay, Unit
from tests.browser.conftest import DESKTOP, PHONE, screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
DESK = ("desk", "pw-desk-1")
SETTLE = 30_000  # ms: the simulator delivers in 0.2 s; this is only a ceiling


def test_check_in_by_keyboard_reveal_open_check_out_and_the_pin_stops_working(
    signed_in: Callable[..., Any], front_desk: Any, make_lock: Callable[..., Lock], world: Any, workers: None
) -> None:
    lock = make_lock("wifi")
    page = signed_in(*DESK)
    page.goto("/desk/")
    screenshot(page, "desk-desktop-empty")

    # Keyboard only: the room select has the focus, type to pick, Tab through, Enter checks in.
    expect(page.get_by_label("Room or unit")).to_be_focused()
    page.keyboard.type("Canal Hotel · Room 12")
    page.keyboard.press("Tab")
    page.keyboard.type("Ada Lovelace")
    page.keyboard.press("Tab")
    page.keyboard.type("ada@example.com")
    page.keyboard.press("Enter")

    page.wait_for_url("**/desk/stays/*/")
    stay = Stay.objects.get()
    assert (stay.guest.name, stay.unit.name) == ("Ada Lovelace", "Room 12")
    expect(page.locator(".code-status .chip")).to_have_text("On the lock", timeout=SETTLE)
    pin_cell = page.locator(".pin-cell")
    expect(pin_cell.locator(".pin")).to_have_text("•" * 7)
    screenshot(page, "stay-desktop")

    pin_cell.get_by_role("button", name="Show PIN").click()
    revealed = pin_cell.locator(".pin.revealed")
    expect(revealed).to_have_text(stay.access_codes.get().pin)
    pin = revealed.inner_text()
    assert world.opens(lock.device_id, pin)

    # Check out asks first: a stray click changes nothing (issue 11, D.18).
    page.get_by_role("button", name="Check out").click()
    expect(page.get_by_role("heading", name="Check this guest out?")).to_be_visible()
    expect(page.locator("main")).to_contain_text("can no longer open the door")
    screenshot(page, "stay-check-out-confirm")
    page.get_by_role("link", name="No, keep the stay").click()
    expect(page.locator(".code-status .chip")).to_have_text("On the lock")
    assert Stay.objects.get().status == Stay.Status.CHECKED_IN
    assert world.opens(lock.device_id, pin)
    page.get_by_role("button", name="Check out").click()
    page.get_by_role("button", name="Yes, check out").click()
    expect(page.locator("#removal")).to_have_text("Code removed from the lock.", timeout=SETTLE)
    expect(page.locator(".code-status .chip")).to_have_text("Removed from the lock", timeout=SETTLE)
    assert not world.opens(lock.device_id, pin)
    screenshot(page, "stay-desktop-checked-out")

    page.goto("/desk/")
    expect(page.locator("#arrivals-title")).to_contain_text("1")
    screenshot(page, "desk-desktop")


def test_cancel_asks_first_also_without_javascript(
    browser: Any, live_server: Any, front_desk: Any, make_lock: Callable[..., Lock], unit: Unit, workers: None
) -> None:
    make_lock("wifi")
    guest = Guest.objects.create(organisation=unit.property.organisation, name="Ada Lovelace")
    now = timezone.now()
    stay = services.book_stay(unit=unit, guest=guest, check_in=now, check_out=now + timedelta(days=2))
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(DESK[0])
        page.get_by_label("Password").fill(DESK[1])
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"/desk/stays/{stay.pk}/")
        page.get_by_role("button", name="Cancel stay").click()
        expect(page.get_by_role("heading", name="Cancel this stay?")).to_be_visible()
        stay.refresh_from_db()
        assert stay.status == Stay.Status.CHECKED_IN  # only asked
        page.get_by_role("button", name="Yes, cancel the stay").click()
        expect(page.locator("main")).to_contain_text("Stay cancelled")
        stay.refresh_from_db()
        assert stay.status == Stay.Status.CANCELLED
    finally:
        context.close()


def other_organisations_stay() -> Stay:
    other = Organisation.objects.create(name="Harbour Inn", slug="harbour")
    prop = Property.objects.create(organisation=other, name="Harbour Inn", kind=Property.Kind.HOTEL)
    room = Unit.objects.create(property=prop, name="Room 1")
    cloud = CloudAccount.objects.create(
        organisation=other, name="Cloud", endpoint="http://127.0.0.1:9", access_id="x", access_secret="y"
    )
    Lock.objects.create(
        organisation=other, cloud_account=cloud, unit=room, device_id="harbour-1", name="Door", kind="wifi"
    )
    now = timezone.now()
    guest = Guest.objects.create(organisation=other, name="Grace Hopper")
    return services.book_stay(unit=room, guest=guest, check_in=now, check_out=now + timedelta(days=1))


def test_another_organisations_stay_and_slip_are_not_found_and_no_token_is_refused(
    signed_in: Callable[..., Any], front_desk: Any, org: Organisation
) -> None:
    theirs = other_organisations_stay()
    code = theirs.access_codes.get()
    page = signed_in(*DESK)
    assert page.goto(f"/desk/stays/{theirs.pk}/").status == 404
    assert page.goto(f"/desk/codes/{code.pk}/status/").status == 404
    page.goto("/desk/")
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    for url in (
        f"/desk/stays/{theirs.pk}/slip/",
        f"/desk/codes/{code.pk}/reveal/",
        f"/desk/stays/{theirs.pk}/check-out/",
    ):
        assert page.request.post(url, headers={"X-CSRFToken": token}).status == 404, url
        assert page.request.post(url).status == 403, url  # no CSRF token: refused before anything else
    theirs.refresh_from_db()
    assert theirs.status == Stay.Status.CHECKED_IN  # untouched: still in the house


def test_the_slip_shows_qr_and_pin_to_the_desk_and_a_viewer_sees_neither(
    signed_in: Callable[..., Any],
    front_desk: Any,
    org: Organisation,
    make_lock: Callable[..., Lock],
    unit: Unit,
    django_user_model: Any,
    workers: None,
) -> None:
    make_lock("zigbee_hotel")
    now = timezone.now()
    guest = Guest.objects.create(
        organisation=org, name="Ada Lovelace", email="ada@example.com", phone="+31 20 555 0101"
    )
    stay = services.book_stay(
        unit=unit, guest=guest, check_in=now - timedelta(hours=1), check_out=now + timedelta(days=2)
    )
    pin = stay.access_codes.get().pin

    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = signed_in(*DESK, viewport=viewport)
        page.goto(f"/desk/stays/{stay.pk}/")
        expect(page.locator(".code-status .chip")).to_have_text("On the lock", timeout=SETTLE)
        assert pin not in page.content()
        if size == "phone":
            screenshot(page, "stay-phone")
            page.goto("/desk/")
            screenshot(page, "desk-phone")
            page.goto(f"/desk/stays/{stay.pk}/")
        page.get_by_role("button", name="Print welcome slip").click()
        page.wait_for_url(f"**/desk/stays/{stay.pk}/slip/")
        expect(page.locator(".slip-pin")).to_have_text(pin)
        expect(page.locator(".slip-room")).to_have_text("Room 12")
        expect(page.locator(".slip-qr svg")).to_be_visible()
        expect(page.get_by_text("Europe/Amsterdam")).to_be_visible()
        screenshot(page, f"slip-{size}")

    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-1")
    Membership.objects.create(user=viewer, organisation=org, role=Role.VIEWER)
    page = signed_in("viewer", "pw-viewer-1")
    page.goto(f"/desk/stays/{stay.pk}/")
    expect(page.locator(".code-status .chip")).to_have_text("On the lock")
    expect(page.get_by_role("button", name="Show PIN")).to_have_count(0)
    expect(page.get_by_role("button", name="Print welcome slip")).to_have_count(0)
    assert pin not in page.content()
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    refused = page.request.post(f"/desk/stays/{stay.pk}/slip/", headers={"X-CSRFToken": token})
    assert refused.status == 403
    assert pin not in refused.text()


def age_the_sign_in(page: Any, seconds: int) -> None:
    """Move the session's last sign-in or password confirmation `seconds` into the past, in the database."""
    key = next(c["value"] for c in page.context.cookies() if c["name"].endswith("sessionid"))
    session = SessionStore(session_key=key)
    session[reauth.SESSION_KEY] = int(time.time()) - seconds
    session.save()


def test_show_pin_long_after_signing_in_asks_for_the_password_then_shows_it(
    signed_in: Callable[..., Any], front_desk: Any, org: Organisation, make_lock: Callable[..., Lock], unit: Unit
) -> None:
    make_lock("zigbee_hotel")
    now = timezone.now()
    guest = Guest.objects.create(organisation=org, name="Ada Lovelace")
    stay = services.book_stay(
        unit=unit, guest=guest, check_in=now - timedelta(hours=1), check_out=now + timedelta(days=2)
    )
    pin = stay.access_codes.get().pin
    page = signed_in(*DESK)
    page.goto(f"/desk/stays/{stay.pk}/")
    age_the_sign_in(page, 600)

    # The htmx button: the whole page goes to the confirm page, which says why and how to go on.
    page.locator(".pin-cell").get_by_role("button", name="Show PIN").click()
    page.wait_for_url("**/accounts/confirm/?next=*")
    expect(page.get_by_role("heading", name="Confirm your password")).to_be_visible()
    expect(page.locator("#messages")).to_contain_text("Confirm your password, then try again.")
    assert pin not in page.content()
    page.get_by_label("Your password").fill("not-my-password")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("main")).to_contain_text("That is not your password.")
    page.get_by_label("Your password").fill(DESK[1])
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"**/desk/stays/{stay.pk}/")  # back on the page the button was on
    page.locator(".pin-cell").get_by_role("button", name="Show PIN").click()
    expect(page.locator(".pin-cell .pin.revealed")).to_have_text(pin)


def test_the_room_picker_says_which_rooms_are_free_for_the_times_on_the_form(
    signed_in: Callable[..., Any], front_desk: Any, make_lock: Callable[..., Lock], unit: Unit, workers: None
) -> None:
    make_lock("wifi")
    spare = Unit.objects.create(property=unit.property, name="Room 14")
    Lock.objects.create(
        organisation=unit.property.organisation,
        cloud_account=CloudAccount.objects.get(),
        unit=spare,
        device_id="spare-door",
        name="Room 14 door",
        kind="wifi",
    )
    guest = Guest.objects.create(organisation=unit.property.organisation, name="Ada Lovelace")
    now = timezone.now()
    services.book_stay(unit=unit, guest=guest, check_in=now, check_out=now + timedelta(days=2))
    page = signed_in(*DESK)
    page.goto("/desk/")
    picker = page.get_by_label("Room or unit")
    expect(picker.locator("option", has_text="Room 12 · taken until")).to_have_count(1)
    expect(picker.locator("option", has_text="Room 14 · free")).to_have_count(1)
    picker.select_option(label="Canal Hotel · Room 14 · free")
    later = (now + timedelta(days=5)).astimezone(unit.property.tz)
    page.get_by_label("Check-in").fill(later.strftime("%Y-%m-%dT14:00"))
    page.get_by_label("Check-out").fill((later + timedelta(days=1)).strftime("%Y-%m-%dT11:00"))
    page.get_by_label("Check-out").blur()  # "change" fires: the picker is asked again for these times
    picker = page.get_by_label("Room or unit")
    expect(picker.locator("option", has_text="Room 12 · free")).to_have_count(1)
    expect(picker).to_have_value(str(spare.pk))  # the choice survives the refresh
    screenshot(page, "desk-room-picker")
