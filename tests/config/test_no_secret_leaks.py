"""Issue #7, docs/reliability.md S7: issued PINs, offline-password secrets, device keys and the cloud secret appear
on no list page (before a reveal), on no error page (DEBUG off), and in no log line, even of a request that failed
with a PIN in its form. The admin's pages are checked in tests/locks/test_admin.py, the code lifecycle's logs in
tests/locks/test_logs_keep_secrets.py; this covers the dashboard, the desk and the error paths.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path, reverse

from locks.models import AccessCode, CloudAccount, EventMedia, Lock, LockOperation, LockUser, UnlockMethod
from tenants.models import Stay
from tests.locks.test_admin import SECRET, Tenant, build_tenant

pytestmark = pytest.mark.django_db

PIN = "8617342"


@pytest.fixture
def tenant(db: None, django_user_model: Any, settings: Any) -> Tenant:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_tenant("Alpha", "alpha", PIN, django_user_model)


def secrets_of(t: Tenant) -> list[str]:
    operation = LockOperation.objects.get(pk=t.objects[LockOperation].pk)
    media = EventMedia.objects.get(pk=t.objects[EventMedia].pk)
    return [t.pin, SECRET, t.local_key, operation.secret, media.file_key]


def list_pages(t: Tenant) -> dict[str, str]:
    lock, code, stay = t.objects[Lock], t.objects[AccessCode], t.objects[Stay]
    return {
        "portfolio": reverse("locks:portfolio"),
        "property": reverse("locks:property", args=[lock.unit.property_id]),  # type: ignore[attr-defined]
        "lock page": reverse("locks:lock", args=[lock.pk]),
        "lock page, codes fragment": reverse("locks:lock", args=[lock.pk]) + "?part=codes",
        "code row": reverse("locks:code-row", args=[code.pk]),
        "code edit": reverse("locks:code-edit", args=[code.pk]),
        "operation row": reverse("locks:operation-row", args=[t.objects[LockOperation].pk]),
        "lock users": reverse("locks:lock-users", args=[lock.pk]),
        "unlock method": reverse("locks:unlock-method", args=[t.objects[UnlockMethod].pk]),
        "lock user edit": reverse("locks:lock-user-edit", args=[t.objects[LockUser].pk]),
        "activity": reverse("locks:activity"),
        "alerts": reverse("locks:alerts"),
        "remote unlock": reverse("locks:remote-unlock"),
        "setup": reverse("locks:setup"),
        "cloud account row": reverse("locks:cloud-account", args=[t.objects[CloudAccount].pk]),
        "desk": reverse("desk:today"),
        "stays, current": reverse("desk:stays"),
        "stays, upcoming": reverse("desk:stays") + "?when=upcoming",
        "stays, past": reverse("desk:stays") + "?when=past",
        "stay page": reverse("desk:stay", args=[stay.pk]),
        "code status": reverse("desk:code-status", args=[code.pk]),
        "admin, codes": reverse("admin:locks_accesscode_changelist"),
        "admin, cloud accounts": reverse("admin:locks_cloudaccount_changelist"),
        "admin, operations": reverse("admin:locks_lockoperation_changelist"),
    }


@pytest.mark.parametrize("htmx", [False, True])
def test_no_list_page_shows_a_pin_or_a_secret_before_a_reveal(
    tenant: Tenant, htmx: bool, everything_logged: io.StringIO
) -> None:
    client = Client()
    client.force_login(tenant.staff)  # an owner: the role that may reveal, so the page offers it but must not show it
    headers = {"HX-Request": "true"} if htmx else {}
    shown = []
    for name, url in list_pages(tenant).items():
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (name, response.status_code)
        html = response.content.decode()
        shown += [f"{name}: {secret}" for secret in secrets_of(tenant) if secret in html]
    assert not shown
    # The pages did show the code, masked: the check above looked where a PIN would be.
    lock_page = client.get(reverse("locks:lock", args=[tenant.objects[Lock].pk])).content.decode()
    assert "Alpha code" in lock_page
    assert "•" * len(PIN) in lock_page
    written = everything_logged.getvalue()
    assert "doors.request" in written
    assert not [s for s in secrets_of(tenant) if s in written]


def test_a_refused_cloud_connect_does_not_echo_the_secret(tenant: Tenant) -> None:
    client = Client()
    client.force_login(tenant.staff)
    typed = "tuya-secret-TYPED-4417"
    response = client.post(reverse("locks:cloud-connect"), {"name": "", "endpoint": "eu", "access_id": "x",
                                                            "access_secret": typed})  # fmt: skip
    assert response.status_code == 400
    assert typed not in response.content.decode()


# --- error pages, DEBUG off ------------------------------------------------------------------------------------


def _raises(exception: Exception) -> Any:
    def view(request: HttpRequest) -> HttpResponse:
        raise exception

    return view


SECRET_TEXT = f"pin {PIN} secret {SECRET}"
urlpatterns = [
    path("boom/404/", _raises(Http404(SECRET_TEXT))),
    path("boom/403/", _raises(PermissionDenied(SECRET_TEXT))),
    path("boom/400/", _raises(SuspiciousOperation(SECRET_TEXT))),
    path("boom/500/", _raises(RuntimeError(SECRET_TEXT))),
    path("", include("config.urls")),
]


@pytest.mark.urls("tests.config.test_no_secret_leaks")
@pytest.mark.parametrize("status", [400, 403, 404, 500])
def test_error_pages_show_nothing_of_the_failure(settings: Any, status: int) -> None:
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get(f"/boom/{status}/")
    assert response.status_code == status
    html = response.content.decode()
    assert PIN not in html
    assert SECRET not in html
    assert "Traceback" not in html


def test_a_request_that_fails_with_a_pin_in_its_form_logs_neither_the_pin_nor_the_form(
    tenant: Tenant, settings: Any, monkeypatch: pytest.MonkeyPatch, everything_logged: io.StringIO
) -> None:
    """An unexpected error while a PIN is in flight: a 500 page, one log line with the traceback, no POST data."""
    from locks import codes

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(codes, "change_access_code", broken)
    settings.DEBUG = False
    code = AccessCode.objects.get(pk=tenant.objects[AccessCode].pk)
    client = Client(raise_request_exception=False)
    client.force_login(tenant.staff)
    new_pin = "5038271"
    response = client.post(
        reverse("locks:code-edit", args=[code.pk]),
        {"starts_at": "2030-01-01T10:00", "ends_at": "2030-01-02T10:00", "pin": new_pin, "version": code.version},
    )
    assert response.status_code == 500
    html = response.content.decode()
    written = everything_logged.getvalue()
    assert "the database went away" in written  # the capture saw the failure
    for secret in (new_pin, *secrets_of(tenant)):
        assert secret not in html
        assert secret not in written


def test_a_404_for_a_missing_lock_or_stay_keeps_the_secrets(tenant: Tenant) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(tenant.staff)
    for url in (reverse("locks:lock", args=[987654]), reverse("desk:stay", args=[987654])):
        response = client.get(url)
        assert response.status_code == 404
        assert not [s for s in secrets_of(tenant) if s in response.content.decode()]
