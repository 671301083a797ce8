"""An owner adds a unit's calendar feed in the browser: the preview says what it would book before anything is
saved, "Add feed" saves it, a worker reads it, and the page shows the booked stays with links, the link by its host
only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from bookings.models import CalendarFeed
from tenants.models import Membership, Role, Stay
from tests.bookings.feed_fixtures import SMALL, CalendarServer, calendar_server, make_place, run_sync_jobs
from tests.browser.conftest import screenshot
from tests.browser.test_csp import watch_violations

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
OWNER = ("feeds-owner", "pw-feeds-owner-1")
SECRET_PATH = "/calendar/ical/7788.ics"


@pytest.fixture
def ics_server(settings: Any) -> Iterator[CalendarServer]:
    settings.FEED_ALLOW_PRIVATE_URLS = True  # the server is on 127.0.0.1
    with calendar_server() as server:
        yield server


def test_an_owner_previews_and_adds_a_feed(
    signed_in: Callable[..., Any], ics_server: CalendarServer, queues: None, django_user_model: Any
) -> None:
    place = make_place()
    user = django_user_model.objects.create_user(OWNER[0], password=OWNER[1])
    Membership.objects.create(user=user, organisation=place.org, role=Role.OWNER)
    ics_server.bodies[SECRET_PATH] = SMALL
    page = signed_in(*OWNER)
    violations = watch_violations(page)
    page.goto(f"/properties/{place.prop.pk}/")
    page.get_by_role("link", name="Calendar feeds").click()
    expect(page.get_by_role("heading", name="Calendar feeds")).to_be_visible()

    page.get_by_label("Unit").select_option(label=str(place.unit))
    page.get_by_label("Calendar link").fill(ics_server.url(SECRET_PATH + "?s=browsersecret"))
    page.get_by_label("Name").fill("Airbnb")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview")).to_contain_text("2 to book")
    expect(page.locator("#preview")).to_contain_text("Nothing is saved")
    screenshot(page, "calendar-feeds-preview")
    assert not CalendarFeed.objects.exists()

    page.get_by_role("button", name="Add feed").click()
    expect(page.locator("main")).to_contain_text("is being read now")
    assert CalendarFeed.objects.count() == 1
    run_sync_jobs()  # the worker's read
    page.reload()
    row = page.locator(f"#feed-{CalendarFeed.objects.get().pk}")
    expect(row).to_contain_text("127.0.0.1")
    expect(row).to_contain_text("Read")
    expect(page.get_by_role("link", name="Booked")).to_have_count(2)
    assert "browsersecret" not in page.content()
    assert Stay.objects.count() == 2
    screenshot(page, "calendar-feeds-booked")
    assert not violations
