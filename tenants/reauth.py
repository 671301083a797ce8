"""Recent authentication ("sudo mode"): revealing a PIN, opening a door remotely, making an API key and changing
members need a sign-in or a confirmed password within settings.REAUTH_SECONDS. A stolen or unattended session then
cannot do the worst things without the password.

`confirm_identity` is the one place that decides whether the person is who the session says: a second factor joins
it there. The confirm page is `tenants.reauth_views.confirm` (`/accounts/confirm/`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode, urlsplit

from axes.utils import reset as reset_failures
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_noop

from audit.services import audit
from tenants.models import Actor
from tenants.signals import client_ip

# When the user last signed in or confirmed their password (seconds since the epoch).
SESSION_KEY = "_auth_confirmed_at"
TRY_AGAIN = gettext_noop("Confirm your password, then try again.")

_View = TypeVar("_View", bound=Callable[..., HttpResponse])


@receiver(user_logged_in, dispatch_uid="reauth_at_sign_in")
def confirmed_at_sign_in(sender: Any, request: HttpRequest | None, user: Actor, **kwargs: Any) -> None:
    """Signing in is an authentication: the next few minutes need no password again."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = int(time.time())


def is_recent(request: HttpRequest) -> bool:
    confirmed = request.session.get(SESSION_KEY)
    return isinstance(confirmed, int) and 0 <= time.time() - confirmed <= settings.REAUTH_SECONDS


def confirm_identity(request: HttpRequest, password: str) -> bool:
    """Whether the signed-in user is who they say: their password, through `authenticate`, so django-axes counts a
    wrong one and locks the username out from this address as on the sign-in form (the lockout page then answers,
    through its middleware), and a success resets the count as a sign-in does. Audited as reauth.ok or
    reauth.failed; on success the window starts again."""
    user = request.user
    found = authenticate(request, username=user.get_username(), password=password)
    ip = client_ip(request)
    if found is None or found.pk != user.pk:
        audit("reauth.failed", actor=user, obj=user, summary=str(user), ip=ip)
        return False
    request.session[SESSION_KEY] = int(time.time())
    if settings.AXES_RESET_ON_SUCCESS:  # as a sign-in resets them: a success is not one of the failures' guesses
        reset_failures(ip=ip, username=user.get_username())
    audit("reauth.ok", actor=user, obj=user, summary=str(user), ip=ip)
    return True


def safe_next(request: HttpRequest, url: str | None, fallback: str = "/") -> str:
    """`url` if it stays on this site (no other host or scheme, no `//evil`), as a path with its query; else
    `fallback`."""
    hosts = {request.get_host()}
    if not url or not url_has_allowed_host_and_scheme(url, allowed_hosts=hosts, require_https=request.is_secure()):
        return fallback
    parts = urlsplit(url)
    return (parts.path + (f"?{parts.query}" if parts.query else "")) or fallback


def confirm_url(next_url: str) -> str:
    return f"{reverse('reauth')}?{urlencode({'next': next_url})}"


def ask_to_confirm(request: HttpRequest) -> HttpResponse:
    """The answer to a request that needs a recent authentication and has none. A page (GET) goes to the confirm
    page and comes back to itself. Anything else (a posted form, an htmx button) cannot be replayed after the
    confirmation: the user is told to try again and comes back to the page they were on (htmx: HX-Current-URL;
    else the Referer), with the whole page, not a fragment, replaced by the confirm page."""
    htmx = request.headers.get("HX-Request") == "true"
    if request.method in ("GET", "HEAD") and not htmx:
        return redirect(confirm_url(request.get_full_path()))
    came_from = request.headers.get("HX-Current-URL") if htmx else request.headers.get("Referer")
    fallback = request.get_full_path() if request.method in ("GET", "HEAD") else reverse("home")
    messages.warning(request, gettext(TRY_AGAIN))
    target = confirm_url(safe_next(request, came_from, fallback))
    if htmx:
        response = HttpResponse(gettext(TRY_AGAIN), status=200, content_type="text/plain")
        response["HX-Redirect"] = target
        return response
    return redirect(target)


def unless_recent(request: HttpRequest) -> HttpResponse | None:
    """None when the user authenticated recently; else the answer that asks them to (`ask_to_confirm`). For a
    view that needs it only on some of its requests (a POST, one action)."""
    return None if is_recent(request) else ask_to_confirm(request)


def recent_auth_required(view: _View) -> _View:
    """The view runs only within REAUTH_SECONDS of a sign-in or a confirmed password. Put it under login_required,
    so an anonymous visitor goes to the sign-in form first."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return unless_recent(request) or view(request, *args, **kwargs)

    return cast("_View", wrapped)
