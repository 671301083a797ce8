"""Guest messages: the code message once every door is confirmed (or has its fallback), the check-out reminder, once
each whoever races, in the guest's language, never a PIN in a log or the trail; the stay page's preview and send again.

The codes here are confirmed by setting their status (the lock side is tested end to end in test_arrivals.py)."""

from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from bookings import arrivals, messages
from bookings.models import BookingPolicy, GuestPass, MessageTemplate, StayMessage
from locks.models import AccessCode, Alert
from tenants import services
from tenants.models import Guest, Membership, Organisation, Role, Stay, Unit
from tests.bookings.conftest import attach_lock
from tests.conftest import production_log

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)
Status = StayMessage.Status


def book(unit: Unit, guest: Guest, hours_ahead: float = 30, nights: float = 48, confirmed: bool = True) -> Stay:
    check_in = (timezone.now() + hours_ahead * HOUR).replace(second=0, microsecond=0)
    stay = services.book_stay(unit=unit, guest=guest, check_in=check_in, check_out=check_in + nights * HOUR)
    if confirmed:  # the lock confirmed it
        stay.access_codes.update(status=AccessCode.Status.SET)
    return stay


@pytest.fixture
def stay(unit: Unit, guest: Guest) -> Stay:
    attach_lock(unit)
    return book(unit, guest)


def sent_files(outbox: Path, channel: str = "email") -> list[str]:
    folder = outbox / channel
    return [path.read_text() for path in sorted(folder.iterdir())] if folder.exists() else []


def test_the_code_message_goes_once_at_its_hour(stay: Stay, outbox: Path) -> None:
    assert messages.send_due_messages(now=stay.check_in - 25 * HOUR) == 0  # not yet: 24 h before by default
    now = stay.check_in - 24 * HOUR
    assert messages.send_due_messages(now=now) == 1
    assert messages.send_due_messages(now=now) == 0  # the second run finds it sent
    assert messages.send_due_messages(now=now + HOUR) == 0
    [text] = sent_files(outbox)
    pin = stay.access_codes.get().pin
    assert "To: ada@example.com" in text
    assert f"Your door code: {pin}" in text
    assert "Subject: Your door code for Canal Hotel, Room 12" in text
    assert "Address:" not in text  # the property has none: the label goes with it
    assert "Your stay's page: http://127.0.0.1:8000/g/" in text
    message = StayMessage.objects.get()
    assert (message.kind, message.status, message.channel, message.to, message.automatic) == (
        "code", Status.SENT, "email", "ada@example.com", True,
    )  # fmt: skip


def test_no_code_message_while_a_code_is_unconfirmed(unit: Unit, guest: Guest, outbox: Path) -> None:
    attach_lock(unit)
    attach_lock(unit, "Front door")
    stay = book(unit, guest, confirmed=False)
    stay.access_codes.filter(lock__name="Room door").update(status=AccessCode.Status.SET)
    assert messages.send_due_messages(now=stay.check_in - 2 * HOUR) == 0
    assert not StayMessage.objects.exists()
    composed = messages.compose(stay, "code")
    assert not composed.ready
    assert composed.reason is not None
    assert composed.reason.english == "Not ready yet: no confirmed code (and no fallback) on Front door."


def test_a_stay_booked_later_than_the_hour_gets_its_message_at_once(unit: Unit, guest: Guest, outbox: Path) -> None:
    attach_lock(unit)
    stay = book(unit, guest, hours_ahead=3)
    assert messages.send_due_messages(now=timezone.now()) == 1
    assert StayMessage.objects.get(stay=stay).status == Status.SENT


def test_a_claim_held_by_a_live_worker_is_left_and_a_lapsed_one_is_taken_over(stay: Stay, outbox: Path) -> None:
    now = stay.check_in - 24 * HOUR
    # Another worker claimed it a minute ago and is sending: this one leaves it alone.
    StayMessage.objects.create(stay=stay, kind="code", status=Status.SENDING, claimed_at=now - timedelta(minutes=1))
    assert messages.send_due_messages(now=now) == 0
    assert sent_files(outbox) == []
    # That worker died: once its claim lapses the message is sent, by one worker, on the same row.
    later = now + messages.CLAIM + timedelta(minutes=1)
    assert messages.send_due_messages(now=later) == 1
    assert messages.send_due_messages(now=later) == 0
    assert len(sent_files(outbox)) == 1
    assert StayMessage.objects.get().status == Status.SENT


def test_two_racing_claims_make_one_message(stay: Stay, outbox: Path) -> None:
    now = stay.check_in - 24 * HOUR
    first = messages._claim(stay, "code", now)
    second = messages._claim(stay, "code", now)  # the unique constraint refuses the second row
    assert first is not None
    assert second is None
    assert StayMessage.objects.count() == 1


def test_no_contact_is_recorded_and_shown_on_the_stay_page(
    unit: Unit, org: Organisation, front_desk: AbstractUser, client: Client, outbox: Path
) -> None:
    attach_lock(unit)
    stay = book(unit, Guest.objects.create(organisation=org, name="Nobody Known"))
    assert messages.send_due_messages(now=stay.check_in - 24 * HOUR) == 1
    message = StayMessage.objects.get()
    assert (message.status, message.to) == (Status.NO_CONTACT, "")
    assert not outbox.exists()
    client.force_login(front_desk)
    page = client.get(reverse("desk:stay", args=[stay.pk])).content.decode()
    assert "No e-mail or phone" in page


def test_sms_when_the_guest_has_only_a_phone(unit: Unit, org: Organisation, outbox: Path) -> None:
    attach_lock(unit)
    stay = book(unit, Guest.objects.create(organisation=org, name="Phone Only", phone="+31612345678"))
    messages.send_due_messages(now=stay.check_in - 24 * HOUR)
    [text] = sent_files(outbox, "sms")
    assert "To: +31612345678" in text
    assert stay.access_codes.get().pin in text


def test_the_guests_language_then_the_propertys_then_the_defaults(unit: Unit, org: Organisation) -> None:
    attach_lock(unit)
    prop = unit.property
    MessageTemplate.objects.create(
        property=prop, kind="code", language="es", subject="Su código", body="Hola {guest}: {codes}"
    )
    MessageTemplate.objects.create(
        property=prop, kind="code", language="fr", subject="Votre code", body="Bonjour {guest}: {codes}"
    )
    spanish = book(unit, Guest.objects.create(organisation=org, name="Ana", email="ana@example.com", language="es"))
    composed = messages.compose(spanish, "code")
    assert (composed.language, composed.subject) == ("es", "Su código")
    assert composed.body.startswith("Hola Ana: Su código de la puerta: ")  # the words filled in follow the template

    prop.language = "fr"
    prop.save()
    other_room = Unit.objects.create(property=prop, name="Room 14")
    attach_lock(other_room)
    unknown = book(
        other_room, Guest.objects.create(organisation=org, name="Hans", email="h@example.com", language="de")
    )
    assert messages.compose(unknown, "code").subject == "Votre code"  # no German one: the property's language

    prop.language = "en"
    prop.save()
    unknown.refresh_from_db()
    composed = messages.compose(Stay.objects.select_related("unit__property", "guest").get(pk=unknown.pk), "code")
    # No template in German nor in the property's English: the default words, now in the guest's German.
    assert (composed.language, composed.subject) == ("de", "Ihr Türcode für Canal Hotel, Room 14")


def test_unknown_placeholders_are_refused_in_words_and_never_crash_a_send(stay: Stay, outbox: Path) -> None:
    problems = messages.template_problems("code", "Hi {name}", "{codes} {guest.__class__} {")
    assert problems == [
        "The subject uses {name}, which is not a placeholder. Use only {guest}, {property}, {unit}, {address}, "
        "{codes}, {window}, {check_in}, {check_out}, {link}, {fallback}.",
        "The body has a lone { or }: write {{ or }} for a brace, or a {placeholder}.",
    ]
    assert messages.template_problems("code", "Code", "Hello {guest}") == [
        "A code message must include {codes} in its body: without it the guest gets no code."
    ]
    # One that reached the database anyway (an import, an old row) renders the unknown name as typed.
    MessageTemplate.objects.create(
        property=stay.unit.property, kind="code", language="en", subject="Hi {name}", body="{codes} {guest.__class__}"
    )
    assert messages.send_due_messages(now=stay.check_in - 24 * HOUR) == 1
    [text] = sent_files(outbox)
    assert "Subject: Hi {name}" in text
    assert "{guest.__class__}" in text


def test_the_check_out_reminder_goes_at_its_hour_or_not_at_all(stay: Stay, outbox: Path) -> None:
    assert messages.send_due_messages(now=stay.check_out - 3 * HOUR) == 0  # the code message went long before
    StayMessage.objects.all().delete()
    stay.access_codes.update(status=AccessCode.Status.REQUESTED)  # no code message in the way of this test
    assert messages.send_due_messages(now=stay.check_out - 3 * HOUR) == 0
    assert messages.send_due_messages(now=stay.check_out - 2 * HOUR) == 1
    reminder = StayMessage.objects.get()
    assert reminder.kind == "checkout"
    assert "check-out from Room 12 is" in sent_files(outbox)[0]

    BookingPolicy.objects.create(property=stay.unit.property, checkout_reminder_hours=None)
    other = book(stay.unit, stay.guest, hours_ahead=100, nights=10, confirmed=False)
    assert messages.send_due_messages(now=other.check_out - HOUR) == 0


def test_no_pin_in_any_log_line_or_the_audit_trail(stay: Stay, outbox: Path) -> None:
    pin = stay.access_codes.get().pin
    with production_log(logging.DEBUG) as log:
        assert messages.send_due_messages(now=stay.check_in - 24 * HOUR) == 1
    assert pin in sent_files(outbox)[0]
    assert pin not in log.getvalue()
    events = AuditEvent.objects.filter(action__startswith="message.")
    assert [e.summary for e in events] == ["Your code by e-mail to ada@example.com"]
    assert all(pin not in e.summary for e in AuditEvent.objects.all())
    assert all(pin not in str(m.__dict__) for m in StayMessage.objects.all())


# --- the stay page ------------------------------------------------------------------------------------------


@pytest.fixture
def viewer(org: Organisation, django_user_model: Any) -> Client:
    user = django_user_model.objects.create_user("viewer", password="pw-viewer-1")
    Membership.objects.create(user=user, organisation=org, role=Role.VIEWER)
    browser = Client()
    browser.force_login(user)
    return browser


def test_the_desk_previews_masked_shows_pins_by_an_audited_post_and_sends_again(
    stay: Stay, front_desk: AbstractUser, client: Client, outbox: Path
) -> None:
    client.force_login(front_desk)
    pin = stay.access_codes.get().pin
    page = client.get(reverse("desk:stay", args=[stay.pk])).content.decode()
    assert 'Preview: <span lang="en">Your door code for Canal Hotel, Room 12</span>' in page
    assert "Your door code: " + "•" * len(pin) in page
    assert pin not in page
    assert "Show the previews with their PINs" in page

    shown = client.post(reverse("desk:stay-message-preview", args=[stay.pk]))
    assert shown.status_code == 200
    assert f"Your door code: {pin}" in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    assert AuditEvent.objects.filter(action="message.preview", actor=front_desk).count() == 1

    response = client.post(reverse("desk:stay-message-send", args=[stay.pk]), {"kind": "code"}, follow=True)
    assert "“Your code” sent by e-mail to ada@example.com." in response.content.decode()
    message = StayMessage.objects.get()
    assert (message.automatic, message.status, message.created_by) == (False, Status.SENT, front_desk)
    assert AuditEvent.objects.get(action="message.send").actor == front_desk
    assert pin in sent_files(outbox)[0]


def test_send_again_is_refused_in_words_when_there_is_nothing_to_send(
    unit: Unit, guest: Guest, front_desk: AbstractUser, client: Client, outbox: Path
) -> None:
    attach_lock(unit)
    stay = book(unit, guest, confirmed=False)
    client.force_login(front_desk)
    response = client.post(reverse("desk:stay-message-send", args=[stay.pk]), {"kind": "code"}, follow=True)
    assert "Not ready yet: no confirmed code (and no fallback) on Room door." in response.content.decode()
    assert not StayMessage.objects.exists()
    assert not outbox.exists()


def test_a_viewer_sees_masked_previews_and_may_neither_show_pins_nor_send(stay: Stay, viewer: Client) -> None:
    pin = stay.access_codes.get().pin
    page = viewer.get(reverse("desk:stay", args=[stay.pk])).content.decode()
    assert 'Preview: <span lang="en">Your door code' in page
    assert pin not in page
    assert "Show the previews with their PINs" not in page
    assert "Send again" not in page
    assert "(the guest page&#x27;s link, hidden)" in page  # the link would open the guest's codes
    assert viewer.post(reverse("desk:stay-message-preview", args=[stay.pk])).status_code == 403
    assert viewer.post(reverse("desk:stay-message-send", args=[stay.pk]), {"kind": "code"}).status_code == 403
    assert not StayMessage.objects.exists()


def test_the_defaults_used_for_properties_without_a_policy_are_the_models() -> None:
    policy = BookingPolicy()
    assert {
        "code_message_hours": policy.code_message_hours,
        "checkout_reminder_hours": policy.checkout_reminder_hours,
    } == messages.POLICY_DEFAULT_HOURS


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two workers at once need a database that has them")
def test_two_workers_at_once_send_one_message(unit: Unit, guest: Guest, outbox: Path) -> None:
    attach_lock(unit)
    stay = book(unit, guest)
    now = stay.check_in - 24 * HOUR
    start = threading.Barrier(2)
    handled: list[int] = []

    def worker() -> None:
        start.wait(10)
        try:
            handled.append(messages.send_due_messages(now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(handled) == [0, 1]
    assert len(sent_files(outbox)) == 1
    assert StayMessage.objects.get().status == Status.SENT


@pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's")
def test_the_due_message_query_asks_the_index_per_stay_not_every_message_ever_sent() -> None:
    now = timezone.now()
    due = Stay.objects.filter(messages._unsettled("code", now), status=Stay.Status.BOOKED, check_in__lte=now)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # an empty test table would be read whole otherwise
        try:
            plan = due.explain()
        finally:
            cursor.execute("SET enable_seqscan = on")
    assert "Anti Join" in plan
    assert "Index Scan using bookings_staymessage" in plan or "one_automatic_message_per_kind" in plan


def test_a_fallback_after_the_code_message_went_tells_the_desk_to_send_it_again(stay: Stay, outbox: Path) -> None:
    assert messages.send_due_messages(now=stay.check_in - 24 * HOUR) == 1
    stay.access_codes.update(status=AccessCode.Status.FAILED)  # the lock lost it afterwards
    arrivals.check_arrivals(now=stay.check_in - 2 * HOUR)
    [alert] = Alert.objects.filter(kind=Alert.Kind.ARRIVAL_AT_RISK)
    assert "the code message had already gone, so send it again from the stay page" in alert.text
    assert messages.send_due_messages(now=stay.check_in - 2 * HOUR) == 0  # once: the desk sends it again


def test_the_message_carries_the_guest_pages_link(stay: Stay, outbox: Path, settings: Any) -> None:
    settings.PUBLIC_BASE_URL = "https://doors.example"
    assert messages.send_due_messages(now=stay.check_in - 24 * HOUR) == 1
    token = GuestPass.objects.get(stay=stay).token
    assert f"Your stay's page: https://doors.example/g/{token}/" in sent_files(outbox)[0]


def test_a_link_the_desk_revoked_is_not_sent(stay: Stay, outbox: Path) -> None:
    GuestPass.objects.create(stay=stay, token_hash="0" * 64, token="revoked-token", revoked_at=timezone.now())
    assert messages.send_due_messages(now=stay.check_in - 24 * HOUR) == 1
    [text] = sent_files(outbox)
    assert "Your stay's page:" not in text
    assert "revoked-token" not in text


def test_a_spanish_guest_gets_the_default_words_in_spanish(
    unit: Unit, guest: Guest, settings: Any, mailoutbox: list[Any]
) -> None:
    settings.CODE_EMAIL_BACKEND = "tenants.notify.DjangoMail"  # Django's mail: the locmem backend under pytest
    guest.language = "es"
    guest.save()
    attach_lock(unit)
    stay = book(unit, guest, hours_ahead=2)
    assert messages.send_due_messages(now=timezone.now()) == 1
    [mail] = mailoutbox
    pin = stay.access_codes.get().pin
    assert mail.subject.startswith("Su código de la puerta para ")
    assert mail.body.startswith(f"Hola, {guest.name},")
    assert f"Su código de la puerta: {pin}" in mail.body
    assert re.search(r"funciona desde el (lun|mar|mié|jue|vie|sáb|dom) \d+ \w+ \d\d:\d\d hasta el", mail.body)
    assert StayMessage.objects.get(stay=stay).language == "es"
    assert "Your door code" not in mail.body
