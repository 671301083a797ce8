"""What the calendar sync writes down for a person (why an event was not booked or moved, why a feed fails, the
double-booking alert) is read in the reader's language (issue 16 item 2): stored as English Words with arguments
(locks/words.py), a service's refusal and the dates inside translated with it, and English for the API."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from bookings.models import FeedEvent
from locks.models import Alert, Lock
from locks.words import Moment, Words, of_error
from tenants import services
from tenants.models import Guest, Property, Unit
from tests.bookings.conftest import CalendarServer, attach_lock, calendar, event
from tests.bookings.test_feed_sync import at, sync

pytestmark = pytest.mark.django_db


def test_words_keep_their_arguments_and_nested_words_through_json() -> None:
    moment = Moment(datetime(2026, 12, 7, 15, 0, tzinfo=ZoneInfo("UTC")), "America/New_York")
    inner = Words("It ended before the calendar was read.")
    words = Words("%(a)s %(when)s %(n)s", {"a": inner, "when": moment, "n": 3})
    again = Words.from_json(words.to_json())
    assert again.english == words.english == "It ended before the calendar was read. Mon 7 Dec 10:00 3"
    with translation.override("de"):
        # The day and month in German, in the property's zone (10:00 in New York), the sentence in German.
        assert again.text == "Es war schon vorbei, als der Kalender gelesen wurde. Mo 7 Dez 10:00 3"
        assert again.english.startswith("It ended")  # for records, English whoever reads


def test_a_refusal_raised_with_params_stays_translatable(org) -> None:
    prop = Property.objects.create(organisation=org, name="Hotel", kind=Property.Kind.HOTEL)
    room = Unit.objects.create(property=prop, name="Room 5")
    attach_lock(room)
    guest = Guest.objects.create(organisation=org, name="Ana")
    services.book_stay(unit=room, guest=guest, check_in=at(3, 15), check_out=at(5, 11))
    with pytest.raises(ValidationError) as refused:
        services.book_stay(unit=room, guest=guest, check_in=at(4, 15), check_out=at(6, 11))
    words = of_error(refused.value)
    assert words.template == "%(unit)s is already booked for part of that time."
    with translation.override("es"):
        assert words.text == f"{room} ya está reservada durante parte de ese tiempo."


def test_the_feeds_page_and_the_alert_say_the_syncs_problems_in_the_readers_language(
    calendar_server: CalendarServer, make_feed, flat_lock: Lock, client: Client, owner
) -> None:
    airbnb = make_feed(calendar_server.serve("/airbnb.ics", calendar(event("a1", 3, 6))), name="Airbnb")
    vrbo = make_feed(calendar_server.serve("/vrbo.ics", calendar(event("v1", 10, 12, "Reserved - Bo"))), name="Vrbo")
    broken = make_feed(calendar_server.serve("/broken.ics", b"<html>Sign in</html>"), name="Broken")
    sync(airbnb)
    sync(vrbo)
    calendar_server.serve("/vrbo.ics", calendar(event("v1", 5, 8, "Reserved - Bo")))
    sync(vrbo)
    sync(broken)
    row = FeedEvent.objects.get(feed=vrbo)
    (alert,) = Alert.objects.filter(kind=Alert.Kind.DOUBLE_BOOKING, resolved_at__isnull=True)
    assert row.problem.startswith("New dates ")
    assert row.problem_text == row.problem  # English stays English
    assert broken.last_error.startswith("The calendar address answered with a web page")

    with translation.override("es"):
        spanish = row.problem_text
        assert spanish.startswith("Nuevas fechas ")
        assert "Se solapa con la reserva " in spanish
        assert spanish.endswith(": la estancia conserva sus fechas.")
        assert "no se movió. Nuevas fechas" in alert.text
        assert broken.error_text.startswith("La dirección del calendario respondió con una página web")
    assert "was not moved. New dates" in alert.english_text  # the API's and webhooks' words

    client.force_login(owner)
    page = client.get(reverse("bookings:feeds", args=[flat_lock.unit.property_id]), HTTP_ACCEPT_LANGUAGE="es")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Se solapa con la reserva" in text
    assert "La dirección del calendario respondió" in text
    assert "It overlaps" not in text
    assert "answered with a web page" not in text
