"""The second sign-in factor (issue 16 item 1): enrolment, the second step with real TOTP codes (computed here from the
device's key with RFC 6238, as an app would), replay and lockout, recovery codes, remembered devices and resets,
who is made to enrol, the admin for staff, the owners' Security page and its scoping, CSRF on every POST."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from signin.models import SecondFactorState
from signin.services import REMEMBER_COOKIE
from tenants.models import Membership, Organisation, Role
from tests.conftest import totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse 42"


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org() -> Organisation:
    return Organisation.objects.create(name="Canal Hotel", slug="canal")  # requires a second factor (the default)


def member(django_user_model: Any, org: Organisation, name: str, role: str, **extra: Any) -> Any:
    user = django_user_model.objects.create_user(name, password=PASSWORD, **extra)
    Membership.objects.create(user=user, organisation=org, role=role)
    return user


def sign_in(client: Client, username: str, follow: bool = False) -> Any:
    return client.post(reverse("login"), {"username": username, "password": PASSWORD}, follow=follow)


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    return totp_code(device, steps_ahead)


def enrol_app(client: Client, user: Any) -> tuple[TOTPDevice, list[str]]:
    """Through the pages: the enrolment page shows the QR code and key, the first code confirms it."""
    page = client.get(reverse("signin:enrol"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body
    assert "Key:" in body
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("signin:enrol-totp"), {"code": code_for(device)})
    assert response.status_code == 200, response.content
    device.refresh_from_db()
    assert device.confirmed
    codes = response.context["codes"]
    assert len(codes) == 10
    return device, codes


def test_an_owner_is_made_to_enrol_then_signs_in_with_a_code(
    client: Client, django_user_model: Any, org: Organisation
) -> None:
    owner = member(django_user_model, org, "olive", Role.OWNER)
    response = sign_in(client, "olive")
    assert response.status_code == 302
    # Every other page sends them to enrolment, htmx requests by HX-Redirect.
    desk = client.get(reverse("desk:today"))
    assert desk.status_code == 302
    assert desk["Location"].startswith(reverse("signin:enrol"))
    htmx = client.get(reverse("desk:today"), HTTP_HX_REQUEST="true")
    assert htmx.status_code == 204
    assert htmx["HX-Redirect"].startswith(reverse("signin:enrol"))
    # A wrong first code changes nothing.
    client.get(reverse("signin:enrol"))
    wrong = client.post(reverse("signin:enrol-totp"), {"code": "000000"})
    assert wrong.status_code == 400
    assert "not the one the app shows" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=owner, confirmed=True).exists()
    device, _ = enrol_app(client, owner)
    assert client.get(reverse("desk:today")).status_code == 200

    # Next sign-in: the code is asked for, and a code from the app passes.
    client.post(reverse("logout"))
    sign_in(client, "olive")
    assert client.get(reverse("desk:today"))["Location"].startswith(reverse("signin:verify"))
    passed = client.post(reverse("signin:verify"), {"code": code_for(device, steps_ahead=1), "next": "/desk/"})
    assert passed.status_code == 302
    assert passed["Location"] == "/desk/"
    assert client.get(reverse("desk:today")).status_code == 200
    actions = list(AuditEvent.objects.filter(actor=owner).values_list("action", flat=True))
    assert {"second_factor.enrolled", "second_factor.verified", "second_factor.recovery_codes_made"} <= set(actions)
    # No code or secret is in the audit trail.
    summaries = " ".join(AuditEvent.objects.values_list("summary", flat=True))
    assert code_for(device) not in summaries
    assert device.key not in summaries


def test_a_replayed_code_is_refused(client: Client, django_user_model: Any, org: Organisation) -> None:
    owner = member(django_user_model, org, "olive", Role.OWNER)
    sign_in(client, "olive")
    device, _ = enrol_app(client, owner)  # used the current step's code
    client.post(reverse("logout"))
    sign_in(client, "olive")
    replay = client.post(reverse("signin:verify"), {"code": code_for(device)})
    assert replay.status_code == 400
    assert "used already" in replay.content.decode()
    assert client.get(reverse("desk:today")).status_code == 302
    assert AuditEvent.objects.filter(actor=owner, action="second_factor.failed").count() == 1


def test_five_wrong_codes_sign_the_user_out_and_refuse_them(
    client: Client, django_user_model: Any, org: Organisation, settings: Any
) -> None:
    owner = member(django_user_model, org, "olive", Role.OWNER)
    sign_in(client, "olive")
    device, _ = enrol_app(client, owner)
    client.post(reverse("logout"))
    sign_in(client, "olive")
    for attempt in range(1, 5):
        wrong = client.post(
            reverse("signin:verify"), {"code": "123456" if code_for(device, 1) != "123456" else "654321"}
        )
        assert wrong.status_code == 400
        assert f"{5 - attempt} more" in wrong.content.decode()
    locked = client.post(reverse("signin:verify"), {"code": "999999" if code_for(device, 1) != "999999" else "888888"})
    assert locked.status_code == 429
    assert "paused" in locked.content.decode()
    assert client.get(reverse("desk:today"))["Location"].startswith(reverse("login"))  # signed out
    assert AuditEvent.objects.filter(actor=owner, action="second_factor.locked_out").exists()
    # The password is right, but the account is refused until the cool-off ends, even with a right code.
    sign_in(client, "olive")
    refused = client.get(reverse("desk:today"))
    assert refused.status_code == 429
    assert AuditEvent.objects.filter(actor=owner, action="second_factor.refused").exists()
    assert client.get(reverse("desk:today"))["Location"].startswith(reverse("login"))  # and signed out again
    state = SecondFactorState.objects.get(user=owner)
    assert state.locked_until is not None
    state.locked_until = None
    state.save()
    sign_in(client, "olive")
    passed = client.post(reverse("signin:verify"), {"code": code_for(device, steps_ahead=1)})
    assert passed.status_code == 302


def test_recovery_codes_work_once(client: Client, django_user_model: Any, org: Organisation) -> None:
    owner = member(django_user_model, org, "olive", Role.OWNER)
    sign_in(client, "olive")
    _, codes = enrol_app(client, owner)
    client.post(reverse("logout"))
    sign_in(client, "olive")
    assert client.post(reverse("signin:verify"), {"code": codes[0]}).status_code == 302
    client.post(reverse("logout"))
    sign_in(client, "olive")
    again = client.post(reverse("signin:verify"), {"code": codes[0]})
    assert again.status_code == 400
    assert client.post(reverse("signin:verify"), {"code": codes[1]}).status_code == 302
    # New codes replace the old ones (a verified session only).
    new = client.post(reverse("signin:recovery-codes"))
    assert new.status_code == 200
    assert not StaticDevice.objects.get(user=owner).token_set.filter(token=codes[2]).exists()


def test_a_remembered_device_skips_the_step_until_a_reset(
    client: Client, django_user_model: Any, org: Organisation, settings: Any
) -> None:
    settings.MFA_REMEMBER_COOKIE_SECURE = True  # production's value
    owner = member(django_user_model, org, "olive", Role.OWNER)
    clerk = member(django_user_model, org, "max", Role.MANAGER)
    sign_in(client, "max")
    device, _ = enrol_app(client, clerk)
    client.post(reverse("logout"))
    sign_in(client, "max")
    response = client.post(reverse("signin:verify"), {"code": code_for(device, 1), "remember": "on"})
    cookie = response.cookies[REMEMBER_COOKIE]
    assert cookie["secure"]
    assert cookie["httponly"]
    assert cookie.value
    client.post(reverse("logout"))
    sign_in(client, "max")
    assert client.get(reverse("desk:today")).status_code == 200  # no second step on this browser
    # Another browser without the cookie is asked.
    other = Client()
    sign_in(other, "max")
    assert other.get(reverse("desk:today"))["Location"].startswith(reverse("signin:verify"))

    # The owner resets the manager's factors: the remembered device no longer counts.
    boss = Client()
    sign_in(boss, "olive")
    owner_device, _ = enrol_app(boss, owner)
    membership = Membership.objects.get(user=clerk)
    assert boss.post(reverse("signin:member-reset", args=[membership.pk])).status_code == 302
    assert not TOTPDevice.objects.filter(user=clerk).exists()
    assert AuditEvent.objects.filter(action="member.factors_reset", organisation=org, actor=owner).exists()
    # The manager's open session (it passed the reset factor) ends at its next request, htmx ones too.
    ended = client.get(reverse("desk:today"), HTTP_HX_REQUEST="true")
    assert ended.status_code == 204
    assert ended["HX-Redirect"].startswith(reverse("login"))
    assert AuditEvent.objects.filter(action="second_factor.session_ended", actor=clerk).count() == 1
    assert client.get(reverse("desk:today"))["Location"].startswith(reverse("login"))  # signed out for good
    assert boss.get(reverse("desk:today")).status_code == 200  # the owner's own session is untouched
    sign_in(client, "max")
    assert client.get(reverse("desk:today"))["Location"].startswith(reverse("signin:enrol"))


def test_a_password_change_ends_remembered_devices(client: Client, django_user_model: Any, org: Organisation) -> None:
    clerk = member(django_user_model, org, "max", Role.MANAGER)
    sign_in(client, "max")
    device, _ = enrol_app(client, clerk)
    client.post(reverse("logout"))
    sign_in(client, "max")
    client.post(reverse("signin:verify"), {"code": code_for(device, 1), "remember": "on"})
    client.post(reverse("logout"))
    clerk.set_password(PASSWORD)  # the same words, a new hash: a change all the same
    clerk.save()
    sign_in(client, "max")
    assert client.get(reverse("desk:today"))["Location"].startswith(reverse("signin:verify"))


@pytest.mark.parametrize(
    ("role", "forced"), [(Role.OWNER, True), (Role.MANAGER, True), (Role.FRONT_DESK, False), (Role.VIEWER, False)]
)
def test_who_must_enrol(client: Client, django_user_model: Any, org: Organisation, role: str, forced: bool) -> None:
    member(django_user_model, org, "someone", role)
    sign_in(client, "someone")
    response = client.get(reverse("desk:stays"))
    assert (response.status_code == 302 and response["Location"].startswith(reverse("signin:enrol"))) is forced


def test_an_organisation_that_does_not_require_it(client: Client, django_user_model: Any, org: Organisation) -> None:
    member(django_user_model, org, "olive", Role.OWNER)
    Organisation.objects.filter(pk=org.pk).update(require_second_factor=False)
    sign_in(client, "olive")
    assert client.get(reverse("desk:today")).status_code == 200


def test_the_owner_changes_the_requirement_on_the_security_page(
    client: Client, django_user_model: Any, org: Organisation
) -> None:
    owner = member(django_user_model, org, "olive", Role.OWNER)
    sign_in(client, "olive")
    enrol_app(client, owner)
    assert client.get(reverse("signin:security")).status_code == 200
    client.post(reverse("signin:requirement"), {})
    org.refresh_from_db()
    assert not org.require_second_factor
    assert AuditEvent.objects.filter(action="organisation.second_factor_optional", organisation=org).exists()
    client.post(reverse("signin:requirement"), {"require_second_factor": "on"})
    org.refresh_from_db()
    assert org.require_second_factor


def test_the_security_page_is_for_owners_and_scoped(client: Client, django_user_model: Any, org: Organisation) -> None:
    owner = member(django_user_model, org, "olive", Role.OWNER)
    other_org = Organisation.objects.create(name="Harbour Inn", slug="harbour")
    stranger = member(django_user_model, other_org, "sam", Role.MANAGER)
    TOTPDevice.objects.create(user=stranger, name="app", confirmed=True)
    desk = member(django_user_model, org, "dana", Role.FRONT_DESK)
    sign_in(client, "olive")
    enrol_app(client, owner)
    page = client.get(reverse("signin:security")).content.decode()
    assert "dana" in page
    assert "sam" not in page
    theirs = Membership.objects.get(user=stranger)
    assert client.post(reverse("signin:member-reset", args=[theirs.pk])).status_code == 404
    assert TOTPDevice.objects.filter(user=stranger).exists()
    desk_client = Client()
    sign_in(desk_client, "dana")
    assert desk_client.get(reverse("signin:security")).status_code == 403
    mine = Membership.objects.get(user=owner)
    assert desk_client.post(reverse("signin:member-reset", args=[mine.pk])).status_code == 403
    assert desk.pk


def test_removing_your_own_factors_needs_a_verified_session(
    client: Client, django_user_model: Any, org: Organisation
) -> None:
    Organisation.objects.filter(pk=org.pk).update(require_second_factor=False)
    owner = member(django_user_model, org, "olive", Role.OWNER)
    sign_in(client, "olive")
    device, _ = enrol_app(client, owner)
    client.post(reverse("logout"))
    sign_in(client, "olive")
    # Not passed yet: the removal is not even reachable.
    refused = client.post(reverse("signin:remove-factors"))
    assert refused.status_code == 302
    assert refused["Location"].startswith(reverse("signin:verify"))
    assert TOTPDevice.objects.filter(user=owner).exists()
    client.post(reverse("signin:verify"), {"code": code_for(device, 1)})
    assert client.post(reverse("signin:remove-factors")).status_code == 302
    assert not TOTPDevice.objects.filter(user=owner, confirmed=True).exists()
    assert AuditEvent.objects.filter(actor=owner, action="second_factor.removed").exists()


def test_staff_must_pass_a_factor_for_the_admin(client: Client, django_user_model: Any) -> None:
    staff = django_user_model.objects.create_user("stella", password=PASSWORD, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="tenants"))
    response = client.post(reverse("admin:login"), {"username": "stella", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302
    admin = client.get("/admin/")
    assert admin.status_code == 302
    assert admin["Location"].startswith(reverse("signin:enrol"))
    device, _ = enrol_app(client, staff)
    assert client.get("/admin/").status_code == 200
    client.post(reverse("logout"))
    client.post(reverse("admin:login"), {"username": "stella", "password": PASSWORD, "next": "/admin/"})
    assert client.get("/admin/")["Location"].startswith(reverse("signin:verify"))
    client.post(reverse("signin:verify"), {"code": code_for(device, 1)})
    assert client.get("/admin/").status_code == 200


def test_enrolling_another_factor_needs_the_first(client: Client, django_user_model: Any, org: Organisation) -> None:
    owner = member(django_user_model, org, "olive", Role.OWNER)
    sign_in(client, "olive")
    enrol_app(client, owner)
    client.post(reverse("logout"))
    sign_in(client, "olive")
    # Someone with the password only cannot add their own app (or passkey) and skip the step.
    response = client.get(reverse("signin:enrol"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("signin:verify"))
    begin = client.post(reverse("otp_webauthn:credential-registration-begin"))
    assert begin.status_code in (401, 403)


@pytest.mark.parametrize(
    "name",
    ["signin:verify", "signin:enrol-totp", "signin:recovery-codes", "signin:remove-factors", "signin:requirement"],
)
def test_every_post_needs_a_csrf_token(django_user_model: Any, org: Organisation, name: str) -> None:
    Organisation.objects.filter(pk=org.pk).update(require_second_factor=False)  # past the second step: the view's turn
    member(django_user_model, org, "olive", Role.OWNER)
    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.get(username="olive"))
    assert client.post(reverse(name), {"code": "123456"}).status_code == 403


def test_the_member_reset_needs_a_csrf_token(django_user_model: Any, org: Organisation) -> None:
    Organisation.objects.filter(pk=org.pk).update(require_second_factor=False)
    owner = member(django_user_model, org, "olive", Role.OWNER)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    membership = Membership.objects.get(user=owner)
    assert client.post(reverse("signin:member-reset", args=[membership.pk])).status_code == 403


def test_an_owner_who_must_have_a_factor_and_removes_theirs_sets_one_up_again(
    client: Client, django_user_model: Any, org: Organisation
) -> None:
    owner = member(django_user_model, org, "olive", Role.OWNER)
    sign_in(client, "olive")
    enrol_app(client, owner)
    assert client.post(reverse("signin:remove-factors")).status_code == 302
    desk = client.get(reverse("desk:today"))
    assert desk.status_code == 302
    assert desk["Location"].startswith(reverse("signin:enrol"))


def test_a_superuser_passes_a_factor_for_the_job_dashboard_too(client: Client, django_user_model: Any) -> None:
    django_user_model.objects.create_superuser("root", password=PASSWORD)
    sign_in(client, "root")
    response = client.get("/django-rq/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("signin:enrol"))
