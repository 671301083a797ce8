"""Sending a guest their code: once the lock confirms it, through the configured backend, audited without the PIN."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from tenants import services
from tenants.models import Membership, Role, Stay
from tests.locks.conftest import run_workers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def confirmed_stay(make_lock: Any, unit: Any, guest: Any, django_capture_on_commit_callbacks: Any) -> Stay:
    make_lock("wifi")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        stay = services.book_stay(
            unit=unit, guest=guest, check_in=now - timedelta(hours=1), check_out=now + timedelta(days=1)
        )
    run_workers()
    assert stay.access_codes.get().status == "set"
    return stay


@pytest.fixture
def outbox(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path / "outbox"


def test_email_goes_to_the_private_outbox_and_the_trail_has_no_pin(
    client: Client, front_desk: Any, confirmed_stay: Stay, outbox: Path
) -> None:
    client.force_login(front_desk)
    pin = confirmed_stay.access_codes.get().pin
    response = client.post(reverse("desk:stay-send", args=[confirmed_stay.pk]), {"channel": "email"}, follow=True)
    assert b"Code sent by e-mail to ada@example.com" in response.content
    assert pin.encode() not in response.content
    [message] = list((outbox / "email").iterdir())
    text = message.read_text()
    assert "To: ada@example.com" in text
    assert pin in text
    assert "Europe/Amsterdam" in text
    assert stat.S_IMODE(message.stat().st_mode) == 0o600
    event = AuditEvent.objects.get(action="code.send")
    assert event.actor == front_desk
    assert "ada@example.com" in event.summary
    assert all(pin not in e.summary for e in AuditEvent.objects.all())


def test_sms_needs_a_phone_number(client: Client, front_desk: Any, confirmed_stay: Stay, outbox: Path) -> None:
    client.force_login(front_desk)
    response = client.post(reverse("desk:stay-send", args=[confirmed_stay.pk]), {"channel": "sms"}, follow=True)
    assert b"has no phone number" in response.content
    assert not outbox.exists()
    assert not AuditEvent.objects.filter(action="code.send").exists()
    confirmed_stay.guest.phone = "+31 20 555 0101"
    confirmed_stay.guest.save()
    client.post(reverse("desk:stay-send", args=[confirmed_stay.pk]), {"channel": "sms"})
    [message] = list((outbox / "sms").iterdir())
    assert "To: +31 20 555 0101" in message.read_text()
    assert confirmed_stay.access_codes.get().pin in message.read_text()


def test_django_mail_backend_sends_through_email_backend(
    client: Client, front_desk: Any, confirmed_stay: Stay, settings: Any
) -> None:
    settings.CODE_EMAIL_BACKEND = "tenants.notify.DjangoMail"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.force_login(front_desk)
    client.post(reverse("desk:stay-send", args=[confirmed_stay.pk]), {"channel": "email"})
    [sent] = mail.outbox
    assert sent.to == ["ada@example.com"]
    assert confirmed_stay.access_codes.get().pin in sent.body


def test_a_failing_backend_is_a_message_and_an_audited_failure(
    client: Client, front_desk: Any, confirmed_stay: Stay, settings: Any
) -> None:
    settings.CODE_SMS_BACKEND = "tenants.notify.DjangoMail"  # refuses SMS: a misconfiguration, not a 500
    confirmed_stay.guest.phone = "+31 20 555 0101"
    confirmed_stay.guest.save()
    client.force_login(front_desk)
    response = client.post(reverse("desk:stay-send", args=[confirmed_stay.pk]), {"channel": "sms"}, follow=True)
    assert response.status_code == 200
    assert b"could not be sent (ImproperlyConfigured)" in response.content
    assert AuditEvent.objects.filter(action="code.send_failed").exists()
    assert not AuditEvent.objects.filter(action="code.send").exists()


# --- a hostile name never becomes a header (#11 B.8) ----------------------------------------------------------

HOSTILE = "Canal\r\nBcc: thief@evil.example\r\n"


def test_a_hostile_name_is_refused_where_it_is_typed(client: Client, unit: Any, django_user_model: Any) -> None:
    owner = django_user_model.objects.create_user("owner")
    Membership.objects.create(user=owner, organisation=unit.property.organisation, role=Role.OWNER)
    owner_client = client
    owner_client.force_login(owner)
    response = owner_client.post(
        reverse("setup:property-create"), {"name": HOSTILE, "kind": "hotel", "time_zone": "Europe/Amsterdam"}
    )
    assert "control characters" in response.content.decode()
    assert not type(unit.property).objects.filter(name__contains="thief").exists()
    response = owner_client.post(
        reverse("setup:units-create"), {"property": unit.property_id, "names": "101, Room\nBcc: thief@evil.example"}
    )
    assert "control characters" in response.content.decode()
    assert not type(unit).objects.filter(name__contains="thief").exists()


def test_a_hostile_name_already_stored_reaches_the_outbox_as_text_not_as_a_header(
    client: Client, front_desk: Any, confirmed_stay: Stay, outbox: Path
) -> None:
    """Rows saved before names were checked: the message is built by the e-mail library, so the outbox file has
    exactly its own headers, and the guest's e-mail address is its only recipient."""
    from email import message_from_bytes, policy

    unit = confirmed_stay.unit
    type(unit.property).objects.filter(pk=unit.property_id).update(name=HOSTILE)
    type(unit).objects.filter(pk=unit.pk).update(name="Room 12\nBcc: thief2@evil.example")
    type(confirmed_stay.guest).objects.filter(pk=confirmed_stay.guest_id).update(name="Ada\r\nBcc: thief3@evil.example")
    client.force_login(front_desk)
    pin = confirmed_stay.access_codes.get().pin
    response = client.post(reverse("desk:stay-send", args=[confirmed_stay.pk]), {"channel": "email"}, follow=True)
    assert b"Code sent by e-mail to ada@example.com" in response.content
    [file] = list((outbox / "email").iterdir())
    message = message_from_bytes(file.read_bytes(), policy=policy.default)
    assert sorted(message.keys()) == sorted(
        ["From", "To", "Subject", "Date", "Message-ID", "Content-Type", "Content-Transfer-Encoding", "MIME-Version"]
    )
    assert message.get_all("Bcc") is None
    assert message["To"] == "ada@example.com"
    assert "\n" not in str(message["Subject"])
    assert "thief@evil.example" in str(message["Subject"])
    body = message.get_content()
    assert pin in body
    assert pin not in str(message["Subject"])


def test_a_spanish_guest_gets_the_desks_message_in_spanish_whatever_the_clerk_reads(
    client: Client, front_desk: Any, confirmed_stay: Stay, settings: Any
) -> None:
    settings.CODE_EMAIL_BACKEND = "tenants.notify.DjangoMail"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    confirmed_stay.guest.language = "es"
    confirmed_stay.guest.save()
    client.force_login(front_desk)
    response = client.post(
        reverse("desk:stay-send", args=[confirmed_stay.pk]), {"channel": "email"}, headers={"accept-language": "de"}
    )
    assert response.status_code == 302
    [sent] = mail.outbox
    pin = confirmed_stay.access_codes.get().pin
    assert sent.subject.startswith("Su código de la puerta para ")
    assert f"Su código de la puerta: {pin}" in sent.body
    assert "Hola Ada" in sent.body
    assert "Your door code" not in sent.body
    assert "Europe/Amsterdam" in sent.body
