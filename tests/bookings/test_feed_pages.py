"""The Calendar feeds page of a property: owners and managers add (after a preview that saves nothing), change,
sync now and remove feeds; the front desk and viewers look; a desk limited to another property and another
organisation get 404. The link is shown by its host only once saved; bad input is refused in words; a form sent
again adds no second feed; removing a feed keeps the stays it booked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import django_rq
import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from bookings.models import CalendarFeed, FeedEvent
from tenants.models import Guest, Organisation, Property, Role, Stay, Unit
from tests.bookings.feed_fixtures import (
    SMALL,
    CalendarServer,
    Place,
    calendar_server,
    empty_queues,
    make_place,
    member_client,
    run_sync_jobs,
)

SECRET_PATH = "/calendar/ical/1234567.ics"
SECRET_QUERY = "?s=f00dfacecafe5ec2e7"


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


def feeds_url(prop: Property) -> str:
    return reverse("bookings:feeds", args=[prop.pk])


def add_url(prop: Property) -> str:
    return reverse("bookings:feed-add", args=[prop.pk])


def form(unit: Unit, url: str, **extra: Any) -> dict[str, Any]:
    return {"unit": unit.pk, "url": url, "name": "Airbnb", "every_minutes": 15, "blocked": "ignore", **extra}


def make_feed(
    unit: Unit, url: str = "https://www.airbnb.com/calendar/ical/99.ics?s=topsecret", **kw: Any
) -> CalendarFeed:
    return CalendarFeed.objects.create(organisation=unit.property.organisation, unit=unit, url=url, **kw)


def queued_jobs() -> int:
    return sum(django_rq.get_queue(name).count for name in django_settings.RQ_QUEUES)


@pytest.mark.django_db(transaction=True)
def test_an_owner_previews_then_adds_a_feed_which_books_its_stays(
    place: Place,
    ics_server: CalendarServer,
    queues: None,
    django_user_model: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ics_server.bodies[SECRET_PATH] = SMALL
    link = ics_server.url(SECRET_PATH + SECRET_QUERY)
    owner = member_client(place.org, Role.OWNER, django_user_model)

    preview = owner.post(add_url(place.prop), {**form(place.unit, link), "preview": "1"})
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "2 to book" in text
    assert "0 to block" in text
    assert "1 ignored" in text
    assert "Nothing is saved" in text
    assert preview["Cache-Control"] == "no-store"
    assert not CalendarFeed.objects.exists()
    assert not Stay.objects.exists()
    assert len(ics_server.hits) == 1

    with django_capture_on_commit_callbacks(execute=True):
        added = owner.post(add_url(place.prop), form(place.unit, link))
    assert added.status_code == 302
    assert added["Location"] == feeds_url(place.prop)
    feed = CalendarFeed.objects.get()
    assert (feed.url, feed.unit, feed.name, feed.blocked) == (link, place.unit, "Airbnb", "ignore")
    assert feed.next_sync_at is not None
    assert feed.next_sync_at <= timezone.now()
    assert AuditEvent.objects.filter(action="feed.create", object_id=str(feed.pk)).exists()
    assert SECRET_QUERY[3:] not in AuditEvent.objects.get(action="feed.create").summary
    assert queued_jobs() == 1

    run_sync_jobs()  # the first read, as a worker does it
    feed.refresh_from_db()
    assert feed.last_success_at is not None, feed.last_error
    assert Stay.objects.filter(unit=place.unit, status=Stay.Status.BOOKED).count() == 2
    page = owner.get(feeds_url(place.prop)).content.decode()
    assert "127.0.0.1" in page
    assert SECRET_PATH not in page
    assert SECRET_QUERY[3:] not in page
    for stay in Stay.objects.all():
        assert reverse("desk:stay", args=[stay.pk]) in page
    assert "Sync now" in page
    assert "Remove" in page

    again = owner.post(add_url(place.prop), form(place.unit, link))  # the form sent again (reload)
    assert again.status_code == 400
    assert "already reads this calendar" in again.content.decode()
    assert CalendarFeed.objects.count() == 1


def test_a_calendar_that_cannot_be_read_is_said_in_words_on_preview(
    place: Place, ics_server: CalendarServer, django_user_model: Any
) -> None:
    owner = member_client(place.org, Role.OWNER, django_user_model)
    missing = owner.post(add_url(place.prop), {**form(place.unit, ics_server.url("/nothing.ics")), "preview": "1"})
    assert missing.status_code == 400
    assert "404" in missing.context["form"].errors["url"][0]
    ics_server.bodies["/page.ics"] = b"<html><body>Sign in</body></html>"
    page = owner.post(add_url(place.prop), {**form(place.unit, ics_server.url("/page.ics")), "preview": "1"})
    assert page.status_code == 400
    assert "not a calendar" in page.context["form"].errors["url"][0]
    assert not CalendarFeed.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"url": "ftp://example.com/cal.ics"}, "url", "http"),
        ({"url": "not a link"}, "url", ""),
        ({"every_minutes": 2}, "every_minutes", "5"),
        ({"every_minutes": 2000}, "every_minutes", "1440"),
        ({"blocked": "sometimes"}, "blocked", "choice"),
        ({"name": "Air\nbnb"}, "name", "line"),
    ],
)
def test_bad_input_is_refused_in_words_and_saves_nothing(
    place: Place, django_user_model: Any, settings: Any, fields: dict[str, Any], field: str, words: str
) -> None:
    owner = member_client(place.org, Role.OWNER, django_user_model)
    response = owner.post(add_url(place.prop), {**form(place.unit, "https://example.com/cal.ics"), **fields})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert words.lower() in " ".join(errors[field]).lower()
    assert not CalendarFeed.objects.exists()


def test_a_private_address_is_refused_unless_allowed(place: Place, django_user_model: Any, settings: Any) -> None:
    settings.FEED_ALLOW_PRIVATE_URLS = False
    owner = member_client(place.org, Role.OWNER, django_user_model)
    response = owner.post(add_url(place.prop), form(place.unit, "http://127.0.0.1:9/cal.ics"))
    assert response.status_code == 400
    assert response.context["form"].errors["url"]
    assert not CalendarFeed.objects.exists()


def test_a_unit_of_another_property_cannot_be_chosen(place: Place, django_user_model: Any) -> None:
    owner = member_client(place.org, Role.OWNER, django_user_model)
    response = owner.post(add_url(place.prop), form(place.other_unit, "https://example.com/cal.ics"))
    assert response.status_code == 400
    assert "unit" in response.context["form"].errors
    assert not CalendarFeed.objects.exists()


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.VIEWER])
def test_the_front_desk_and_viewers_look_but_change_nothing(place: Place, django_user_model: Any, role: str) -> None:
    feed = make_feed(place.unit, name="Booking.com", last_error="The calendar server answered 503 (unavailable).",
                     failing_since=timezone.now() - timedelta(hours=3))  # fmt: skip
    looker = member_client(place.org, role, django_user_model)
    page = looker.get(feeds_url(place.prop))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Booking.com" in text
    assert "www.airbnb.com" in text
    assert "topsecret" not in text
    assert "answered 503" in text
    assert "since" in text
    assert "Sync now" not in text
    assert "Add a calendar feed" not in text
    for url in (
        add_url(place.prop),
        reverse("bookings:feed-sync", args=[feed.pk]),
        reverse("bookings:feed-remove", args=[feed.pk]),
        reverse("bookings:feed-edit", args=[feed.pk]),
    ):
        assert (
            looker.post(url, {**form(place.unit, "https://example.com/x.ics"), "confirmed": "yes"}).status_code == 403
        )
    assert CalendarFeed.objects.get().name == "Booking.com"


def test_a_desk_limited_to_another_property_and_another_organisation_get_404(
    place: Place, django_user_model: Any
) -> None:
    feed = make_feed(place.unit, name="Vrbo")
    elsewhere = Organisation.objects.create(name="Elsewhere", slug="elsewhere")
    for client in (
        member_client(place.org, Role.FRONT_DESK, django_user_model, only=[place.other_prop]),
        member_client(elsewhere, Role.OWNER, django_user_model),
    ):
        assert client.get(feeds_url(place.prop)).status_code == 404
        assert client.post(add_url(place.prop), form(place.unit, "https://example.com/x.ics")).status_code == 404
        for name in ("feed-sync", "feed-remove", "feed-edit"):
            assert client.post(reverse(f"bookings:{name}", args=[feed.pk]), {"confirmed": "yes"}).status_code == 404
        assert client.get(reverse("bookings:feed-edit", args=[feed.pk])).status_code == 404
    limited = member_client(place.org, Role.FRONT_DESK, django_user_model, only=[place.prop])
    assert "Vrbo" in limited.get(feeds_url(place.prop)).content.decode()
    assert CalendarFeed.objects.count() == 1


def test_the_property_page_links_to_its_feeds(place: Place, django_user_model: Any) -> None:
    viewer = member_client(place.org, Role.VIEWER, django_user_model)
    assert feeds_url(place.prop) in viewer.get(reverse("locks:property", args=[place.prop.pk])).content.decode()


@pytest.mark.django_db(transaction=True)
def test_sync_now_puts_the_feed_on_the_queue(
    place: Place, queues: None, django_user_model: Any, django_capture_on_commit_callbacks: Any
) -> None:
    feed = make_feed(place.unit, next_sync_at=timezone.now() + timedelta(minutes=14))
    manager = member_client(place.org, Role.MANAGER, django_user_model)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(reverse("bookings:feed-sync", args=[feed.pk]))
    assert response.status_code == 302
    assert queued_jobs() == 1
    feed.refresh_from_db()
    assert feed.next_sync_at is not None
    assert feed.next_sync_at <= timezone.now()
    assert AuditEvent.objects.filter(action="feed.sync_now").count() == 1
    assert manager.get(reverse("bookings:feed-sync", args=[feed.pk])).status_code == 405  # POST only

    CalendarFeed.objects.filter(pk=feed.pk).update(enabled=False)
    paused = manager.post(reverse("bookings:feed-sync", args=[feed.pk]), follow=True)
    assert "paused" in paused.content.decode()


def test_a_csrf_token_is_required(place: Place, django_user_model: Any) -> None:
    owner = member_client(place.org, Role.OWNER, django_user_model)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)  # type: ignore[attr-defined]
    assert strict.post(add_url(place.prop), form(place.unit, "https://example.com/x.ics")).status_code == 403
    assert not CalendarFeed.objects.exists()


def _booked_stay(feed: CalendarFeed) -> Stay:
    guest = Guest.objects.create(organisation=feed.organisation, name="Ada Lovelace")
    start = timezone.now() + timedelta(days=2)
    stay = Stay.objects.create(unit=feed.unit, guest=guest, check_in=start, check_out=start + timedelta(days=3))
    FeedEvent.objects.create(
        feed=feed, uid="res-ada", summary="Ada Lovelace", starts_at=stay.check_in, ends_at=stay.check_out, stay=stay,
        state=FeedEvent.State.BOOKED, last_seen_at=timezone.now(),
    )  # fmt: skip
    return stay


def test_remove_is_asked_first_and_keeps_the_stays_it_booked(place: Place, django_user_model: Any) -> None:
    feed = make_feed(place.unit, name="Airbnb")
    stay = _booked_stay(feed)
    owner = member_client(place.org, Role.OWNER, django_user_model)
    question = owner.post(reverse("bookings:feed-remove", args=[feed.pk]))
    assert question.status_code == 200
    text = question.content.decode()
    assert "Remove this calendar feed?" in text
    assert "stays it booked are kept" in text
    assert CalendarFeed.objects.exists()

    done = owner.post(reverse("bookings:feed-remove", args=[feed.pk]), {"confirmed": "yes"}, follow=True)
    assert "1 stay it booked is kept" in done.content.decode()
    assert not CalendarFeed.objects.exists()
    assert not FeedEvent.objects.exists()
    stay.refresh_from_db()
    assert stay.status == Stay.Status.BOOKED
    assert AuditEvent.objects.filter(action="feed.delete").count() == 1


def test_edit_keeps_the_link_unless_a_new_one_is_given(place: Place, django_user_model: Any) -> None:
    feed = make_feed(place.unit, name="Airbnb", content_hash="abc", etag='"v1"')
    owner = member_client(place.org, Role.OWNER, django_user_model)
    page = owner.get(reverse("bookings:feed-edit", args=[feed.pk]))
    assert page.status_code == 200
    assert "topsecret" not in page.content.decode()
    fields = {"url": "", "name": "Airbnb flat", "every_minutes": 30, "blocked": "ignore", "enabled": "on"}
    assert owner.post(reverse("bookings:feed-edit", args=[feed.pk]), fields).status_code == 302
    feed.refresh_from_db()
    assert (feed.name, feed.every_minutes, feed.content_hash) == ("Airbnb flat", 30, "abc")
    assert feed.url.endswith("s=topsecret")
    fields["blocked"] = "block"  # another way with blocked dates: read again from scratch
    owner.post(reverse("bookings:feed-edit", args=[feed.pk]), fields)
    feed.refresh_from_db()
    assert (feed.blocked, feed.content_hash, feed.etag) == ("block", "", "")
    bad = owner.post(reverse("bookings:feed-edit", args=[feed.pk]), {**fields, "every_minutes": 1})
    assert bad.status_code == 400


def test_double_bookings_and_events_needing_a_person_are_listed_first(place: Place, django_user_model: Any) -> None:
    feed = make_feed(place.unit, name="Booking.com")
    soon = timezone.now() + timedelta(days=4)
    FeedEvent.objects.create(
        feed=feed, uid="clash", summary="Grace Hopper", starts_at=soon, ends_at=soon + timedelta(days=2),
        state=FeedEvent.State.CONFLICT, problem="Overlaps the Airbnb stay of Ada Lovelace.", last_seen_at=soon,
    )  # fmt: skip
    desk = member_client(place.org, Role.FRONT_DESK, django_user_model)
    text = desk.get(feeds_url(place.prop)).content.decode()
    top = text.index("Needs a person")
    assert top < text.index("Overlaps the Airbnb stay of Ada Lovelace.")
    assert text.index("Grace Hopper") > top


def test_the_preview_says_what_a_unit_without_a_lock_and_blocked_dates_would_do(
    place: Place, ics_server: CalendarServer, django_user_model: Any
) -> None:
    bare = Unit.objects.create(property=place.prop, name="Flat 2")  # no lock on its door yet
    ics_server.bodies["/c.ics"] = SMALL
    owner = member_client(place.org, Role.OWNER, django_user_model)
    fields = {**form(bare, ics_server.url("/c.ics")), "blocked": "block", "preview": "1"}
    text = owner.post(add_url(place.prop), fields).content.decode()
    assert "0 to book" in text
    assert "1 to block" in text
    assert "2 not booked" in text
    assert "Flat 2 has no lock yet" in text
    assert not CalendarFeed.objects.exists()
