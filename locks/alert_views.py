"""The alerts page and the remote-unlock panel: thin function views over locks.alerts and locks.remote.

Every lookup goes through the current membership (`for_membership`), so another organisation's id (and for a
limited front desk another property's) is a 404; the services decide
who may act (owners and managers acknowledge; the roles that manage a lock open it) and audit it.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.http import HtmxHttpRequest
from locks import alerts, remote, selectors
from locks.models import RemoteUnlockRequest
from locks.views import remote_open_context
from tenants import reauth
from tenants.context import current_membership, membership_or_404
from tenants.models import MANAGER_ROLES
from tenants.signals import client_ip

# --- the nav badge (a context processor, named in config/settings.py) ----------------------------------------


def badge_counts(request: HttpRequest) -> dict[str, SimpleLazyObject]:
    """Template context: open alerts not yet acknowledged, and doors waiting for an answer, for the nav badge."""
    membership = current_membership(request)
    if membership is None:
        return {}
    # Lazy: only pages that draw the navigation count; the polled htmx fragments never do.
    return {
        "open_alert_count": SimpleLazyObject(lambda: selectors.open_alert_count(membership)),
        "pending_remote_unlock_count": SimpleLazyObject(lambda: selectors.pending_remote_unlock_count(membership)),
    }


# --- alerts -------------------------------------------------------------------------------------------------


@login_required
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    """Open alerts first (newest first), then the latest closed ones."""
    membership = membership_or_404(request)
    found = selectors.alert_lists(membership)
    return render(
        request,
        "locks/alerts.html",
        {
            "nav": "alerts",
            "open_alerts": found.open_alerts,
            "closed_alerts": found.closed_alerts,
            "can_acknowledge": membership.role in MANAGER_ROLES or request.user.is_superuser,
        },
    )


@login_required
@require_POST
def alert_acknowledge(request: HtmxHttpRequest, alert_id: int) -> HttpResponse:
    membership = membership_or_404(request)
    alert = get_object_or_404(selectors.alerts_of(membership), pk=alert_id)
    try:
        alert = alerts.acknowledge_alert(alert, actor=request.user, ip=client_ip(request))
    except PermissionDenied as error:
        if request.htmx:
            return HttpResponse(str(error), status=403)
        raise
    if not request.htmx:
        messages.success(request, _("Alert acknowledged."))
        return redirect("locks:alerts")
    context = {"alert": alert, "can_acknowledge": True}
    return render(request, "locks/alerts.html#alert-row", context)


# --- remote unlock ------------------------------------------------------------------------------------------


def _mark(item: RemoteUnlockRequest, now: datetime) -> RemoteUnlockRequest:
    """Display only (GETs write nothing): a pending request past its window reads as lapsed; the scan expires it."""
    item.deadline = remote.deadline(item)  # type: ignore[attr-defined]
    item.lapsed = item.status == remote.Status.PENDING and item.deadline <= now  # type: ignore[attr-defined]
    return item


@login_required
@require_GET
def remote_unlock_panel(request: HtmxHttpRequest) -> HttpResponse:
    """Doors waiting for an answer (with the photo), and the latest answers. htmx polls the list."""
    membership = membership_or_404(request)
    now = timezone.now()
    found = selectors.remote_requests(membership, now)
    context = {
        "nav": "remote",
        "waiting": [_mark(item, now) for item in found.waiting],
        "recent": [_mark(item, now) for item in found.recent],
        "now": now,
        "window_seconds": int(remote.WINDOW.total_seconds()),
    }
    template = "locks/remote_unlock.html#request-lists" if request.htmx else "locks/remote_unlock.html"
    return render(request, template, context)


@login_required
@require_GET
def remote_unlock_row(request: HttpRequest, request_id: int) -> HttpResponse:
    """One request, for the row's own polling while the door is opening."""
    membership = membership_or_404(request)
    item = get_object_or_404(selectors.remote_requests_of(membership), pk=request_id)
    return render(request, "locks/remote_unlock.html#request-row", {"item": _mark(item, timezone.now())})


@login_required
@require_POST
def remote_unlock_decide(request: HtmxHttpRequest, request_id: int, action: str) -> HttpResponse:
    membership = membership_or_404(request)
    if action not in ("approve", "reject"):
        raise Http404("Unknown action.")
    item = get_object_or_404(selectors.remote_requests_of(membership), pk=request_id)
    if action == "approve" and (asked := reauth.unless_recent(request)):
        return asked  # opening a door needs a recent password; rejecting does not
    decide = remote.approve_request if action == "approve" else remote.reject_request
    try:
        item = decide(item.pk, actor=request.user, ip=client_ip(request))
    except PermissionDenied as error:
        if request.htmx:
            return HttpResponse(str(error), status=403)
        raise
    if not request.htmx:
        messages.success(request, f"{item.lock.name}: {item.get_status_display().lower()}.")
        return redirect("locks:remote-unlock")
    item = selectors.remote_requests_of(membership).get(pk=item.pk)
    return render(request, "locks/remote_unlock.html#request-row", {"item": _mark(item, timezone.now())})


# --- from the lock page -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def lock_remote_open(request: HtmxHttpRequest, lock_id: int) -> HttpResponse:
    """POST: open the door now (owners and managers); GET: the section, polled while the door is opening."""
    membership = membership_or_404(request)
    lock = get_object_or_404(selectors.locks_of(membership), pk=lock_id)
    if request.method == "POST":
        if asked := reauth.unless_recent(request):
            return asked
        try:
            remote.open_from_lock_page(lock, actor=request.user, ip=client_ip(request))
        except PermissionDenied as error:
            if request.htmx:
                return HttpResponse(str(error), status=403)
            raise
        if not request.htmx:
            messages.success(request, _("Opening %(lock)s…") % {"lock": lock.name})
            return redirect("locks:lock", lock.pk)
    context = {"lock": lock, "time_zone": lock.time_zone, **remote_open_context(request, lock)}
    return render(request, "locks/_remote_open.html", context)
