"""The organisation a signed-in user is working in: their choice in the session, else their first membership.

Every dashboard view reads its rows through `current_membership(request).organisation`, so another
organisation's ids are simply not found (404), and the role decides what the page offers.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest

from tenants.models import Membership, RequestUser, user_of

SESSION_KEY = "organisation_id"
# A signed-in user's chosen language (tenants.UserPreferences), copied here at sign-in and by the language picker;
# config.middleware.UserLanguage activates it.
LANGUAGE_SESSION_KEY = "language"


def memberships_of(user: RequestUser) -> list[Membership]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Membership.objects.filter(user=user_of(user))
        .select_related("organisation")
        .order_by("organisation__name", "pk")
    )


def current_membership(request: HttpRequest) -> Membership | None:
    """Cached on the request: one query per page, whatever the number of places that ask."""
    if not hasattr(request, "_membership"):
        memberships = memberships_of(request.user)
        chosen = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        request._membership = next(  # type: ignore[attr-defined]
            (m for m in memberships if m.organisation_id == chosen), memberships[0] if memberships else None
        )
        request._memberships = memberships  # type: ignore[attr-defined]
    return request._membership  # type: ignore[attr-defined,no-any-return]


def membership_or_404(request: HttpRequest) -> Membership:
    """The current membership, for views that show an organisation's rows: none at all is a 404."""
    membership = current_membership(request)
    if membership is None:
        raise Http404("You are not a member of any organisation.")
    return membership


def organisation_context(request: HttpRequest) -> dict[str, Any]:
    """Template context: the current membership (organisation and role) and the others to switch to."""
    membership = current_membership(request)
    return {"membership": membership, "memberships": getattr(request, "_memberships", [])}


def idle_timeout_seconds(request: HttpRequest) -> int:
    """How long this request's session may go without a request: by the user's role in the organisation they work
    in (its own setting, else the server's default for the role); with no membership (a superuser), the global
    SESSION_IDLE_TIMEOUT_SECONDS. Reads the membership through `current_membership`, so the page reuses it."""
    membership = current_membership(request)
    if membership is None:
        return int(settings.SESSION_IDLE_TIMEOUT_SECONDS)
    return membership.organisation.idle_minutes(membership.role) * 60
