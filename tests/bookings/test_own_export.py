"""A unit's own export (`/calendar/<token>.ics`, bookings/calendar_export.py) is never taken as a feed: read back, each
stay it shows would return as an overlap with itself (a double booking), on every read. Refused in words when the
link is added or changed (the Calendar feeds page, its preview, the API's POST and PATCH), on PUBLIC_BASE_URL's host
or the host the person used, for any unit of any organisation; and a feed that reaches it by another name is refused
by what the calendar says it is, at the sync, which books nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from api import keys
from bookings import calendar_export, feed_sync
from bookings.ical import OWN_EXPORT_REFUSAL
from bookings.models import CalendarFeed, FeedEvent
from tenants.models import Guest, Organisation, Property, Role, Stay, Unit
from tests.api.conftest import ALL_SCOPES, ApiClient
from tests.bookings.feed_fixtures import CalendarServer, Place, calendar_server, make_place, member_client
from tests.tenants.conftest import offline_lock

pytestmark = pytest.mark.django_db
PUBLIC = "https://doors.example.com"


@pytest.fixture
def place(settings: Any) -> Place:
    settings.PUBLIC_BASE_URL = PUBLIC
    return make_place()


@pytest.fixture
def owner(place: Place, django_user_model: Any) -> Client:
    return member_client(place.org, Role.OWNER, django_user_model)


def export_path(unit: Unit) -> str:
    return reverse("guest:unit-calendar", kwargs={"token": calendar_export.export_for(unit).token})


def feed_form(unit: Unit, url: str, **extra: str) -> dict[str, Any]:
    return {"unit": unit.pk, "url": url, "name": "Airbnb", "every_minutes": 15, "blocked": "ignore", **extra}


def other_organisations_unit() -> Unit:
    org = Organisation.objects.create(name="Elsewhere", slug="elsewhere")
    prop = Property.objects.create(organisation=org, name="Elsewhere House")
    return Unit.objects.create(property=prop, name="Room 4")


def test_the_feeds_page_refuses_the_apps_own_export_in_words(place: Place, owner: Client, settings: Any) -> None:
    settings.FEED_ALLOW_PRIVATE_URLS = False  # the words are ours, not "a private address"
    add = reverse("bookings:feed-add", args=[place.prop.pk])
    ours = [
        PUBLIC + export_path(place.unit),  # the unit's own
        PUBLIC + export_path(place.other_unit),  # another unit of the organisation
        PUBLIC + export_path(other_organisations_unit()),  # any organisation's
        "webcal://doors.example.com" + export_path(place.unit),  # as calendars hand it out
        "https://DOORS.example.com:443/calendar/renewed-or-unknown-token.ics",  # a token renewed since: still ours
        "http://testserver" + export_path(place.unit),  # the host the owner is using (not PUBLIC_BASE_URL's)
    ]
    for url in ours:
        for extra in ({}, {"preview": "1"}):
            answer = owner.post(add, feed_form(place.unit, url, **extra))
            assert answer.status_code == 400, url
            assert escape(OWN_EXPORT_REFUSAL.english) in answer.content.decode(), url
    assert not CalendarFeed.objects.exists()

    feed = CalendarFeed.objects.create(organisation=place.org, unit=place.unit, url="https://ical.example.com/a.ics")
    edit = reverse("bookings:feed-edit", args=[feed.pk])
    answer = owner.post(edit, {"url": PUBLIC + export_path(place.unit), "every_minutes": 15, "blocked": "ignore"})
    assert answer.status_code == 400
    assert escape(OWN_EXPORT_REFUSAL.english) in answer.content.decode()
    feed.refresh_from_db()
    assert (feed.url, feed.enabled) == ("https://ical.example.com/a.ics", True)


def test_a_calendar_path_elsewhere_is_not_ours(place: Place, owner: Client, settings: Any) -> None:
    settings.FEED_ALLOW_PRIVATE_URLS = True  # no name is resolved: only our own refusal could stop these
    add = reverse("bookings:feed-add", args=[place.prop.pk])
    for url in (
        "https://calendar.example.net" + export_path(place.unit),  # the same path on someone else's host
        "https://doors.example.com/calendar/ical/123.ics",  # our host, not our export's path
    ):
        assert owner.post(add, feed_form(place.unit, url)).status_code == 302, url
    assert CalendarFeed.objects.count() == 2


def test_the_api_refuses_the_apps_own_export_on_add_and_change(place: Place) -> None:
    api = ApiClient(keys.create_key(organisation=place.org, name="PMS", scopes=ALL_SCOPES)[1])
    for url in (PUBLIC + export_path(place.unit), "https://testserver" + export_path(other_organisations_unit())):
        answer = api.post("/calendar-feeds", {"unit": place.unit.pk, "url": url})
        assert answer.status_code == 422, url
        (error,) = answer.json()["errors"]
        assert (error["field"], error["detail"]) == ("url", OWN_EXPORT_REFUSAL.english)
    assert not CalendarFeed.objects.exists()

    feed = CalendarFeed.objects.create(organisation=place.org, unit=place.unit, url="https://ical.example.com/b.ics")
    answer = api.patch(f"/calendar-feeds/{feed.pk}", {"url": PUBLIC + export_path(place.other_unit)})
    assert answer.status_code == 422
    assert OWN_EXPORT_REFUSAL.english in {error["detail"] for error in answer.json()["errors"]}
    feed.refresh_from_db()
    assert feed.url == "https://ical.example.com/b.ics"


@pytest.fixture
def ics_server(settings: Any) -> Iterator[CalendarServer]:
    settings.FEED_ALLOW_PRIVATE_URLS = True  # the server is on 127.0.0.1
    with calendar_server() as server:
        yield server


def test_a_feed_reaching_the_export_by_another_name_books_nothing_and_says_why(
    place: Place, ics_server: CalendarServer
) -> None:
    """A proxy, a second domain or a redirect the link check cannot know: the calendar says what it is."""
    other = Unit.objects.create(property=place.prop, name="Flat 3")
    offline_lock(place.org, other)
    guest = Guest.objects.create(organisation=place.org, name="Ada")
    now = timezone.now()
    stay = Stay.objects.create(unit=place.unit, guest=guest, check_in=now, check_out=now + timedelta(days=3))
    ics_server.bodies["/mirror.ics"] = calendar_export.render(place.unit).body
    assert f"stay-{stay.pk}@" in ics_server.bodies["/mirror.ics"].decode()
    feed = CalendarFeed.objects.create(organisation=place.org, unit=other, url=ics_server.url("/mirror.ics"))

    feed_sync.sync_feed(feed.pk)

    feed.refresh_from_db()
    assert feed.last_error == OWN_EXPORT_REFUSAL.english
    assert not FeedEvent.objects.exists()
    assert list(Stay.objects.all()) == [stay]
