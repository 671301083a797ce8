"""Dashboard views for landlords: thin function views that parse, call one service and render.

Every lookup goes through the current membership (`Model.objects.for_membership`), so another organisation's
id, and for a front desk limited to some properties another property's, is a 404. Actions answer htmx with the
fragment to swap and plain posts with a redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from config.http import HtmxHttpRequest
from locks import accounts, codes, forms, operations, pins, remote, selectors
from locks.cloud import endpoints
from locks.models import AccessCode, CloudAccount, Lock, LockEvent, LockOperation
from tenants.context import current_membership, membership_or_404
from tenants.forms import PropertyForm, UnitsForm
from tenants.models import CLOUD_ROLES, MANAGER_ROLES, Membership, Property, Role, Unit
from tenants.signals import client_ip

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _LockCount(TypedDict):
    """What the setup page's account row shows beside the account: Count("locks")."""

    lock_count: int


def _no_store(response: HttpResponse) -> HttpResponse:
    """Pages and fragments that carry a PIN must not be kept by the browser or a proxy."""
    response["Cache-Control"] = "no-store"
    return response


def _error_text(error: ValidationError | PermissionDenied) -> str:
    return " ".join(error.messages) if isinstance(error, ValidationError) else (str(error) or "Not allowed.")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where each role starts: the front desk at its desk, everyone else at the portfolio."""
    membership = current_membership(request)
    if membership is None:
        return render(request, "home.html")
    return redirect("desk:today" if membership.role == Role.FRONT_DESK else "locks:portfolio")


# --- portfolio and property pages ----------------------------------------------------------------------------


@login_required
@require_GET
def portfolio(request: HttpRequest) -> HttpResponse:
    """Every property with its counts of locks, offline locks, low batteries and codes needing attention."""
    found = selectors.portfolio(membership_or_404(request))
    return render(
        request,
        "locks/portfolio.html",
        {
            "nav": "portfolio",
            "properties": found.properties,
            "unassigned": found.unassigned,
            "low_battery": selectors.LOW_BATTERY,
        },
    )


@login_required
@require_GET
def property_detail(request: HttpRequest, property_id: int) -> HttpResponse:
    """A property's units and their locks with badges; paginated, so a large hotel stays fast."""
    membership = membership_or_404(request)
    prop = get_object_or_404(Property.objects.for_membership(membership), pk=property_id)
    now = timezone.now()
    query = request.GET.get("q", "").strip()
    locks = selectors.property_locks(membership, prop, query)
    page = Paginator(locks, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "locks/property_detail.html",
        {
            "nav": "portfolio",
            "property": prop,
            "page": page,
            "q": query,
            "now": now,
            "low_battery": selectors.LOW_BATTERY,
        },
    )


# --- the lock page ---------------------------------------------------------------------------------------------


def _lock_for(request: HttpRequest, lock_id: int) -> Lock:
    return get_object_or_404(selectors.locks_of(membership_or_404(request)), pk=lock_id)


def _code_for(request: HttpRequest, code_id: int) -> AccessCode:
    return get_object_or_404(selectors.codes_of(membership_or_404(request)), pk=code_id)


def _may_manage(request: HttpRequest, lock: Lock) -> bool:
    return pins.may_see_pins(request.user, lock)


def _lock_context(request: HttpRequest, lock: Lock, **extra: Any) -> dict[str, Any]:
    page = selectors.lock_page(request.user, lock)
    context = {
        "nav": "portfolio",
        "lock": lock,
        "property": lock.unit.property if lock.unit is not None else None,
        "time_zone": lock.time_zone,
        "codes": page.codes,
        "ended_codes": page.ended_codes,
        "operations": page.operations,
        "may_manage": page.may_manage,
        "offline_kinds": operations.OFFLINE_KINDS,
        "dynamic_kinds": operations.DYNAMIC_KINDS,
        "can_offline": page.can_offline,
        "can_dynamic": page.can_dynamic,
        "offline_issued": page.offline_issued,
        "is_hotel": page.is_hotel,
        "has_tools": page.has_tools,
        "low_battery": selectors.LOW_BATTERY,
        "now": timezone.now(),
    }
    if page.may_manage and "issue_form" not in extra:
        context["issue_form"] = _issue_form(request, lock)
    context.update(remote.lock_page_context(request.user, lock))
    context.update(extra)
    return context


def _issue_form(request: HttpRequest, lock: Lock, data: QueryDict | None = None) -> forms.IssueCodeForm:
    organisation = membership_or_404(request).organisation
    zone = lock.time_zone
    now = timezone.now()
    initial = {
        "lock": lock.pk,
        "kind": AccessCode.Kind.WINDOW,
        "starts_at": forms.local_input(now, zone),
        "ends_at": forms.local_input(now + timedelta(days=1), zone),
    }
    form = forms.IssueCodeForm(data, user=request.user, organisation=organisation, initial=initial)
    # A weekly code valid for one day would open once at most: app.js proposes this end when "Weekly" is chosen.
    weekly_until = forms.local_input(now + codes.WEEKLY_DEFAULT_VALIDITY, zone)
    form.fields["ends_at"].widget.attrs["data-weekly-default"] = weekly_until
    return form


@login_required
@require_GET
def lock_detail(request: HtmxHttpRequest, lock_id: int) -> HttpResponse:
    lock = _lock_for(request, lock_id)
    template = "locks/lock_detail.html"
    if request.htmx and request.GET.get("part") == "codes":
        template += "#code-table"
    return render(request, template, _lock_context(request, lock))


@login_required
@require_POST
def issue_code(request: HtmxHttpRequest, lock_id: int) -> HttpResponse:
    lock = _lock_for(request, lock_id)
    if not _may_manage(request, lock):
        raise PermissionDenied("Your role may not issue door codes on this lock.")
    form = _issue_form(request, lock, request.POST)
    code = None
    if form.is_valid():
        if form.cleaned_data["lock"].pk != lock.pk:
            form.add_error("lock", "Issue codes for this lock from this page.")
        else:
            code = form.save(actor=request.user, ip=client_ip(request))
    if code is None:
        context = _lock_context(request, lock, issue_form=form)
        if request.htmx:
            return render(request, "locks/lock_detail.html#issue-form", context)
        # A plain post with errors: the whole page, the form filled in, the errors beside the fields.
        return render(request, "locks/lock_detail.html", context, status=400)
    messages.success(request, f"Code “{code.label}” is on its way to the lock; its status updates below.")
    if note := codes.openings_note(code):
        messages.warning(request, note)
    if request.htmx:
        # Not a redirect to "#code-N": the browser does not reload for a new fragment of the same page.
        return HttpResponseClientRefresh()
    return redirect(f"{lock_url(lock)}#code-{code.pk}")


def lock_url(lock: Lock) -> str:
    return reverse("locks:lock", args=[lock.pk])


# --- one code: its row, its actions ---------------------------------------------------------------------------


def _render_row(request: HttpRequest, code: AccessCode, **extra: Any) -> HttpResponse:
    context = {
        "code": code,
        "lock": code.lock,
        "may_manage": _may_manage(request, code.lock),
        "time_zone": code.time_zone,
        **extra,
    }
    return render(request, "locks/lock_detail.html#code-row", context)


@login_required
@require_GET
def code_row(request: HttpRequest, code_id: int) -> HttpResponse:
    """The code's row, polled by the page while the lock has not confirmed the last change."""
    return _render_row(request, _code_for(request, code_id))


CODE_ACTIONS: dict[str, tuple[Callable[..., AccessCode], str]] = {
    "freeze": (codes.freeze_access_code, "Freezing: the lock will refuse this code until it is unfrozen."),
    "unfreeze": (codes.unfreeze_access_code, "Unfreezing: the code will open the door again once confirmed."),
    "delete": (codes.remove_access_code, "Removing: the code counts as gone once the lock confirms it."),
    "resend": (codes.resend_access_code, "Sending again."),
}


@login_required
@require_POST
def code_action(request: HtmxHttpRequest, code_id: int, action: str) -> HttpResponse:
    code = _code_for(request, code_id)
    if action not in CODE_ACTIONS:
        raise Http404("No such action.")
    service, done = CODE_ACTIONS[action]
    error = None
    try:
        if not _may_manage(request, code.lock):
            raise PermissionDenied("Your role may not manage door codes on this lock.")
        kwargs: dict[str, Any] = {"actor": request.user, "ip": client_ip(request)}
        if action != "resend":
            kwargs["version"] = _version(request)
        code = service(code, **kwargs)
    except (ValidationError, PermissionDenied) as refused:
        error = _error_text(refused)
        code.refresh_from_db()
    if request.htmx:
        return _render_row(request, code, error=error, notice=None if error else done)
    if error:
        messages.error(request, f"{code.label}: {error}")
    else:
        messages.success(request, f"{code.label}: {done}")
    return redirect(lock_url(code.lock))


def _version(request: HttpRequest) -> int | None:
    """The code's version the page was showing: a page that went stale gets told instead of acting blindly."""
    raw = request.POST.get("version", "")
    if not (raw.isascii() and raw.isdigit()):  # str.isdigit() alone also says yes to "²", which int() refuses
        raise ValidationError("This page is out of date; reload it and try again.")
    return int(raw)


@login_required
def code_edit(request: HtmxHttpRequest, code_id: int) -> HttpResponse:
    """Change a code's window or PIN (GET shows the form in the row's place)."""
    code = _code_for(request, code_id)
    if not _may_manage(request, code.lock):
        raise PermissionDenied("Your role may not change door codes on this lock.")
    if request.method == "POST":
        form = forms.ChangeCodeForm(request.POST, code=code)
        if form.is_valid() and (changed := form.save(actor=request.user, ip=client_ip(request))) is not None:
            notice = "Changing: the lock keeps the old window and PIN until it confirms the new ones."
            if note := codes.openings_note(changed):
                notice = f"{notice} {note}"
            if request.htmx:
                return _render_row(request, changed, notice=notice)
            messages.success(request, f"{changed.label}: {notice}")
            return redirect(lock_url(changed.lock))
        status = 200 if request.htmx else 400
    else:
        form, status = forms.ChangeCodeForm(code=code), 200
    template = "locks/code_edit.html#edit-row" if request.htmx else "locks/code_edit.html"
    context = {"code": code, "form": form, "lock": code.lock, "nav": "portfolio", "time_zone": code.time_zone}
    return render(request, template, context, status=status)


@login_required
@require_POST
def code_reveal(request: HtmxHttpRequest, code_id: int) -> HttpResponse:
    """Show the PIN to a role allowed to see it: an audited POST, never cached, never in a URL."""
    code = _code_for(request, code_id)
    try:
        pin = pins.reveal_pin(code, actor=request.user, ip=client_ip(request))
    except ValidationError as refused:
        return _render_row(request, code, error=_error_text(refused))
    if not request.htmx:
        return _no_store(render(request, "locks/code_pin.html", {"code": code, "pin": pin, "lock": code.lock}))
    return _no_store(_render_row(request, code, pin=pin))


# --- lock operations: offline and dynamic passwords, hotel extras ---------------------------------------------


@login_required
@require_GET
def offline_preview(request: HttpRequest, lock_id: int) -> HttpResponse:
    """The window the lock will really honour after Tuya's hour rounding, shown before issuing."""
    lock = _lock_for(request, lock_id)
    form = forms.OfflinePasswordForm(request.GET, lock=lock)
    return render(request, "locks/lock_detail.html#offline-preview", {"lock": lock, "preview": form.preview()})


@login_required
@require_POST
def offline_password(request: HtmxHttpRequest, lock_id: int) -> HttpResponse:
    lock = _lock_for(request, lock_id)
    if not _may_manage(request, lock):
        raise PermissionDenied("Your role may not issue door codes on this lock.")
    form = forms.OfflinePasswordForm(request.POST, lock=lock)
    operation = form.save(actor=request.user, ip=client_ip(request)) if form.is_valid() else None
    return _operation_response(request, lock, operation, form.errors_text())


@login_required
@require_POST
def advanced_password(request: HtmxHttpRequest, lock_id: int) -> HttpResponse:
    """A hotel lock's admin or emergency password: typed here (six digits), set by a worker."""
    lock = _lock_for(request, lock_id)
    if not _may_manage(request, lock):
        raise PermissionDenied("Your role may not do this on this lock.")
    try:
        operation = operations.set_advanced_password(
            lock=lock,
            advanced_type=request.POST.get("advanced_type", ""),
            pin=request.POST.get("pin", "").strip(),
            actor=request.user,
            ip=client_ip(request),
        )
    except ValidationError as refused:
        return _operation_response(request, lock, None, _error_text(refused))
    return _operation_response(request, lock, operation, "")


@login_required
@require_POST
def lock_operation(request: HtmxHttpRequest, lock_id: int, kind: str) -> HttpResponse:
    """Dynamic password, hotel clear-all, Zigbee resend of pending codes."""
    lock = _lock_for(request, lock_id)
    services_by_kind: dict[str, Callable[..., LockOperation]] = {
        "dynamic": operations.request_dynamic_password,
        "clear-all": operations.clear_all_codes,
        "sync": operations.sync_pending_codes,
    }
    if kind not in services_by_kind:
        raise Http404("No such operation.")
    if not _may_manage(request, lock):
        raise PermissionDenied("Your role may not do this on this lock.")
    try:
        operation = services_by_kind[kind](lock=lock, actor=request.user, ip=client_ip(request))
    except ValidationError as refused:
        return _operation_response(request, lock, None, _error_text(refused))
    return _operation_response(request, lock, operation, "")


def _operation_response(
    request: HtmxHttpRequest, lock: Lock, operation: LockOperation | None, error: str
) -> HttpResponse:
    if request.htmx:
        context = _lock_context(request, lock, operation_error=error)
        return render(request, "locks/lock_detail.html#operations", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{operation}: requested; the result appears below.")
    return redirect(f"{lock_url(lock)}#operations")


def _operation_for(request: HttpRequest, operation_id: int) -> LockOperation:
    return get_object_or_404(selectors.operations_of(membership_or_404(request)), pk=operation_id)


@login_required
@require_GET
def operation_row(request: HttpRequest, operation_id: int) -> HttpResponse:
    operation = _operation_for(request, operation_id)
    context = {
        "operation": operation,
        "lock": operation.lock,
        "may_manage": _may_manage(request, operation.lock),
        "time_zone": operation.lock.time_zone,
    }
    return render(request, "locks/lock_detail.html#operation-row", context)


@login_required
@require_POST
def operation_reveal(request: HttpRequest, operation_id: int) -> HttpResponse:
    operation = _operation_for(request, operation_id)
    context: dict[str, Any] = {
        "operation": operation,
        "lock": operation.lock,
        "may_manage": True,
        "time_zone": operation.lock.time_zone,
    }
    try:
        context["secret"] = pins.reveal_operation_secret(operation, actor=request.user, ip=client_ip(request))
    except ValidationError as refused:
        context["error"] = _error_text(refused)
    return _no_store(render(request, "locks/lock_detail.html#operation-row", context))


# --- activity: the timeline of unlocks and alerts ---------------------------------------------------------------


@login_required
@require_GET
def activity(request: HtmxHttpRequest) -> HttpResponse:
    """Unlocks and alerts of the organisation, a property, a unit or a lock, newest first; filterable; keyset
    pages, so the thousandth page costs what the first does."""
    membership = membership_or_404(request)
    scope: dict[str, Any] = {}
    if lock_id := request.GET.get("lock", ""):
        scope["lock"] = get_object_or_404(Lock.objects.for_membership(membership), pk=_int(lock_id))
    elif unit_id := request.GET.get("unit", ""):
        scope["unit"] = get_object_or_404(Unit.objects.for_membership(membership), pk=_int(unit_id))
    elif property_id := request.GET.get("property", ""):
        scope["property"] = get_object_or_404(Property.objects.for_membership(membership), pk=_int(property_id))
    category = request.GET.get("category", "")
    if category not in LockEvent.Category.values:
        category = ""
    cursor = selectors.parse_cursor(request.GET.get("before", ""))
    page = selectors.activity(
        membership,
        lock=scope.get("lock"),
        unit=scope.get("unit"),
        prop=scope.get("property"),
        category=category,
        before=cursor,
    )
    query = {k: v for k, v in request.GET.items() if k in ("lock", "unit", "property", "category") and v}
    context = {
        "nav": "activity",
        "events": page.events,
        "next_cursor": str(page.next_cursor or ""),
        "query": query,
        "category": category,
        "categories": LockEvent.Category.choices,
        **scope,
    }
    template = "locks/activity.html#event-rows" if request.htmx and cursor is not None else "locks/activity.html"
    return render(request, template, context)


def _int(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()):
        raise Http404("No such item.")
    return int(raw)


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
    return {
        "nav": "setup",
        "accounts": list(selectors.setup_accounts(organisation)),
        "page": page.get_page(request.GET.get("page")),
        "units": selectors.setup_units(organisation),
        "regions": endpoints.region_names(),
        "may_manage_cloud": membership.role in CLOUD_ROLES,
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
    messages.success(request, f"“{account.name}” is connected; its locks are being brought in.")
    return redirect("locks:setup")


def _account_for(request: HttpRequest, account_id: int, roles: frozenset[str]) -> CloudAccount:
    membership = setup_membership(request, roles)
    return get_object_or_404(CloudAccount, pk=account_id, organisation=membership.organisation)


@login_required
@require_POST
def cloud_import(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    account = _account_for(request, account_id, CLOUD_ROLES)
    account = accounts.request_import(account, actor=request.user, ip=client_ip(request))
    if request.htmx:
        row = cast("WithAnnotations[CloudAccount, _LockCount]", account)
        row.lock_count = account.locks.count()
        return render(request, "locks/setup.html#account-row", {"account": row, "may_manage_cloud": True})
    messages.success(request, f"Bringing in the locks of “{account.name}”.")
    return redirect("locks:setup")


@login_required
@require_GET
def cloud_account_row(request: HttpRequest, account_id: int) -> HttpResponse:
    """Polled while an import runs; when it ends, the page reloads to show the new locks. Managers see the state
    too, without the owners' buttons."""
    account = _account_for(request, account_id, MANAGER_ROLES)
    if not account.importing and request.GET.get("was") == "importing":
        return HttpResponseClientRefresh()
    row = cast("WithAnnotations[CloudAccount, _LockCount]", account)
    row.lock_count = account.locks.count()
    may_manage_cloud = membership_or_404(request).role in CLOUD_ROLES
    return render(request, "locks/setup.html#account-row", {"account": row, "may_manage_cloud": may_manage_cloud})


@login_required
@require_POST
def lock_attach(request: HtmxHttpRequest, lock_id: int) -> HttpResponse:
    membership = setup_membership(request)
    lock = get_object_or_404(Lock, pk=lock_id, organisation=membership.organisation)
    raw = request.POST.get("unit", "")
    unit = get_object_or_404(Unit, pk=_int(raw), property__organisation=membership.organisation) if raw else None
    error = notice = None
    try:
        lock = accounts.attach_lock(lock, unit=unit, actor=request.user, ip=client_ip(request))
        notice = f"On {lock.unit}." if lock.unit_id else "Not on any door."
    except ValidationError as refused:
        error = _error_text(refused)
        lock.refresh_from_db()
    if request.htmx:
        context = {"lock": lock, "units": selectors.setup_units(membership.organisation), "error": error}
        return render(request, "locks/setup.html#lock-row", {**context, "notice": notice})
    if error:
        messages.error(request, f"{lock.name}: {error}")
    else:
        messages.success(request, f"{lock.name}: {notice}")
    return redirect("locks:setup")
