"""/api/v1/calendar-feeds: list (unit and property filters, keyset pages), add (201; read at once), get, change,
remove (the stays it booked kept), sync now (202) and a feed's events; "stays" scope for writes, "read" for reads;
the link never given back, only its host; refusals as problem details; another organisation's feeds are 404 (the
walk of every operation is tests/api/test_api_walk.py). Every answer is checked against the served document."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import django_rq
import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from api import keys
from audit.models import AuditEvent
from bookings.models import CalendarFeed, FeedEvent
from tenants.models import ApiKey, Guest, Organisation, Property, Stay, Unit
from tests.api.conftest import ALL_SCOPES, ApiClient
from tests.bookings.feed_fixtures import (
    SMALL,
    CalendarServer,
    Place,
    calendar_server,
    empty_queues,
    make_place,
    run_sync_jobs,
)

SECRET = "/ical/secret-7f3a9c.ics"


@pytest.fixture
def place(db: None) -> Place:
    return make_place()


@pytest.fixture
def ics_server(settings: Any) -> Iterator[CalendarServer]:
    settings.FEED_ALLOW_PRIVATE_URLS = True  # the server is on 127.0.0.1
    with calendar_server() as server:
        yield server


@pytest.fixture
def queues(redis_url: str) -> Iterator[None]:
    with empty_queues(redis_url):
        yield


def client_for(org: Organisation, scopes: list[str] = ALL_SCOPES, properties: Any = None) -> ApiClient:
    return ApiClient(keys.create_key(organisation=org, name="PMS", scopes=scopes, properties=properties)[1])


def make_feed(unit: Unit, url: str = "https://ical.booking.com/v1/export?t=abcdef0123", **kw: Any) -> CalendarFeed:
    return CalendarFeed.objects.create(organisation=unit.property.organisation, unit=unit, url=url, **kw)


def queued_jobs() -> int:
    return sum(django_rq.get_queue(name).count for name in django_settings.RQ_QUEUES)


@pytest.mark.django_db(transaction=True)
def test_a_pms_adds_a_feed_which_books_and_lists_its_events(
    place: Place, ics_server: CalendarServer, queues: None
) -> None:
    ics_server.bodies[SECRET] = SMALL
    api = client_for(place.org)
    created = api.post("/calendar-feeds", {"unit": place.unit.pk, "url": ics_server.url(SECRET), "name": "Airbnb"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["host"] == "127.0.0.1"
    assert body["unit_id"] == place.unit.pk
    assert body["property_id"] == place.prop.pk
    assert "secret-7f3a9c" not in created.content.decode()
    assert (body["every_minutes"], body["blocked"], body["enabled"]) == (15, "ignore", True)
    assert queued_jobs() == 1
    run_sync_jobs()
    feed = api.get(f"/calendar-feeds/{body['id']}").json()
    assert feed["last_success_at"] is not None, feed
    assert feed["events_found"] == 3
    events = api.get(f"/calendar-feeds/{body['id']}/events").json()["items"]
    assert sorted(e["state"] for e in events) == ["booked", "booked", "ignored"]
    booked = [e for e in events if e["state"] == "booked"]
    assert {e["stay_id"] for e in booked} == set(Stay.objects.values_list("pk", flat=True))
    only_booked = api.get(f"/calendar-feeds/{body['id']}/events?state=booked").json()["items"]
    assert len(only_booked) == 2

    again = api.post("/calendar-feeds", {"unit": place.unit.pk, "url": ics_server.url(SECRET)})
    assert again.status_code == 422
    assert again.json()["errors"][0]["field"] == "url"
    assert CalendarFeed.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_change_sync_and_remove(place: Place, queues: None) -> None:
    feed = make_feed(place.unit, name="Booking.com", next_sync_at=timezone.now() + timedelta(minutes=10))
    api = client_for(place.org)
    changed = api.patch(f"/calendar-feeds/{feed.pk}", {"every_minutes": 60, "name": "Booking"})
    assert changed.status_code == 200
    assert (changed.json()["every_minutes"], changed.json()["name"]) == (60, "Booking")
    assert queued_jobs() == 0  # a new name or pace is no reason to read it again now

    synced = api.post(f"/calendar-feeds/{feed.pk}/sync")
    assert synced.status_code == 202
    assert queued_jobs() == 1

    paused = api.patch(f"/calendar-feeds/{feed.pk}", {"enabled": False})
    assert paused.json()["enabled"] is False
    assert paused.json()["next_sync_at"] is None
    refused = api.post(f"/calendar-feeds/{feed.pk}/sync")
    assert refused.status_code == 409
    assert "paused" in refused.json()["detail"]

    guest = Guest.objects.create(organisation=place.org, name="Ada")
    start = timezone.now() + timedelta(days=1)
    stay = Stay.objects.create(unit=place.unit, guest=guest, check_in=start, check_out=start + timedelta(days=2))
    FeedEvent.objects.create(feed=feed, uid="u1", starts_at=start, ends_at=stay.check_out, stay=stay,
                             state=FeedEvent.State.BOOKED, last_seen_at=start)  # fmt: skip
    assert api.delete(f"/calendar-feeds/{feed.pk}").status_code == 204
    assert not CalendarFeed.objects.exists()
    assert Stay.objects.filter(pk=stay.pk, status=Stay.Status.BOOKED).exists()
    assert api.get(f"/calendar-feeds/{feed.pk}").status_code == 404
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"feed.update", "feed.sync_now", "feed.delete"} <= actions


def test_lists_filter_by_unit_and_property_and_page_by_keyset(place: Place) -> None:
    for n in range(3):
        make_feed(place.unit, url=f"https://example.com/{n}.ics")
    make_feed(place.other_unit)
    api = client_for(place.org)
    first = api.get("/calendar-feeds?limit=2").json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    rest = api.get(f"/calendar-feeds?limit=2&cursor={first['next_cursor']}").json()
    assert len(rest["items"]) == 2
    assert rest["next_cursor"] is None
    assert len(api.get(f"/calendar-feeds?unit={place.unit.pk}").json()["items"]) == 3
    assert len(api.get(f"/calendar-feeds?property={place.other_prop.pk}").json()["items"]) == 1
    assert all("example.com/" not in str(item) for item in first["items"] + rest["items"])


def test_scopes_read_for_reads_stays_for_writes(place: Place) -> None:
    feed = make_feed(place.unit)
    reader = client_for(place.org, [ApiKey.Scope.READ])
    assert reader.get("/calendar-feeds").status_code == 200
    assert reader.get(f"/calendar-feeds/{feed.pk}/events").status_code == 200
    for answer in (
        reader.post("/calendar-feeds", {"unit": place.unit.pk, "url": "https://example.com/x.ics"}),
        reader.patch(f"/calendar-feeds/{feed.pk}", {"name": "x"}),
        reader.post(f"/calendar-feeds/{feed.pk}/sync"),
        reader.delete(f"/calendar-feeds/{feed.pk}"),
    ):
        assert answer.status_code == 403
        assert "'stays'" in answer.json()["detail"]
    writer = client_for(place.org, [ApiKey.Scope.STAYS])
    assert writer.get("/calendar-feeds").status_code == 403
    assert CalendarFeed.objects.get().name == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x.ics"}, "url"),
        ({"url": "https://example.com/x.ics", "every_minutes": 1}, "every_minutes"),
        ({"url": "https://example.com/x.ics", "blocked": "maybe"}, "blocked"),
        ({"url": "https://example.com/x.ics", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(place: Place, body: dict[str, Any], field: str) -> None:
    answer = client_for(place.org).post("/calendar-feeds", {"unit": place.unit.pk, **body})
    assert answer.status_code == 422
    assert answer["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert not CalendarFeed.objects.exists()


def test_a_private_address_is_refused_in_words(place: Place, settings: Any) -> None:
    settings.FEED_ALLOW_PRIVATE_URLS = False
    answer = client_for(place.org).post("/calendar-feeds", {"unit": place.unit.pk, "url": "http://10.1.2.3/x.ics"})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "url"


def test_another_organisation_and_another_property_are_404(place: Place) -> None:
    feed = make_feed(place.other_unit)
    elsewhere = Organisation.objects.create(name="Elsewhere", slug="elsewhere")
    limited = client_for(place.org, properties=[place.prop])
    for api in (client_for(elsewhere), limited):
        assert api.get(f"/calendar-feeds/{feed.pk}").status_code == 404
        assert api.get(f"/calendar-feeds/{feed.pk}/events").status_code == 404
        assert api.patch(f"/calendar-feeds/{feed.pk}", {"name": "x"}).status_code == 404
        assert api.post(f"/calendar-feeds/{feed.pk}/sync").status_code == 404
        assert api.delete(f"/calendar-feeds/{feed.pk}").status_code == 404
        assert (
            api.post("/calendar-feeds", {"unit": place.other_unit.pk, "url": "https://e.com/x.ics"}).status_code == 404
        )
        assert api.get("/calendar-feeds").json()["items"] == []
    assert CalendarFeed.objects.get().name == ""
    assert Property.objects.count() == 2


def test_a_post_sent_again_with_its_idempotency_key_adds_no_second_feed(place: Place) -> None:
    api = client_for(place.org)
    body = {"unit": place.unit.pk, "url": "https://example.com/cal.ics", "name": "Vrbo"}
    first = api.post("/calendar-feeds", body, headers={"Idempotency-Key": "feed-add-1"})
    again = api.post("/calendar-feeds", body, headers={"Idempotency-Key": "feed-add-1"})
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert CalendarFeed.objects.count() == 1
