"""Set-up of properties and units (owners and managers), on the "Cloud and locks" set-up page.

That page is locks' (cloud projects, locks and their doors); its property and unit forms post here. A refused form
is shown on the whole page again, through `locks.setup_page_views.setup_page`, with its errors beside its fields.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from locks.forms import apply_service_error
from locks.setup_page_views import setup_membership, setup_page
from tenants import services
from tenants.forms import IdleTimeoutsForm, PropertyForm, UnitsForm
from tenants.models import Role
from tenants.signals import client_ip


@login_required
@require_POST
def property_create(request: HttpRequest) -> HttpResponse:
    membership = setup_membership(request)
    form = PropertyForm(request.POST)
    if form.is_valid():
        try:
            prop = services.create_property(
                organisation=membership.organisation, actor=request.user, ip=client_ip(request), **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, f"“{prop.name}” added; now add its units.")
            return redirect("locks:setup")
    return setup_page(request, membership, property_form=form, status=400)


@login_required
@require_POST
def units_create(request: HttpRequest) -> HttpResponse:
    membership = setup_membership(request)
    form = UnitsForm(request.POST, organisation=membership.organisation)
    if form.is_valid():
        data = form.cleaned_data
        try:
            units = services.create_units(
                prop=data["property"], names=data["names"], actor=request.user, ip=client_ip(request)
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, f"{len(units)} unit{'s' if len(units) != 1 else ''} added.")
            return redirect("locks:setup")
    return setup_page(request, membership, units_form=form, status=400)


@login_required
@require_POST
def idle_timeouts(request: HttpRequest) -> HttpResponse:
    """The organisation's idle timeouts by role: owners only, like who is in the organisation."""
    membership = setup_membership(request, frozenset({Role.OWNER}))
    organisation = membership.organisation
    form = IdleTimeoutsForm(request.POST, organisation=organisation)
    if form.is_valid():
        minutes = {g: form.cleaned_data[f"idle_minutes_{g}"] for g, _ in IdleTimeoutsForm.ROLES}
        try:
            services.set_idle_timeouts(organisation, minutes=minutes, actor=request.user, ip=client_ip(request))
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, "Idle timeouts saved: signed-in members get them within a minute.")
            return redirect("locks:setup")
    return setup_page(request, membership, timeouts_form=form, status=400)
