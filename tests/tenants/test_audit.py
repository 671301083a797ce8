"""Sign-ins, sign-outs, failed sign-ins and refused forms land in the audit trail: who, when, from where."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "pw-correct-horse-17"
WRONG = "pw-wrong-battery-42"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ada(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("ada", password=PASSWORD)


def test_sign_in_is_audited_with_who_and_where(client: Client, ada: Any) -> None:
    response = client.post(reverse("login"), {"username": "ada", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.login")
    assert (event.actor, event.ip_address, event.object_id) == (ada, "203.0.113.7", str(ada.pk))
    assert event.at is not None


def test_sign_out_is_audited(client: Client, ada: Any) -> None:
    client.post(reverse("login"), {"username": "ada", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7")
    client.post(reverse("logout"), REMOTE_ADDR="203.0.113.8")
    event = AuditEvent.objects.get(action="auth.logout")
    assert (event.actor, event.ip_address) == (ada, "203.0.113.8")


def test_signing_out_when_not_signed_in_writes_nothing(client: Client) -> None:
    client.post(reverse("logout"))
    assert not AuditEvent.objects.filter(action="auth.logout").exists()


@pytest.mark.parametrize("username", ["ada", "nobody-by-that-name"])
def test_failed_sign_in_keeps_the_username_never_the_password(client: Client, ada: Any, username: str) -> None:
    response = client.post(reverse("login"), {"username": username, "password": WRONG}, REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 200  # the form again, with its error
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.actor is None
    assert event.ip_address == "198.51.100.4"
    assert username in event.summary
    for row in AuditEvent.objects.values_list("summary", "object_id", "object_type"):
        assert WRONG not in " ".join(row)
        assert "*****" not in " ".join(row)  # not even Django's masked stand-in


def test_failed_admin_sign_in_is_audited_too(client: Client, ada: Any) -> None:
    client.post(reverse("admin:login"), {"username": "ada", "password": WRONG}, REMOTE_ADDR="198.51.100.5")
    assert AuditEvent.objects.filter(action="auth.login_failed", ip_address="198.51.100.5").exists()


def test_a_form_without_its_csrf_token_is_refused_and_audited(ada: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(ada)
    response = browser.post(reverse("logout"), REMOTE_ADDR="192.0.2.9")
    assert response.status_code == 403
    assert b"Forbidden" in response.content
    assert b"Traceback" not in response.content
    event = AuditEvent.objects.get(action="access.refused")
    assert (event.actor, event.ip_address) == (ada, "192.0.2.9")
    assert "CSRF" in event.summary
    assert reverse("logout") in event.summary


def test_an_anonymous_csrf_refusal_is_audited_without_an_actor() -> None:
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(reverse("login"), {"username": "ada", "password": WRONG}, REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="access.refused")
    assert (event.actor, event.ip_address) == (None, "192.0.2.10")
    assert WRONG not in event.summary
    assert not AuditEvent.objects.filter(action="auth.login_failed").exists()  # refused before authenticating
