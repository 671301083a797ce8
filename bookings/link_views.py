"""The desk's buttons for links that leave the app: a stay's guest page (on the stay page, for those who may see its
PINs) and each unit's calendar export (a page of its own, linked from the property page, for owners and managers).

A link is shown only in the answer to an audited POST marked no-store, never on a GET, so a page a viewer may open
never holds one. Every query goes through the membership's scoped rows: another organisation's id, or another
property's for a limited desk, is a 404.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from bookings import calendar_export, guest_links
from bookings.models import UnitCalendarExport
from config.http import HtmxHttpRequest
from locks import selectors as lock_selectors
from tenants import selectors
from tenants.context import membership_or_404
from tenants.models import Stay, Unit
from tenants.signals import client_ip

# --- a stay's guest page ---------------------------------------------------------------------------------------


def _stay_to_share(request: HttpRequest, stay_id: int) -> Stay:
    stay = get_object_or_404(selectors.stays(membership_or_404(request)), pk=stay_id)
    if not guest_links.may_share(request.user, stay):
        raise PermissionDenied("Your role may not hand out a guest's door codes.")
    return stay


def _link_answer(request: HtmxHttpRequest, state: guest_links.LinkState) -> HttpResponse:
    context = {"link": state, "stay": state.stay}
    if request.htmx:
        return render(request, "bookings/_guest_link.html", context)
    return render(request, "bookings/guest_link.html", {**context, "nav": "stays"})


def _link_action(
    request: HtmxHttpRequest, stay_id: int, action: Callable[..., guest_links.LinkState], done: str
) -> HttpResponse:
    stay = _stay_to_share(request, stay_id)
    if not stay.is_open:
        messages.info(
            request,
            _("This stay was already %(status)s: its link opens nothing.")
            % {"status": stay.get_status_display().lower()},
        )
        return _link_answer(request, guest_links.state(stay))
    state = action(stay, actor=request.user, ip=client_ip(request))
    if done and not request.htmx:
        messages.success(request, done)
    return _link_answer(request, state)


@require_POST
@login_required
@never_cache
def guest_link_show(request: HtmxHttpRequest, stay_id: int) -> HttpResponse:
    return _link_action(request, stay_id, guest_links.show_link, "")


@require_POST
@login_required
@never_cache
def guest_link_new(request: HtmxHttpRequest, stay_id: int) -> HttpResponse:
    return _link_action(request, stay_id, guest_links.new_link, _("A new link: the old one no longer opens anything."))


@require_POST
@login_required
@never_cache
def guest_link_revoke(request: HtmxHttpRequest, stay_id: int) -> HttpResponse:
    return _link_action(request, stay_id, guest_links.revoke, _("The guest page link is revoked."))


# --- each unit's calendar export ---------------------------------------------------------------------------------


def _require_manager(request: HttpRequest, organisation_id: int) -> None:
    if not calendar_export.may_manage(request.user, organisation_id):
        raise PermissionDenied("Only owners and managers hand out a room's calendar.")


def _exports_page(request: HttpRequest, property_id: int, shown: dict[int, str] | None = None) -> HttpResponse:
    membership = membership_or_404(request)
    prop = get_object_or_404(lock_selectors.properties_of(membership), pk=property_id)
    _require_manager(request, prop.organisation_id)
    units = list(lock_selectors.units_of(membership).filter(property=prop).order_by("name"))
    made = set(UnitCalendarExport.objects.filter(unit__in=units).values_list("unit_id", flat=True))
    shown = shown or {}
    rows = [{"unit": unit, "made": unit.pk in made, "link": shown.get(unit.pk, "")} for unit in units]
    return render(request, "bookings/calendar_exports.html", {"nav": "portfolio", "property": prop, "rows": rows})


@require_GET
@login_required
def calendar_exports(request: HttpRequest, property_id: int) -> HttpResponse:
    """The property's rooms and whether each has a calendar link; the links themselves only after a POST."""
    return _exports_page(request, property_id)


def _unit_to_manage(request: HttpRequest, unit_id: int) -> Unit:
    unit = get_object_or_404(lock_selectors.units_of(membership_or_404(request)).select_related("property"), pk=unit_id)
    _require_manager(request, unit.property.organisation_id)
    return unit


@require_POST
@login_required
@never_cache
def calendar_export_show(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = _unit_to_manage(request, unit_id)
    shown = calendar_export.show_link(unit, actor=request.user, ip=client_ip(request))
    return _exports_page(request, unit.property_id, shown={unit.pk: shown})


@require_POST
@login_required
@never_cache
def calendar_export_new(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = _unit_to_manage(request, unit_id)
    shown = calendar_export.new_link(unit, actor=request.user, ip=client_ip(request))
    messages.success(
        request, _("A new calendar link for %(unit)s: the old one no longer answers.") % {"unit": unit.name}
    )
    return _exports_page(request, unit.property_id, shown={unit.pk: shown})
