"""Holds a signed-in session to the second step it still owes (signin.services.PENDING): until it is passed, only the
second step's own pages, signing out and static files are reachable. The admin wants a passed second factor of every
staff user, whatever their organisations require."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY

from audit.services import audit
from config.http import redirect_whole_page
from signin import services
from tenants.signals import client_ip

# The pages a session that owes its second step may still reach (verify, enrol, passkey ceremonies, sign out).
OPEN_PREFIXES = (
    "/accounts/verify/",
    "/accounts/enrol/",
    "/accounts/webauthn/",
    "/accounts/login/",
    "/accounts/logout/",
)
# Staff-only places (the admin, and the job dashboard inside and outside it): a passed second factor, always.
STAFF_ONLY = ("/admin/", "/django-rq/")
ADMIN_OPEN = ("/admin/login/", "/admin/logout/")


class FactorPassedInSession:
    """Before django-otp's middleware (which forgets a session's device once it finds the device gone): note which
    device this session passed its second factor with, so that SecondFactorRequired can tell "never passed" from
    "passed with a factor since reset"."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.factor_passed_with = request.session.get(DEVICE_ID_SESSION_KEY)  # type: ignore[attr-defined]
        return self.get_response(request)


class SecondFactorRequired:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        passed_with = getattr(request, "factor_passed_with", None)
        user = request.user
        if not user.is_authenticated:
            return self.get_response(request)
        if passed_with and not services.is_verified(user):
            return _end_session(request, user)  # the factor this session passed was reset or removed elsewhere
        path = request.path_info
        step = request.session.get(services.PENDING)
        if step == services.LOCKED:
            audit(
                "second_factor.refused",
                actor=user,
                summary="signed in during a wrong-code cool-off",
                ip=client_ip(request),
            )
            logout(request)
            return render(request, "signin/locked_out.html", locked_context(), status=429)
        if step is not None and services.is_verified(user):
            # A passkey passed (or enrolled) through django-otp-webauthn's own views, which know nothing of the step.
            if step == services.VERIFY:
                services.after_passkey_verified(request, user)
            request.session.pop(services.PENDING, None)
            step = None
        admin = path.startswith(STAFF_ONLY) and not path.startswith(ADMIN_OPEN)
        if step is None and admin and user.is_staff and not services.is_verified(user):
            step = services.VERIFY if services.has_factor(user) else services.ENROL
        if step is None or path.startswith(OPEN_PREFIXES) or path.startswith(settings.STATIC_URL):
            return self.get_response(request)
        target = reverse("signin:verify" if step == services.VERIFY else "signin:enrol")
        return redirect_whole_page(request, f"{target}?{urlencode({'next': request.get_full_path()})}")


def _end_session(request: HttpRequest, user: Any) -> HttpResponse:
    """An owner reset the member's factors (a lost phone), or they removed them in another browser: every session
    that passed one of them ends, so whoever holds the lost device's session is out too."""
    audit("second_factor.session_ended", actor=user, summary="its second factor was reset", ip=client_ip(request))
    logout(request)
    messages.info(request, _("Your second factor was reset: sign in again."))
    login = f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}"
    return redirect_whole_page(request, login)


def locked_context() -> dict[str, object]:
    return {"cooloff_time": settings.AXES_COOLOFF_TIME, "failure_limit": settings.AXES_FAILURE_LIMIT}
