"""The set-up page ("Cloud and locks"): cloud projects (owners connect them and bring in their locks; managers see
them) and which door each lock is on (owners and managers). Its property and unit forms are tenants': their posts
go to tenants/setup_views.py, which shows a refused form on this page again through `setup_page`.

Thin function views like the lock page's (locks/views.py): parse, call one service (locks.accounts) and render.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from config.http import HtmxHttpRequest
from locks import accounts, events, forms, selectors
from locks.cloud import endpoints
from locks.models import CloudAccount
from locks.views import error_text, id_or_404
from tenants.context import membership_or_404
from tenants.forms import IdleTimeoutsForm, PropertyForm, UnitsForm
from tenants.models import CLOUD_ROLES, MANAGER_ROLES, Membership, Role
from tenants.signals import client_ip

# --- setup: cloud projects (owners; managers see them) and which door each lock is on (owners and managers) ------


def setup_membership(request: HttpRequest, roles: frozenset[str] = MANAGER_ROLES) -> Membership:
    membership = membership_or_404(request)
    if membership.role not in roles:
        if roles == CLOUD_ROLES:
            raise PermissionDenied("Only owners connect cloud projects and bring in their locks.")
        raise PermissionDenied("Only owners and managers set up properties and attach locks.")
    return membership


def _setup_context(request: HttpRequest, membership: Membership, **extra: Any) -> dict[str, Any]:
    organisation = membership.organisation
    page = Paginator(selectors.setup_locks(organisation), 100)
    extra.setdefault("connect_form", forms.ConnectCloudForm())
    extra.setdefault("property_form", PropertyForm())  # the property and unit parts post to tenants.setup_views
    extra.setdefault("units_form", UnitsForm(organisation=organisation))
    if membership.role == Role.OWNER:  # the organisation's idle timeouts: owners only (tenants.setup_views)
        extra.setdefault("timeouts_form", IdleTimeoutsForm(organisation=organisation))
    return {
        "nav": "setup",
        "accounts": list(selectors.setup_accounts(organisation)),
        "page": page.get_page(request.GET.get("page")),
        "units": selectors.setup_units(organisation),
        "regions": endpoints.region_names(),
        "may_manage_cloud": membership.role in CLOUD_ROLES,
        "safety_net_deadline": events.safety_net_deadline(),
        "safety_net_hours": settings.EVENTS_SAFETY_NET_SECONDS // 3600,
        "absolute_hours": settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS // 3600,
        **extra,
    }


def setup_page(request: HttpRequest, membership: Membership, *, status: int = 200, **given: Any) -> HttpResponse:
    """The set-up page, with the forms given (a refused one, its errors beside its fields) and fresh others."""
    return render(request, "locks/setup.html", _setup_context(request, membership, **given), status=status)


@login_required
@require_GET
def setup(request: HttpRequest) -> HttpResponse:
    return setup_page(request, setup_membership(request))


@login_required
@require_POST
def cloud_connect(request: HttpRequest) -> HttpResponse:
    membership = setup_membership(request, CLOUD_ROLES)
    form = forms.ConnectCloudForm(request.POST)
    account = None
    if form.is_valid():
        account = form.save(organisation=membership.organisation, actor=request.user, ip=client_ip(request))
    if account is None:
        context = _setup_context(request, membership, connect_form=form)
        return render(request, "locks/setup.html", context, status=400)
    messages.success(
        request, _("“%(account)s” is connected; its locks are being brought in.") % {"account": account.name}
    )
    return redirect("locks:setup")


def _account_for(request: HttpRequest, account_id: int, roles: frozenset[str]) -> CloudAccount:
    membership = setup_membership(request, roles)
    return get_object_or_404(selectors.setup_accounts(membership.organisation), pk=account_id)


@login_required
@require_POST
def cloud_import(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    account = _account_for(request, account_id, CLOUD_ROLES)
    account = accounts.request_import(account, actor=request.user, ip=client_ip(request))
    if request.htmx:
        return render(request, "locks/setup.html#account-row", {"account": account, "may_manage_cloud": True})
    messages.success(request, _("Bringing in the locks of “%(account)s”.") % {"account": account.name})
    return redirect("locks:setup")


@login_required
@require_GET
def cloud_account_row(request: HttpRequest, account_id: int) -> HttpResponse:
    """Polled while an import runs; when it ends, the page reloads to show the new locks. Managers see the state
    too, without the owners' buttons."""
    account = _account_for(request, account_id, MANAGER_ROLES)
    if not account.importing and request.GET.get("was") == "importing":
        return HttpResponseClientRefresh()
    may_manage_cloud = membership_or_404(request).role in CLOUD_ROLES
    context = {"account": account, "may_manage_cloud": may_manage_cloud}
    return render(request, "locks/setup.html#account-row", context)


@login_required
@require_POST
def lock_attach(request: HtmxHttpRequest, lock_id: int) -> HttpResponse:
    membership = setup_membership(request)
    organisation = membership.organisation
    lock = get_object_or_404(selectors.setup_locks(organisation), pk=lock_id)
    raw = request.POST.get("unit", "")
    unit = get_object_or_404(selectors.organisation_units(organisation), pk=id_or_404(raw)) if raw else None
    error = notice = None
    try:
        lock = accounts.attach_lock(lock, unit=unit, actor=request.user, ip=client_ip(request))
        notice = _("On %(unit)s.") % {"unit": lock.unit} if lock.unit_id else _("Not on any door.")
    except ValidationError as refused:
        error = error_text(refused)
        lock.refresh_from_db()
    if request.htmx:
        context = {"lock": lock, "units": selectors.setup_units(organisation), "error": error}
        return render(request, "locks/setup.html#lock-row", {**context, "notice": notice})
    if error:
        messages.error(request, f"{lock.name}: {error}")
    else:
        messages.success(request, f"{lock.name}: {notice}")
    return redirect("locks:setup")
