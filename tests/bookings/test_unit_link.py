"""A unit's arrival link (`/u/<token>/`, no sign-in): the guest of a stay booked from a bare Airbnb export (no e-mail,
no phone, only "Phone Number (Last 4 Digits)") types those digits and is sent to their own stay's guest page.

Stays are booked through tenants.services on locks whose cloud is never called; the digits come from a calendar
feed read over real HTTP (the calendar server of conftest.py) or are put on a feed event as that sync would. The rate
limit counts in the real Redis of the suite; "Redis down" is a client pointed at a closed port.
"""

# ruff: noqa: F811  (the fixtures imported below are parameters of the tests)
from __future__ import annotations

import logging
import re
from datetime import timedelta
from importlib import import_module
from typing import Any

import pytest
import redis
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from bookings import arrival_links, feed_sync, guest_pass, messages, public_limits
from bookings.models import CalendarFeed, FeedEvent, GuestPass, UnitArrivalLink
from locks.models import AccessCode, Alert, Lock
from tenants import services
from tenants.models import Guest, Membership, Organisation, Property, Role, Stay, Unit
from tests.bookings.conftest import CalendarServer, calendar, timed
from tests.conftest import production_log
from tests.locks.conftest import front_desk, guest, org, owner, queues, unit  # noqa: F401
from tests.tenants.conftest import book, desk, lock, offline_lock, other_stay, stay, viewer  # noqa: F401

pytestmark = pytest.mark.django_db

NOT_FOUND = "We could not find a stay for these digits today"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.fixture(autouse=True)
def _fresh_budget(queues: None, settings: Any) -> None:
    """Empty Redis (the counters) for every test, and fast hashing for the signed-in ones."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def digits_from_feed(stay: Stay, digits: str, uid: str = "") -> FeedEvent:
    """What a sync of an Airbnb export leaves for the stay: its event, with the phone's last digits."""
    unit = stay.unit
    feed, _ = CalendarFeed.objects.get_or_create(
        organisation=unit.property.organisation, unit=unit, name="Airbnb", defaults={"url": "https://example.com/a"}
    )
    return FeedEvent.objects.create(
        feed=feed,
        uid=uid or f"uid-{stay.pk}",
        starts_at=stay.check_in,
        ends_at=stay.check_out,
        stay=stay,
        state=FeedEvent.State.BOOKED,
        phone_last_digits=digits,
        last_seen_at=timezone.now(),
    )


def arrival_url(unit: Unit) -> str:
    return reverse("guest:arrival", kwargs={"token": arrival_links.link_for(unit).token})


def guest_page(stay: Stay) -> str:
    return reverse("guest:stay", kwargs={"token": guest_pass.pass_for(stay).token})


def without_csrf(html: str) -> str:
    return CSRF_FIELD.sub("", html)


# --- the guest: digits to the guest page ---------------------------------------------------------------------------


def test_the_form_names_the_property_and_unit_only(client: Client, stay: Stay) -> None:
    digits_from_feed(stay, "1234")
    response = client.get(arrival_url(stay.unit))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Canal Hotel" in html
    assert "Room 12" in html
    assert "Last 4 digits of the phone number" in html
    assert 'name="csrfmiddlewaretoken"' in html
    for leaked in [stay.guest.name, "1234", *[c.pin for c in AccessCode.objects.filter(stay=stay)]]:
        assert leaked not in without_csrf(html)
    assert timezone.localtime(stay.check_in, stay.unit.property.tz).strftime("%H:%M") not in html
    assert response["Cache-Control"] == "no-store"
    assert response["X-Robots-Tag"].startswith("noindex")
    assert response["Referrer-Policy"] == "strict-origin"
    assert "Content-Security-Policy" in response
    assert "<script" not in html
    assert " style=" not in html


def test_the_right_digits_lead_to_the_stays_guest_page(client: Client, stay: Stay) -> None:
    digits_from_feed(stay, "1234")
    response = client.post(arrival_url(stay.unit), {"digits": "1234"})
    assert response.status_code == 303
    assert response["Location"] == guest_page(stay)
    assert response["Cache-Control"] == "no-store"
    assert GuestPass.objects.filter(stay=stay).count() == 1  # the same pass the desk's link shows
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "being set up" in page.content.decode()  # the code's state, as the guest page shows it
    # Asked again, the same pass (never a second one, never a new token).
    again = client.post(arrival_url(stay.unit), {"digits": " 12 34 "})
    assert again["Location"] == response["Location"]


def test_a_phone_the_desk_typed_matches_by_its_last_four_digits(client: Client, stay: Stay) -> None:
    Guest.objects.filter(pk=stay.guest_id).update(phone="+31 6 1234 5678")
    assert client.post(arrival_url(stay.unit), {"digits": "5678"})["Location"] == guest_page(stay)
    assert client.post(arrival_url(stay.unit), {"digits": "1234"}).status_code == 200


def test_wrong_unknown_and_revoked_links_get_the_very_same_answer(client: Client, stay: Stay, unit: Unit) -> None:
    digits_from_feed(stay, "1234")
    url = arrival_url(unit)
    wrong = client.post(url, {"digits": "9999"})
    assert wrong.status_code == 200
    html = wrong.content.decode()
    assert NOT_FOUND in html
    assert "Canal Hotel" not in html  # the answer names nothing: the same for a link that does not exist
    unknown = client.post(reverse("guest:arrival", kwargs={"token": "x" * 32}), {"digits": "1234"})
    UnitArrivalLink.objects.filter(unit=unit).update(revoked_at=timezone.now())
    revoked = client.post(url, {"digits": "1234"})
    for other in (unknown, revoked):
        assert other.status_code == 200
        assert without_csrf(other.content.decode()) == without_csrf(html)
    assert not GuestPass.objects.exists()


@pytest.mark.parametrize("typed", ["123", "12345", "+31 6 1234 5678", "abcd", "١٢٣٤", "１２３４", "", "12\x0034"])
def test_only_exactly_four_digits_are_read(client: Client, stay: Stay, typed: str) -> None:
    digits_from_feed(stay, "1234")
    response = client.post(arrival_url(stay.unit), {"digits": typed})
    assert response.status_code == 400
    html = response.content.decode()
    assert '<p class="problem" role="alert">' in html
    assert NOT_FOUND not in html
    if "\x00" not in typed:  # Django's own words for a NUL
        assert re.search(r'role="alert">[^<]*4 digits', html)
    assert not GuestPass.objects.exists()


def test_a_whole_phone_number_is_told_to_type_only_the_last_four(client: Client, stay: Stay) -> None:
    html = client.post(arrival_url(stay.unit), {"digits": "+31 6 1234 5678"}).content.decode()
    assert "Only the last 4 digits, please" in html


@pytest.mark.parametrize("when", ["before the window", "after check-out", "cancelled", "checked out"])
def test_no_match_outside_the_guest_pages_window(client: Client, unit: Unit, guest: Guest, when: str) -> None:
    offline_lock(unit.property.organisation, unit)
    hours = {"before the window": (25, 50), "after check-out": (-30, -1)}.get(when, (-1, 20))
    if when == "after check-out":
        the_stay = book(unit, guest, (2, 20))
        Stay.objects.filter(pk=the_stay.pk).update(
            check_in=timezone.now() + timedelta(hours=hours[0]), check_out=timezone.now() + timedelta(hours=hours[1])
        )
    else:
        the_stay = book(unit, guest, hours)
    if when == "cancelled":
        services.cancel_stay(the_stay)
    elif when == "checked out":
        services.check_out_stay(the_stay)
    digits_from_feed(the_stay, "1234")
    assert arrival_links.match(arrival_links.link_for(unit), "1234") is None
    response = client.post(arrival_url(unit), {"digits": "1234"})
    assert NOT_FOUND in response.content.decode()


def test_the_window_opens_a_day_before_check_in(stay: Stay) -> None:
    digits_from_feed(stay, "1234")
    link = arrival_links.link_for(stay.unit)
    assert arrival_links.match(link, "1234", stay.check_in - timedelta(hours=24)) == stay
    assert arrival_links.match(link, "1234", stay.check_in - timedelta(hours=24, seconds=1)) is None
    assert arrival_links.match(link, "1234", stay.check_out - timedelta(seconds=1)) == stay
    assert arrival_links.match(link, "1234", stay.check_out) is None


def test_two_units_never_see_each_others_stays(client: Client, stay: Stay, org: Organisation, lock: Lock) -> None:
    next_door = Unit.objects.create(property=stay.unit.property, name="Room 14")
    Lock.objects.create(organisation=org, cloud_account=lock.cloud_account, unit=next_door, device_id="d14", name="14")
    theirs = book(next_door, Guest.objects.create(organisation=org, name="Bob Next"))
    digits_from_feed(stay, "1234")
    digits_from_feed(theirs, "5678")
    assert NOT_FOUND in client.post(arrival_url(stay.unit), {"digits": "5678"}).content.decode()
    assert NOT_FOUND in client.post(arrival_url(next_door), {"digits": "1234"}).content.decode()
    assert client.post(arrival_url(next_door), {"digits": "5678"})["Location"] == guest_page(theirs)
    assert client.post(arrival_url(stay.unit), {"digits": "1234"})["Location"] == guest_page(stay)


def test_on_a_turnover_day_the_guest_arriving_gets_the_link(unit: Unit, lock: Lock, guest: Guest) -> None:
    leaving = book(unit, guest, (-40, 2))
    arriving = book(unit, Guest.objects.create(organisation=guest.organisation, name="Bob Arriving"), (4, 50))
    digits_from_feed(leaving, "1234")
    digits_from_feed(arriving, "1234")
    assert arrival_links.match(arrival_links.link_for(unit), "1234") == arriving


def test_a_revoked_guest_page_is_said_in_words_and_never_renewed(client: Client, stay: Stay) -> None:
    digits_from_feed(stay, "1234")
    old = guest_pass.pass_for(stay)
    GuestPass.objects.filter(pk=old.pk).update(revoked_at=timezone.now())
    response = client.post(arrival_url(stay.unit), {"digits": "1234"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "ask the front desk" in html
    assert NOT_FOUND not in html
    made = GuestPass.objects.get(stay=stay)
    assert (made.token, made.revoked_at is not None) == (old.token, True)


def test_an_unknown_or_revoked_link_is_the_guest_pages_404(client: Client, stay: Stay) -> None:
    url = arrival_url(stay.unit)
    gone = client.get(reverse("guest:stay", kwargs={"token": "y" * 32}))
    UnitArrivalLink.objects.filter(unit=stay.unit).update(revoked_at=timezone.now())
    for response in (client.get(url), client.get(reverse("guest:arrival", kwargs={"token": "z" * 32}))):
        assert response.status_code == 404
        assert without_csrf(response.content.decode()) == without_csrf(gone.content.decode())
        assert response["Cache-Control"] == "no-store"
        assert "Canal Hotel" not in response.content.decode()


# --- CSRF, the rate limit, Redis down ----------------------------------------------------------------------------


def test_the_digits_need_the_csrf_token_of_the_page(stay: Stay) -> None:
    digits_from_feed(stay, "1234")
    browser = Client(enforce_csrf_checks=True)  # a guest: no session, CSRF checked as in production
    url = arrival_url(stay.unit)
    html = browser.get(url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token
    assert "csrftoken" in browser.cookies
    assert browser.post(url, {"digits": "1234"}).status_code == 403
    assert browser.post(url, {"digits": "1234", "csrfmiddlewaretoken": "x" * 64}).status_code == 403
    assert not GuestPass.objects.exists()
    response = browser.post(url, {"digits": "1234", "csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 303
    assert response["Location"] == guest_page(stay)


def test_five_wrong_tries_an_hour_per_link_then_429_and_one_alert(stay: Stay, lock: Lock) -> None:
    digits_from_feed(stay, "1234")
    url = arrival_url(stay.unit)
    for n in range(5):  # five addresses, one wrong try each: the link's budget
        response = Client(REMOTE_ADDR=f"203.0.113.{n}").post(url, {"digits": f"000{n}"})
        assert NOT_FOUND in response.content.decode()
    alert = Alert.objects.get()
    assert alert.kind == Alert.Kind.WRONG_CODE_BURST
    assert "arrival link of Room 12" in alert.text
    assert (alert.lock, alert.organisation_id, alert.count) == (lock, lock.organisation_id, 1)
    refused = Client(REMOTE_ADDR="203.0.113.77").post(url, {"digits": "1234"})  # the right digits: not checked now
    assert refused.status_code == 429
    html = refused.content.decode()
    assert "Too many tries" in html
    assert "ask the front desk" in html
    assert 3500 <= int(refused["Retry-After"]) <= 3601
    assert refused["Cache-Control"] == "no-store"
    assert stay.guest.name not in html
    assert not GuestPass.objects.exists()
    assert Alert.objects.count() == 1
    alert.refresh_from_db()
    assert alert.count == 1  # a refused try is not another burst
    # The GET (the form) still answers: only the digits are refused.
    assert Client(REMOTE_ADDR="203.0.113.78").get(url).status_code == 200


def test_five_wrong_tries_an_hour_per_address_across_links(stay: Stay, unit: Unit, org: Organisation) -> None:
    other = Unit.objects.create(property=unit.property, name="Room 14")
    walker = Client(REMOTE_ADDR="198.51.100.7")
    answers = [walker.post(arrival_url(unit), {"digits": "0000"}).status_code for _ in range(3)]
    answers += [walker.post(arrival_url(other), {"digits": "0000"}).status_code for _ in range(2)]
    answers += [walker.post(reverse("guest:arrival", kwargs={"token": "q" * 32}), {"digits": "0000"}).status_code]
    assert answers == [200, 200, 200, 200, 200, 429]
    assert not Alert.objects.exists()  # no link had five
    # Another address is not held back by this one.
    digits_from_feed(stay, "1234")
    assert Client(REMOTE_ADDR="198.51.100.8").post(arrival_url(unit), {"digits": "1234"}).status_code == 303


def test_right_answers_never_count(client: Client, stay: Stay) -> None:
    digits_from_feed(stay, "1234")
    url = arrival_url(stay.unit)
    for _ in range(4):
        assert client.post(url, {"digits": "0000"}).status_code == 200
    for _ in range(8):
        assert client.post(url, {"digits": "1234"}).status_code == 303
    assert client.post(url, {"digits": "0000"}).status_code == 200  # the fifth wrong one
    assert client.post(url, {"digits": "1234"}).status_code == 429


def test_the_window_slides_and_a_later_burst_counts_on_the_open_alert(stay: Stay, lock: Lock) -> None:
    buckets = ["arrival-ip:test", "arrival:test"]
    start = 1_000_000.0
    for second in range(5):
        assert public_limits.count_try(buckets, limit=5, now=start + second).refused_for is None
    refused = public_limits.count_try(buckets, limit=5, now=start + 600)
    assert refused.refused_for == 3000 + 1  # the first try leaves the window an hour after it was made
    # An hour after the first try, one place is free again; a refused try took none.
    assert public_limits.count_try(buckets, limit=5, now=start + 3600.5).refused_for is None
    assert public_limits.count_try(buckets, limit=5, now=start + 3600.6).refused_for is not None
    # The alert: one open per link; a burst in a later hour counts on it.
    link = arrival_links.link_for(stay.unit)
    now = timezone.now()
    for when in (now, now + timedelta(hours=2)):
        for _ in range(5):
            assert arrival_links.answer(link.token, "0000", ip="192.0.2.1", now=when) == arrival_links.Answer()
    alert = Alert.objects.get()
    assert alert.count == 2


def test_redis_down_refuses_the_digits_with_503_in_words(
    client: Client, stay: Stay, monkeypatch: pytest.MonkeyPatch
) -> None:
    digits_from_feed(stay, "1234")
    url = arrival_url(stay.unit)
    closed = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr("locks.queues.connection", lambda name: closed)
    assert client.get(url).status_code == 200  # the form: the minute budget lets it through, as the guest page
    response = client.post(url, {"digits": "1234"})
    assert response.status_code == 503
    html = response.content.decode()
    assert "We cannot check your digits right now" in html
    assert "ask the front desk" in html
    assert response["Cache-Control"] == "no-store"
    assert not GuestPass.objects.exists()  # never fail open, not even for the right digits


def test_the_token_never_reaches_the_logs(client: Client, stay: Stay) -> None:
    token = arrival_links.link_for(stay.unit).token
    with production_log(logging.DEBUG) as log:
        client.get(f"/u/{token}/")
        client.get(reverse("guest:arrival", kwargs={"token": "z" * 32}))  # Django's "Not Found: <path>"
        Client(enforce_csrf_checks=True).post(f"/u/{token}/", {"digits": "1234"})  # a CSRF refusal, audited
    written = log.getvalue()
    assert "/u/***/" in written
    assert token not in written
    assert "z" * 32 not in written
    assert not AuditEvent.objects.filter(summary__contains=token).exists()


# --- the digits come from the calendar feed -----------------------------------------------------------------------


def test_an_airbnb_feeds_digits_are_stored_and_open_the_stay(
    client: Client, calendar_server: CalendarServer, make_feed: Any, rental: Unit, flat_lock: Lock
) -> None:
    now = timezone.now()
    reserved = timed("hm-today@airbnb.com", now + timedelta(hours=3), now + timedelta(days=3))
    description = "DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/details/HMTODAY1\\n"
    description += "Phone Number (Last 4 Digits): 4321"
    later = timed("hm-later@airbnb.com", now + timedelta(days=10), now + timedelta(days=12))
    feed = make_feed(calendar_server.serve("/a.ics", calendar(f"{reserved}\n{description}", later)))
    assert feed_sync.sync_feed(feed.pk) == "2 booked"
    event = FeedEvent.objects.get(uid="hm-today@airbnb.com")
    assert event.phone_last_digits == "4321"
    assert FeedEvent.objects.get(uid="hm-later@airbnb.com").phone_last_digits == ""
    assert event.stay is not None
    # The 4 digits are no phone number: the guest still has no contact, so no "your code" message goes (as before).
    assert (event.stay.guest.email, event.stay.guest.phone) == ("", "")
    assert messages.contact_of(event.stay) == ("", "")
    response = client.post(arrival_url(rental), {"digits": "4321"})
    assert response["Location"] == guest_page(event.stay)
    # The channel changes the digits: the next body says so, and the stay is not touched.
    calendar_server.serve("/a.ics", calendar(f"{reserved}\n{description.replace('4321', '8765')}", later))
    updated = event.stay.updated_at
    assert feed_sync.sync_feed(feed.pk) == "2 unchanged"
    event.refresh_from_db()
    assert event.phone_last_digits == "8765"
    assert Stay.objects.get(pk=event.stay_id).updated_at == updated


MIGRATION = import_module("bookings.migrations.0003_arrival_links").Migration


@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_every_feed_read_its_calendar_again() -> None:
    before = MIGRATION.dependencies[0]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate([before])
    try:
        old = executor.loader.project_state([before]).apps
        organisation = old.get_model("tenants", "Organisation").objects.create(name="Alpha", slug="alpha")
        prop = old.get_model("tenants", "Property").objects.create(organisation=organisation, name="Flats")
        room = old.get_model("tenants", "Unit").objects.create(property=prop, name="Flat 2")
        old.get_model("bookings", "CalendarFeed").objects.create(
            organisation=organisation, unit=room, url="https://example.com/a.ics", content_hash="ab" * 32,
            etag='"v1"', last_modified="Fri, 04 Dec 2026 10:00:00 GMT",
        )  # fmt: skip
        MigrationExecutor(connection).migrate([("bookings", "0003_arrival_links")])
        feed = CalendarFeed.objects.values("content_hash", "etag", "last_modified", "url").get()  # columns of 0003
        assert (feed["content_hash"], feed["etag"], feed["last_modified"]) == ("", "", "")
        assert feed["url"] == "https://example.com/a.ics"
    finally:
        MigrationExecutor(connection).migrate(latest)


# --- the feeds page: owners and managers hand the link out ----------------------------------------------------------


def feeds_page(prop: Property) -> str:
    return reverse("bookings:feeds", args=[prop.pk])


def test_an_owner_shows_renews_and_revokes_the_link_audited(client: Client, owner: Any, stay: Stay) -> None:
    client.force_login(owner)
    unit = stay.unit
    page = client.get(feeds_page(unit.property)).content.decode()
    assert "Arrival link" in page
    assert "paste it into your airbnb check-in instructions" in page.lower()
    assert "None yet" in page
    assert not UnitArrivalLink.objects.exists()  # a GET makes nothing

    shown = client.post(reverse("bookings:arrival-link-show", args=[unit.pk]))
    assert shown.status_code == 200
    assert "no-store" in shown["Cache-Control"] or "no-cache" in shown["Cache-Control"]
    token = UnitArrivalLink.objects.get(unit=unit).token
    assert f"/u/{token}/" in shown.content.decode()
    assert token not in client.get(feeds_page(unit.property)).content.decode()  # a GET never shows it

    renewed = client.post(reverse("bookings:arrival-link-new", args=[unit.pk])).content.decode()
    new_token = UnitArrivalLink.objects.get(unit=unit).token
    assert new_token != token
    assert f"/u/{new_token}/" in renewed
    assert Client().get(f"/u/{token}/").status_code == 404
    assert Client().get(f"/u/{new_token}/").status_code == 200

    revoked = client.post(reverse("bookings:arrival-link-revoke", args=[unit.pk])).content.decode()
    assert "Revoked" in revoked
    assert Client().get(f"/u/{new_token}/").status_code == 404
    again = client.post(reverse("bookings:arrival-link-show", args=[unit.pk])).content.decode()
    assert new_token not in again  # a revoked link is not shown: a new one is the way back
    client.post(reverse("bookings:arrival-link-new", args=[unit.pk]))
    assert Client().get(arrival_url(unit)).status_code == 200

    rows = AuditEvent.objects.filter(object_type="Unit", object_id=str(unit.pk))
    actions = list(rows.order_by("pk").values_list("action", flat=True))
    assert actions == [
        "arrival_link.shown",
        "arrival_link.renewed",
        "arrival_link.revoked",
        "arrival_link.renewed",
    ]
    assert all(row.actor_id == owner.pk for row in rows)
    assert not rows.filter(summary__contains=token).exists()


def test_a_manager_may_too(client: Client, org: Organisation, unit: Unit, django_user_model: Any) -> None:
    manager = django_user_model.objects.create_user("manager", password="pw-manager-1")
    Membership.objects.create(user=manager, organisation=org, role=Role.MANAGER)
    client.force_login(manager)
    assert client.post(reverse("bookings:arrival-link-show", args=[unit.pk])).status_code == 200
    assert UnitArrivalLink.objects.filter(unit=unit).exists()


@pytest.mark.parametrize("who", ["front desk", "viewer"])
def test_the_front_desk_and_viewers_get_no_link(desk: Client, viewer: Client, unit: Unit, who: str) -> None:
    browser = desk if who == "front desk" else viewer
    page = browser.get(feeds_page(unit.property)).content.decode()
    assert "Show arrival link" not in page
    for name in ("bookings:arrival-link-show", "bookings:arrival-link-new", "bookings:arrival-link-revoke"):
        assert browser.post(reverse(name, args=[unit.pk])).status_code == 403
    assert not UnitArrivalLink.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="arrival_link.").exists()


def test_another_organisations_unit_is_404(client: Client, owner: Any, other_stay: Stay) -> None:
    client.force_login(owner)
    for name in ("bookings:arrival-link-show", "bookings:arrival-link-new", "bookings:arrival-link-revoke"):
        assert client.post(reverse(name, args=[other_stay.unit_id])).status_code == 404
    assert not UnitArrivalLink.objects.exists()


def test_the_desk_buttons_need_csrf_and_a_post(owner: Any, unit: Unit) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    assert browser.post(reverse("bookings:arrival-link-show", args=[unit.pk])).status_code == 403
    assert browser.get(reverse("bookings:arrival-link-show", args=[unit.pk])).status_code == 405
    assert not UnitArrivalLink.objects.exists()
