"""A unit's arrival link in a real browser: the owner shows it on the Calendar feeds page, a guest with no session (on
a phone) opens it, types the last 4 digits the Airbnb export gave, posts the form (CSRF checked against the cookie
the page set, no JavaScript involved) and lands on their stay's guest page with the code the simulated lock has."""

# ruff: noqa: F811  (fixtures are parameters of the tests)
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import CalendarFeed, FeedEvent
from locks.models import AccessCode, Lock
from tenants.models import Unit
from tests.browser.conftest import PHONE, screenshot
from tests.browser.test_csp import watch_violations
from tests.browser.test_guest_page import booked_with_code_on_the_lock
from tests.locks.conftest import owner  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
OWNER = ("owner", "pw-owner-1")


def test_the_guest_types_their_digits_and_lands_on_their_guest_page(
    signed_in: Callable[..., Any],
    new_page: Callable[..., Any],
    owner: Any,
    make_lock: Callable[..., Lock],
    unit: Unit,
    world: Any,
    workers: None,
) -> None:
    lock = make_lock("wifi")
    landlord = signed_in(*OWNER)
    stay = booked_with_code_on_the_lock(unit, landlord)
    feed = CalendarFeed.objects.create(
        organisation=unit.property.organisation, unit=unit, name="Airbnb", url="https://example.com/a.ics"
    )
    FeedEvent.objects.create(  # what the sync of a bare Airbnb export leaves (tests/bookings/test_unit_link.py)
        feed=feed, uid="hm1@airbnb.com", starts_at=stay.check_in, ends_at=stay.check_out, stay=stay,
        state=FeedEvent.State.BOOKED, phone_last_digits="4321", last_seen_at=timezone.now(),
    )  # fmt: skip

    landlord_violations = watch_violations(landlord)
    landlord.goto(f"/properties/{unit.property_id}/calendar-feeds/")
    section = landlord.locator(f"#arrival-link-{unit.pk}")
    expect(section).to_contain_text("Airbnb check-in instructions")
    section.get_by_role("button", name="Show arrival link").click()
    url = landlord.locator(f"#arrival-link-{unit.pk}").get_by_label("Arrival link of Room 12").input_value()
    assert "/u/" in url
    path = url[url.index("/u/") :]

    guest = new_page(PHONE)  # a fresh context: no session, no cookies
    violations = watch_violations(guest)
    guest.goto(path)
    expect(guest.get_by_role("heading", name="Canal Hotel")).to_be_visible()
    expect(guest.locator("main")).to_contain_text("Room 12")
    assert "Ada" not in guest.content()
    screenshot(guest, "arrival-link-phone")

    digits = guest.get_by_label("Last 4 digits of the phone number on your booking")
    digits.fill("9999")
    guest.get_by_role("button", name="Show my stay").click()
    expect(guest.get_by_role("alert")).to_contain_text("We could not find a stay for these digits today")
    assert "Ada" not in guest.content()

    guest.get_by_label("Last 4 digits of the phone number on your booking").fill("4321")
    guest.get_by_role("button", name="Show my stay").click()
    guest.wait_for_url("**/g/*/")
    expect(guest.get_by_role("heading", name="Canal Hotel")).to_be_visible()
    pin = guest.locator(".pin").inner_text()
    assert pin == AccessCode.objects.get(stay=stay).pin
    assert world.opens(lock.device_id, pin)  # the code the page shows is the one the lock has
    screenshot(guest, "arrival-link-landed")
    assert violations == []
    assert landlord_violations == []
