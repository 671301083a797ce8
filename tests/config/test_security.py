"""Sign-in lockouts (django-axes), session timeouts, sessions ended with the last membership, and the CSP."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from config.middleware import SESSION_SEEN, SESSION_STARTED
from tenants.models import Membership, Organisation, Role

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def member(django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("ada", password="correct-horse-battery")
    org = Organisation.objects.create(name="Canal Hotel", slug="canal")
    Membership.objects.create(user=user, organisation=org, role=Role.MANAGER)
    return user


def sign_in(client: Client, password: str, ip: str = "203.0.113.7") -> Any:
    return client.post(reverse("login"), {"username": "ada", "password": password}, REMOTE_ADDR=ip)


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))


# --- brute force ------------------------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_that_user_from_that_address_and_are_audited(client: Client, member: Any) -> None:
    for _ in range(4):
        assert sign_in(client, "wrong").status_code == 200  # the form again, with its error
    locked = sign_in(client, "wrong")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert sign_in(client, "correct-horse-battery").status_code == 429  # even the right password, for now
    assert actions().count("auth.login_failed") == 6
    assert "auth.locked_out" in actions()
    assert "auth.login" not in actions()
    # Someone else, elsewhere, cannot keep the real user out: the lock is for this username from this address.
    assert sign_in(Client(), "correct-horse-battery", ip="198.51.100.9").status_code == 302


def test_the_lockout_cools_off(client: Client, member: Any, settings: Any) -> None:
    for _ in range(5):
        sign_in(client, "wrong")
    assert sign_in(client, "correct-horse-battery").status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    assert sign_in(client, "correct-horse-battery").status_code == 302
    assert actions()[-1] == "auth.login"


def test_a_success_resets_the_count(client: Client, member: Any) -> None:
    for _ in range(4):
        sign_in(client, "wrong")
    assert sign_in(client, "correct-horse-battery").status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        assert sign_in(client, "wrong").status_code == 200


def test_force_login_is_not_counted_or_refused(client: Client, member: Any) -> None:
    for _ in range(5):
        sign_in(Client(), "wrong")
    client.force_login(member)  # how the suite signs in: no authenticate(), so no lockout
    assert client.get(reverse("locks:portfolio")).status_code == 200


# --- session timeouts -------------------------------------------------------------------------------------------


def shift_session(client: Client, **ago_seconds: int) -> None:
    session = client.session
    for key, ago in ago_seconds.items():
        session[{"started": SESSION_STARTED, "seen": SESSION_SEEN}[key]] = int(time.time()) - ago
    session.save()


def test_a_session_ends_after_the_idle_timeout(client: Client, member: Any, settings: Any) -> None:
    client.force_login(member)
    page = reverse("locks:portfolio")
    assert client.get(page).status_code == 200
    idle = settings.SESSION_IDLE_TIMEOUT_MANAGER_MINUTES * 60  # a manager's (tests/config/test_idle_timeouts.py)
    shift_session(client, seen=idle - 30)
    assert client.get(page).status_code == 200  # still within: and this request counts as activity
    shift_session(client, seen=idle + 1)
    response = client.get(page + "?q=x")
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=%2Fportfolio%2F%3Fq%3Dx"
    assert client.get(page).status_code == 302  # signed out, not just redirected once
    assert "auth.logout" in actions()


def test_a_session_ends_after_the_absolute_timeout_however_busy(client: Client, member: Any, settings: Any) -> None:
    client.force_login(member)
    assert client.get(reverse("locks:portfolio")).status_code == 200
    shift_session(client, started=settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS + 1, seen=5)
    response = client.get(reverse("locks:portfolio"), headers={"HX-Request": "true"})
    assert response.status_code == 204  # htmx: the whole page goes to the sign-in form, not the fragment
    assert response["HX-Redirect"].startswith(reverse("login") + "?next=")


def test_activity_is_written_at_most_once_a_minute(client: Client, member: Any) -> None:
    client.force_login(member)
    client.get(reverse("locks:portfolio"))
    seen = client.session[SESSION_SEEN]
    client.get(reverse("locks:portfolio"))
    assert client.session[SESSION_SEEN] == seen
    shift_session(client, seen=61)
    client.get(reverse("locks:portfolio"))
    assert client.session[SESSION_SEEN] >= int(time.time()) - 2


def test_timeouts_are_settings(settings: Any) -> None:
    assert settings.SESSION_IDLE_TIMEOUT_SECONDS == 8 * 3600
    assert settings.SESSION_IDLE_TIMEOUT_FRONT_DESK_MINUTES == 15
    assert settings.SESSION_IDLE_TIMEOUT_MANAGER_MINUTES == 30
    assert settings.SESSION_IDLE_TIMEOUT_VIEWER_MINUTES == 60
    assert settings.REAUTH_SECONDS == 300
    assert settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS == 24 * 3600
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS


# --- removed members --------------------------------------------------------------------------------------------


def test_removing_the_last_membership_ends_every_session_of_that_user(
    member: Any, django_user_model: Any, django_capture_on_commit_callbacks: Any
) -> None:
    laptop, phone, colleague = Client(), Client(), Client()
    laptop.force_login(member)
    phone.force_login(member)
    other = django_user_model.objects.create_user("bob")
    Membership.objects.create(user=other, organisation=Organisation.objects.get(), role=Role.VIEWER)
    colleague.force_login(other)
    with django_capture_on_commit_callbacks(execute=True):
        Membership.objects.get(user=member).delete()
    for client in (laptop, phone):
        assert client.get(reverse("locks:portfolio")).status_code == 302
    assert colleague.get(reverse("locks:portfolio")).status_code == 200
    assert Session.objects.count() == 1
    assert AuditEvent.objects.get(action="auth.sessions_ended").summary.endswith("2 session(s), no membership left")


def test_removing_one_of_several_memberships_keeps_the_session_but_not_the_organisation(
    client: Client, member: Any, django_capture_on_commit_callbacks: Any
) -> None:
    second = Organisation.objects.create(name="Riverside Lettings", slug="riverside")
    Membership.objects.create(user=member, organisation=second, role=Role.OWNER)
    client.force_login(member)
    assert "Riverside Lettings" in client.get(reverse("locks:portfolio")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        Membership.objects.get(user=member, organisation=second).delete()
    response = client.get(reverse("locks:portfolio"))
    assert response.status_code == 200
    assert "Riverside Lettings" not in response.content.decode()


# --- Content-Security-Policy ------------------------------------------------------------------------------------


def test_pages_carry_a_csp_whose_nonce_is_on_their_scripts(client: Client, member: Any) -> None:
    client.force_login(member)
    response = client.get(reverse("locks:portfolio"))
    policy = response["Content-Security-Policy"]
    (nonce,) = set(re.findall(r"'nonce-([^']+)'", policy))
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts
    assert all(f'nonce="{nonce}"' in tag for tag in scripts)
    assert '"allowEval": false' in html
    assert '"includeIndicatorStyles": false' in html
    assert client.get(reverse("locks:portfolio"))["Content-Security-Policy"] != policy  # a fresh nonce each time


def test_csp_can_be_report_only(client: Client, settings: Any) -> None:
    settings.CSP_REPORT_ONLY = True
    response = client.get(reverse("login"))
    assert "Content-Security-Policy" not in response
    assert "'nonce-" in response["Content-Security-Policy-Report-Only"]


def test_no_template_has_inline_handlers_or_scripts_and_inline_styles_carry_the_nonce() -> None:
    templates = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/**/templates/**/*.html")]
    assert len(templates) > 10
    for template in templates:
        if ".venv" in template.parts:
            continue
        text = template.read_text()
        assert not re.search(r"\son[a-z]+\s*=", text), template  # onclick=, onchange=, ...
        assert not re.search(r"\sstyle\s*=", text), template
        assert "javascript:" not in text, template
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, (template, tag)
        for tag in re.findall(r"<style\b[^>]*>", text):
            assert 'nonce="{{ csp_nonce }}"' in tag, (template, tag)


def test_the_job_dashboard_lets_inline_styles_through_but_never_inline_scripts(admin_client: Client) -> None:
    policy = admin_client.get("/django-rq/")["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'nonce-" in script_src
    assert "unsafe" not in script_src


# --- the favicon (#11 C.19) -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/", "/admin/"])
def test_every_page_links_the_favicon_from_the_app_itself(admin_client: Client, url: str) -> None:
    response = admin_client.get(url, follow=True)
    links = re.findall(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', response.content.decode())
    assert links == ["/static/favicon.svg"], url
    # Same origin, so the policy's img-src 'self' lets it through: no exception needed.
    assert "img-src 'self'" in response["Content-Security-Policy"]
    svg = (ROOT / "static" / "favicon.svg").read_text()
    assert svg.startswith("<svg")
    assert "<script" not in svg
    assert "style=" not in svg
