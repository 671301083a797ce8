"""The Calendar feeds page of a property: each unit's feeds (host only, never the link), when they were read and
what went wrong, their events and what each did; add (with a preview first), change, sync now and remove, for
owners and managers; the front desk and viewers look. Owners and managers also hand out each unit's arrival link
there (shown only in the answer to an audited POST, never on a GET), renew and revoke it. Thin views: parse, call
one service (bookings/feeds.py, bookings/arrival_links.py), render. Every change is a POST with its CSRF token;
remove asks first, without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings import arrival_links, feed_selectors, feeds
from bookings.forms import AddFeedForm, EditFeedForm
from bookings.models import CalendarFeed
from locks.forms import apply_service_error
from locks.selectors import properties_of, units_of
from tenants.context import membership_or_404
from tenants.models import MANAGER_ROLES, Membership, Property
from tenants.signals import client_ip


def may_manage(membership: Membership) -> bool:
    """Feeds book, change and cancel stays (and so door codes) by themselves: owners and managers set them up."""
    return membership.role in MANAGER_ROLES


def _managing(membership: Membership) -> None:
    if not may_manage(membership):
        raise PermissionDenied("Only owners and managers add, change and remove calendar feeds.")


def _property(request: HttpRequest, property_id: int) -> tuple[Membership, Property]:
    membership = membership_or_404(request)
    return membership, get_object_or_404(properties_of(membership), pk=property_id)


def _feed(request: HttpRequest, feed_id: int) -> tuple[Membership, CalendarFeed]:
    membership = membership_or_404(request)
    feed = get_object_or_404(feed_selectors.feeds_of(membership).select_related("unit__property"), pk=feed_id)
    return membership, feed


def _page(
    request: HttpRequest,
    membership: Membership,
    prop: Property,
    form: AddFeedForm | None = None,
    *,
    preview: feeds.Preview | None = None,
    status: int = 200,
    arrival_shown: arrival_links.LinkState | None = None,
) -> HttpResponse:
    now = timezone.now()
    page = feed_selectors.feeds_page(membership, prop, now)
    if may_manage(membership):
        arrivals = arrival_links.states([entry.unit for entry in page.units])
        if arrival_shown is not None:
            arrivals[arrival_shown.unit.pk] = arrival_shown
        for entry in page.units:
            entry.arrival_link = arrivals[entry.unit.pk]
    context: dict[str, Any] = {
        "nav": "portfolio",
        "property": prop,
        "page": page,
        "may_manage": may_manage(membership),
        "form": form if form is not None else AddFeedForm(prop=prop),
        "preview": preview,
        "now": now,
    }
    response = render(request, "bookings/feeds.html", context, status=status)
    if preview is not None:
        response["Cache-Control"] = "no-store"  # the form on it still holds the link typed in, with its secret
    return response


@login_required
@require_GET
def feed_list(request: HttpRequest, property_id: int) -> HttpResponse:
    membership, prop = _property(request, property_id)
    return _page(request, membership, prop)


@login_required
@require_POST
def feed_add(request: HttpRequest, property_id: int) -> HttpResponse:
    """ "Preview" reads the link and shows what it would book, saving nothing; "Add feed" saves it (a form sent
    again is refused by the service: the unit already reads that link)."""
    membership, prop = _property(request, property_id)
    _managing(membership)
    form = AddFeedForm(request.POST, prop=prop)
    if not form.is_valid():
        return _page(request, membership, prop, form, status=400)
    data = form.cleaned_data
    try:
        if "preview" in request.POST:
            preview = feeds.preview(data["url"], data["unit"], blocked=data["blocked"], request_host=request.get_host())
            return _page(request, membership, prop, form, preview=preview)
        feed = feeds.add_feed(
            unit=data["unit"],
            url=data["url"],
            name=data["name"],
            every_minutes=data["every_minutes"],
            blocked=data["blocked"],
            actor=request.user,
            ip=client_ip(request),
            request_host=request.get_host(),
        )
    except ValidationError as error:
        apply_service_error(form, error)
        return _page(request, membership, prop, form, status=400)
    added = _("The feed %(feed)s is added to %(unit)s: it is being read now.")
    messages.success(request, added % {"feed": feed.name or feeds.host_of(feed.url), "unit": feed.unit.name})
    return redirect("bookings:feeds", prop.pk)


@login_required
@require_http_methods(["GET", "POST"])
def feed_edit(request: HttpRequest, feed_id: int) -> HttpResponse:
    membership, feed = _feed(request, feed_id)
    _managing(membership)
    if request.method == "GET":
        initial = {
            "name": feed.name,
            "every_minutes": feed.every_minutes,
            "blocked": feed.blocked,
            "enabled": feed.enabled,
        }
        form = EditFeedForm(initial=initial)
        return _edit_page(request, feed, form)
    form = EditFeedForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            feeds.update_feed(
                feed,
                url=data["url"] or None,
                name=data["name"],
                every_minutes=data["every_minutes"],
                blocked=data["blocked"],
                enabled=data["enabled"],
                actor=request.user,
                ip=client_ip(request),
                request_host=request.get_host(),
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The feed is saved."))
            return redirect("bookings:feeds", feed.unit.property_id)
    return _edit_page(request, feed, form, status=400)


def _edit_page(request: HttpRequest, feed: CalendarFeed, form: EditFeedForm, status: int = 200) -> HttpResponse:
    context = {"nav": "portfolio", "feed": feed, "host": feeds.host_of(feed.url), "form": form}
    return render(request, "bookings/feed_edit.html", context, status=status)


@login_required
@require_POST
def feed_sync(request: HttpRequest, feed_id: int) -> HttpResponse:
    membership, feed = _feed(request, feed_id)
    _managing(membership)
    try:
        feeds.sync_now(feed, actor=request.user, ip=client_ip(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(feed)s is being read now; reload in a moment.") % {"feed": feed.name or feeds.host_of(feed.url)},
        )
    return redirect("bookings:feeds", feed.unit.property_id)


@login_required
@require_POST
def feed_remove(request: HttpRequest, feed_id: int) -> HttpResponse:
    membership, feed = _feed(request, feed_id)
    _managing(membership)
    if request.POST.get("confirmed") != "yes":
        context = {"nav": "portfolio", "feed": feed, "host": feeds.host_of(feed.url)}
        return render(request, "bookings/feed_remove.html", context)
    kept = feeds.remove_feed(feed, actor=request.user, ip=client_ip(request))
    removed = ngettext(
        "The feed %(feed)s is removed. The %(kept)s stay it booked is kept, with its codes.",
        "The feed %(feed)s is removed. The %(kept)s stays it booked are kept, with their codes.",
        kept,
    )
    messages.success(request, removed % {"feed": feed.name or feeds.host_of(feed.url), "kept": kept})
    return redirect("bookings:feeds", feed.unit.property_id)


# --- each unit's arrival link ------------------------------------------------------------------------------------


def _arrival_action(
    request: HttpRequest, unit_id: int, action: Callable[..., arrival_links.LinkState], done: str
) -> HttpResponse:
    membership = membership_or_404(request)
    unit = get_object_or_404(units_of(membership).select_related("property__organisation"), pk=unit_id)
    if not arrival_links.may_manage(request.user, unit.property.organisation_id):
        raise PermissionDenied("Only owners and managers hand out a unit's arrival link.")
    shown = action(unit, actor=request.user, ip=client_ip(request))
    if done:
        messages.success(request, done % {"unit": unit.name})
    return _page(request, membership, unit.property, arrival_shown=shown)


@login_required
@require_POST
@never_cache  # the answer holds the link
def arrival_link_show(request: HttpRequest, unit_id: int) -> HttpResponse:
    return _arrival_action(request, unit_id, arrival_links.show_link, "")


@login_required
@require_POST
@never_cache
def arrival_link_new(request: HttpRequest, unit_id: int) -> HttpResponse:
    done = _("A new arrival link for %(unit)s: the old one no longer opens anything; paste this one into the listing.")
    return _arrival_action(request, unit_id, arrival_links.new_link, done)


@login_required
@require_POST
@never_cache
def arrival_link_revoke(request: HttpRequest, unit_id: int) -> HttpResponse:
    return _arrival_action(request, unit_id, arrival_links.revoke, _("The arrival link of %(unit)s is revoked."))
