"""A passkey as the second sign-in factor, in Chromium with its virtual WebAuthn authenticator (DevTools protocol):
an owner whose organisation requires a second factor enrols a passkey after the password, then signs in with it.
The browser, the authenticator's signatures and django-otp-webauthn's checks are all real; the page's scripts come
from our static files under the Content-Security-Policy (a refused script would leave the button missing)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from audit.models import AuditEvent
from tenants.models import Membership, Organisation, Role
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

OWNER = ("pia", "pw-pia-passkey-1")


def wait_for(check: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_an_owner_enrols_a_passkey_and_signs_in_with_it(
    new_page: Callable[..., Any], live_server: Any, org: Organisation, django_user_model: Any, settings: Any
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    Organisation.objects.filter(pk=org.pk).update(require_second_factor=True)
    owner = django_user_model.objects.create_user(OWNER[0], password=OWNER[1])
    Membership.objects.create(user=owner, organisation=org, role=Role.OWNER)

    page = new_page()
    authenticator = page.context.new_cdp_session(page)
    authenticator.send("WebAuthn.enable")
    authenticator.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda message: csp_errors.append(message.text) if "Content Security Policy" in message.text else None,
    )

    log_in(page, *OWNER)
    assert "/accounts/enrol/" in page.url  # enrolment first: the organisation requires a second factor
    page.get_by_role("button", name="Add a passkey or security key").click()
    wait_for(lambda: WebAuthnCredential.objects.filter(user=owner, confirmed=True).exists())
    page.goto("/desk/")
    assert "/desk/" in page.url  # the session passed with the new passkey

    page.goto("/accounts/login/")
    page.context.clear_cookies()
    log_in(page, *OWNER)
    assert "/accounts/verify/" in page.url
    page.get_by_role("button", name="Use a passkey or security key").click()
    page.wait_for_url(lambda url: "/accounts/verify/" not in url)
    page.goto("/desk/")
    assert "/desk/" in page.url
    assert AuditEvent.objects.filter(actor=owner, action="second_factor.verified", summary__contains="passkey").exists()
    assert not csp_errors, csp_errors
