"""Dashboard views of the tenants app: the organisation switcher and the front desk."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tenants.context import SESSION_KEY, current_membership, memberships_of


@require_POST
@login_required
def switch_organisation(request: HttpRequest) -> HttpResponse:
    wanted = request.POST.get("organisation", "")
    membership = next((m for m in memberships_of(request.user) if str(m.organisation_id) == wanted), None)
    if membership is None:
        raise Http404("No such organisation of yours.")
    request.session[SESSION_KEY] = membership.organisation_id
    return redirect("home")


@login_required
def today(request: HttpRequest) -> HttpResponse:
    """The front desk's screen (being built: check-in, arrivals and departures)."""
    return render(request, "tenants/today.html", {"nav": "desk", "membership": current_membership(request)})


@login_required
def stays(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/stays.html", {"nav": "stays"})
