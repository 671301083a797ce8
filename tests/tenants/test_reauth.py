"""Recent authentication ("sudo mode", tenants/reauth.py): revealing a PIN, opening a door remotely, making an API key
and changing members are refused without a sign-in or a confirmed password in the last REAUTH_SECONDS, and allowed
after confirming on /accounts/confirm/. Wrong passwords count toward django-axes' lockout like the sign-in form's."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import django_rq
import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from locks import jobs
from locks.models import AccessCode, Lock, RemoteUnlockRequest
from tenants import reauth
from tenants.models import ApiKey, Membership, Organisation, Role, Stay
from tests.locks.conftest import World, run_workers

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
CONFIRM = "/accounts/confirm/"


def stale(client: Client, seconds: int = 301) -> None:
    """The last sign-in or confirmation was `seconds` ago."""
    session = client.session
    session[reauth.SESSION_KEY] = int(time.time()) - seconds
    session.save()


def confirm(client: Client, password: str, next_url: str = "/", **extra: Any) -> Any:
    return client.post(CONFIRM, {"password": password, "next": next_url}, **extra)


def asked_next(response: Any) -> str:
    """Where the confirm page will send the user back to, from a redirect or an htmx redirect to it."""
    target = response.get("HX-Redirect") or response["Location"]
    parts = urlsplit(target)
    assert parts.path == CONFIRM, target
    return parse_qs(parts.query)["next"][0]


def actions(name: str) -> int:
    return AuditEvent.objects.filter(action=name).count()


@pytest.fixture
def code(stay: Stay) -> AccessCode:
    return stay.access_codes.get()


# --- the window ------------------------------------------------------------------------------------------------


def test_signing_in_starts_the_window(client: Client, front_desk: Any) -> None:
    client.post(reverse("login"), {"username": "desk", "password": "pw-desk-1"})
    assert time.time() - client.session[reauth.SESSION_KEY] < 5
    forced = Client()
    forced.force_login(front_desk)  # sends user_logged_in too: how the suite's sessions are recent
    assert time.time() - forced.session[reauth.SESSION_KEY] < 5


def test_the_window_is_reauth_seconds(desk: Client, code: AccessCode, settings: Any) -> None:
    url = reverse("desk:code-reveal", args=[code.pk])
    stale(desk, 290)
    assert desk.post(url, headers=HTMX).status_code == 200
    assert actions("code.reveal") == 1
    settings.REAUTH_SECONDS = 60
    assert "HX-Redirect" in desk.post(url, headers=HTMX)
    assert actions("code.reveal") == 1


# --- the confirm page ------------------------------------------------------------------------------------------


def test_the_confirm_page_needs_a_sign_in(client: Client) -> None:
    response = client.get(CONFIRM)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_right_password_confirms_and_goes_back(desk: Client, front_desk: Any) -> None:
    stale(desk)
    page = desk.get(CONFIRM, {"next": "/desk/stays/?when=past"})
    assert page.status_code == 200
    assert 'name="next" value="/desk/stays/?when=past"' in page.content.decode()
    response = confirm(desk, "pw-desk-1", "/desk/stays/?when=past", REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 302
    assert response["Location"] == "/desk/stays/?when=past"
    assert time.time() - desk.session[reauth.SESSION_KEY] < 5
    ok = AuditEvent.objects.get(action="reauth.ok")
    assert (ok.actor, ok.ip_address) == (front_desk, "203.0.113.7")


def test_a_wrong_password_is_refused_audited_and_counted(desk: Client, front_desk: Any) -> None:
    stale(desk)
    response = confirm(desk, "wrong")
    assert response.status_code == 400
    assert "That is not your password." in response.content.decode()
    assert time.time() - desk.session[reauth.SESSION_KEY] > 300  # the window did not open
    assert actions("reauth.failed") == 1
    assert actions("auth.login_failed") == 1  # through authenticate(), as django-axes sees it


def test_wrong_passwords_lock_out_like_the_sign_in_form(desk: Client) -> None:
    stale(desk)
    for _ in range(4):
        assert confirm(desk, "wrong").status_code == 400
    locked = confirm(desk, "wrong")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert confirm(desk, "pw-desk-1").status_code == 429  # even the right password, for the cool-off
    assert actions("auth.locked_out") >= 1
    assert actions("reauth.ok") == 0
    # ... and the sign-in form from this address is locked for that username too: one count for both.
    assert Client().post(reverse("login"), {"username": "desk", "password": "pw-desk-1"}).status_code == 429


def test_a_success_resets_the_count(desk: Client) -> None:
    for _ in range(4):
        confirm(desk, "wrong")
    assert confirm(desk, "pw-desk-1").status_code == 302
    for _ in range(4):
        assert confirm(desk, "wrong").status_code == 400  # four more, not locked out on the first


def test_another_users_password_does_not_confirm(desk: Client, owner: Any) -> None:
    stale(desk)
    assert confirm(desk, "pw-owner-1").status_code == 400  # checked as the signed-in user's, whoever's it is
    assert actions("reauth.ok") == 0


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
    ],
)
def test_next_never_leaves_the_site(desk: Client, next_url: str) -> None:
    response = confirm(desk, "pw-desk-1", next_url)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert next_url not in desk.get(CONFIRM, {"next": next_url}).content.decode()


def test_the_confirm_post_needs_its_csrf_token(front_desk: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(front_desk)
    stale(browser)
    assert browser.post(CONFIRM, {"password": "pw-desk-1", "next": "/"}).status_code == 403
    assert actions("reauth.ok") == 0
    assert time.time() - browser.session[reauth.SESSION_KEY] > 300
    page = browser.get(CONFIRM)
    token = page.cookies["csrftoken"].value
    response = browser.post(CONFIRM, {"password": "pw-desk-1", "next": "/", "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_the_window_is_per_session(front_desk: Any) -> None:
    one, two = Client(), Client()
    for browser in (one, two):
        browser.force_login(front_desk)
        stale(browser)
    confirm(one, "pw-desk-1")
    assert time.time() - one.session[reauth.SESSION_KEY] < 5
    assert time.time() - two.session[reauth.SESSION_KEY] > 300  # a stolen cookie gains nothing from it


# --- revealing a PIN -------------------------------------------------------------------------------------------


def test_the_desk_reveal_asks_for_the_password_then_shows_the_pin(desk: Client, code: AccessCode) -> None:
    url = reverse("desk:code-reveal", args=[code.pk])
    stay_page = reverse("desk:stay", args=[code.stay_id])
    stale(desk)
    refused = desk.post(url, headers={**HTMX, "HX-Current-URL": f"http://testserver{stay_page}"})
    assert refused["HX-Redirect"]  # the whole page goes to the confirm page, not a fragment
    assert asked_next(refused) == stay_page
    assert code.pin not in refused.content.decode()
    assert actions("code.reveal") == 0
    assert [str(m) for m in get_messages(refused.wsgi_request)] == ["Confirm your password, then try again."]
    back = confirm(desk, "pw-desk-1", asked_next(refused))
    assert back["Location"] == stay_page
    shown = desk.post(url, headers=HTMX)
    assert code.pin in shown.content.decode()
    assert actions("code.reveal") == 1


def test_a_posted_form_without_htmx_is_sent_to_confirm_with_a_message(desk: Client, code: AccessCode) -> None:
    stay_page = reverse("desk:stay", args=[code.stay_id])
    stale(desk)
    refused = desk.post(
        reverse("desk:code-reveal", args=[code.pk]), headers={"Referer": f"http://testserver{stay_page}"}
    )
    assert refused.status_code == 302
    assert asked_next(refused) == stay_page
    page = desk.get(refused["Location"]).content.decode()
    assert "Confirm your password, then try again." in page  # never a form lost without a word
    offsite = desk.post(reverse("desk:code-reveal", args=[code.pk]), headers={"Referer": "https://evil.example/"})
    assert asked_next(offsite) == reverse("home")


def test_the_slip_and_message_previews_show_pins_so_ask_too(desk: Client, stay: Stay, code: AccessCode) -> None:
    stale(desk)
    for name in ("desk:slip", "desk:stay-message-preview"):
        response = desk.post(reverse(name, args=[stay.pk]))
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == CONFIRM
    assert actions("stay.slip") == actions("message.preview") == actions("code.reveal") == 0


def test_the_lock_page_reveals_ask_too(owner_client: Client, code: AccessCode) -> None:
    stale(owner_client)
    refused = owner_client.post(reverse("locks:code-reveal", args=[code.pk]), headers=HTMX)
    assert "HX-Redirect" in refused
    assert code.pin not in refused.content.decode()
    assert actions("code.reveal") == 0
    confirm(owner_client, "pw-owner-1")
    assert code.pin in owner_client.post(reverse("locks:code-reveal", args=[code.pk]), headers=HTMX).content.decode()


def test_an_offline_password_reveal_asks_too(owner_client: Client, lock: Lock) -> None:
    operation = lock.operations.create(organisation=lock.organisation, kind="offline", secret="73914026", status="done")
    stale(owner_client)
    refused = owner_client.post(reverse("locks:operation-reveal", args=[operation.pk]), headers=HTMX)
    assert "HX-Redirect" in refused
    assert "73914026" not in refused.content.decode()
    confirm(owner_client, "pw-owner-1")
    shown = owner_client.post(reverse("locks:operation-reveal", args=[operation.pk]), headers=HTMX)
    assert "73914026" in shown.content.decode()


def test_a_fresh_confirmation_reaches_no_other_organisation(desk: Client, other_stay: Stay) -> None:
    confirm(desk, "pw-desk-1")
    other_code = other_stay.access_codes.get()
    assert desk.post(reverse("desk:code-reveal", args=[other_code.pk]), headers=HTMX).status_code == 404
    assert actions("code.reveal") == 0


def test_a_viewer_who_confirms_is_still_refused(viewer: Client, code: AccessCode) -> None:
    stale(viewer)
    assert "HX-Redirect" in viewer.post(reverse("desk:code-reveal", args=[code.pk]), headers=HTMX)
    confirm(viewer, "pw-viewer-1")
    assert viewer.post(reverse("desk:code-reveal", args=[code.pk]), headers=HTMX).status_code == 403


# --- API keys --------------------------------------------------------------------------------------------------


def test_making_an_api_key_asks_for_the_password(owner_client: Client) -> None:
    stale(owner_client)
    data = {"name": "Opera PMS", "scopes": ["read"]}
    refused = owner_client.post(
        reverse("api-key-create"), data, headers={"Referer": "http://testserver/integrations/api-keys/"}
    )
    assert asked_next(refused) == "/integrations/api-keys/"
    assert not ApiKey.objects.exists()
    confirm(owner_client, "pw-owner-1")
    assert owner_client.post(reverse("api-key-create"), data).status_code == 200
    assert ApiKey.objects.get().name == "Opera PMS"


# --- members in the admin --------------------------------------------------------------------------------------


@pytest.fixture
def staff_owner(owner: Any) -> Any:
    owner.is_staff = True
    owner.save(update_fields=["is_staff"])
    owner.user_permissions.set(Permission.objects.filter(codename__endswith="_membership"))
    return owner


def test_changing_members_in_the_admin_asks_for_the_password(
    client: Client, staff_owner: Any, front_desk: Any, org: Organisation
) -> None:
    client.force_login(staff_owner)
    stale(client)
    desk_membership = Membership.objects.get(user=front_desk)
    add = reverse("admin:tenants_membership_add")
    change = reverse("admin:tenants_membership_change", args=[desk_membership.pk])
    delete = reverse("admin:tenants_membership_delete", args=[desk_membership.pk])
    listing = reverse("admin:tenants_membership_changelist")
    assert asked_next(client.get(add)) == add  # a page: back to itself after confirming
    assert asked_next(client.get(change)) == change
    assert asked_next(client.get(delete)) == delete
    posted = {"user": front_desk.pk, "organisation": org.pk, "role": Role.VIEWER}
    assert asked_next(client.post(change, posted, headers={"Referer": f"http://testserver{change}"})) == change
    assert asked_next(client.post(delete, {"post": "yes"})) == reverse("home")
    bulk = {"action": "delete_selected", "_selected_action": [desk_membership.pk], "post": "yes"}
    assert urlsplit(client.post(listing, bulk)["Location"]).path == CONFIRM
    desk_membership.refresh_from_db()
    assert desk_membership.role == Role.FRONT_DESK
    assert client.get(listing).status_code == 200  # the list itself is only a look
    confirm(client, "pw-owner-1")
    assert client.get(change).status_code == 200
    assert client.post(change, posted).status_code == 302
    desk_membership.refresh_from_db()
    assert desk_membership.role == Role.VIEWER


def test_a_manager_looks_at_members_without_confirming(
    client: Client, org: Organisation, django_user_model: Any
) -> None:
    manager = django_user_model.objects.create_user("manager", password="pw-manager-1", is_staff=True)
    manager.user_permissions.set(Permission.objects.filter(codename__endswith="_membership"))
    membership = Membership.objects.create(user=manager, organisation=org, role=Role.MANAGER)
    client.force_login(manager)
    stale(client)
    assert client.get(reverse("admin:tenants_membership_change", args=[membership.pk])).status_code == 200


# --- opening a door remotely (the simulator, real workers) -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_opening_from_the_lock_page_asks_for_the_password(
    client: Client, org: Organisation, make_lock: Any, world: World, django_user_model: Any
) -> None:
    lock = make_lock("zigbee")
    manager = django_user_model.objects.create_user("manager", password="pw-manager-1")
    Membership.objects.create(user=manager, organisation=org, role=Role.MANAGER)
    client.force_login(manager)
    stale(client)
    lock_page = reverse("locks:lock", args=[lock.pk])
    url = reverse("locks:lock-remote-open", args=[lock.pk])
    assert client.get(url, headers=HTMX).status_code == 200  # the section's polling needs no password
    refused = client.post(url, headers={**HTMX, "HX-Current-URL": f"http://testserver{lock_page}"})
    assert asked_next(refused) == lock_page
    assert not RemoteUnlockRequest.objects.exists()
    confirm(client, "pw-manager-1")
    assert "Opening the door" in client.post(url, headers=HTMX).content.decode()
    run_workers()
    assert RemoteUnlockRequest.objects.get().status == RemoteUnlockRequest.Status.APPROVED


@pytest.mark.django_db(transaction=True)
def test_approving_a_doorbell_asks_for_the_password(owner_client: Client, make_lock: Any, world: World) -> None:
    lock = make_lock("wifi_video")
    world.call("POST", f"/_sim/devices/{lock.device_id}/remote-request", {})
    django_rq.get_queue("sync").enqueue(jobs.sync_lock_events, lock.pk)
    run_workers()
    request = RemoteUnlockRequest.objects.get(lock=lock)
    stale(owner_client)
    approve = reverse("locks:remote-unlock-decide", args=[request.pk, "approve"])
    refused = owner_client.post(approve, headers=HTMX)
    assert "HX-Redirect" in refused
    request.refresh_from_db()
    assert request.status == RemoteUnlockRequest.Status.PENDING
    assert actions("lock.remote_unlock") == 0
    confirm(owner_client, "pw-owner-1")
    assert owner_client.post(approve, headers=HTMX).status_code == 200
    request.refresh_from_db()
    assert request.status in (RemoteUnlockRequest.Status.APPROVING, RemoteUnlockRequest.Status.APPROVED)
    assert actions("lock.remote_unlock") == 1


# --- the owners' Security page (signin/) -----------------------------------------------------------------------


def test_resetting_a_members_factors_or_the_requirement_asks_for_the_password(
    owner_client: Client, front_desk: Any, org: Organisation
) -> None:
    membership = Membership.objects.get(user=front_desk, organisation=org)
    before = org.require_second_factor
    stale(owner_client)
    page = {"Referer": "http://testserver/security/"}
    reset = owner_client.post(reverse("signin:member-reset", args=[membership.pk]), headers=page)
    assert asked_next(reset) == "/security/"
    switched = owner_client.post(reverse("signin:requirement"), {"require_second_factor": ""}, headers=page)
    assert asked_next(switched) == "/security/"
    org.refresh_from_db()
    assert org.require_second_factor == before
    assert not AuditEvent.objects.filter(action__startswith="member.factors").exists()
    assert not AuditEvent.objects.filter(action__startswith="organisation.second_factor").exists()
