"""Dashboard views for landlords: the portfolio, property and lock pages, door codes and the activity feed; thin
function views that parse, call one service and render. The lock page's operations are in locks/operation_views.py,
its people in locks/user_views.py, the set-up page in locks/setup_page_views.py; they share the helpers below.

Every lookup goes through the current membership (`Model.objects.for_membership`), so another organisation's
id, and for a front desk limited to some properties another property's, is a 404. Actions answer htmx with the
fragment to swap and plain posts with a redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh
from django_stubs_ext import StrOrPromise

from config.http import HtmxHttpRequest
from locks import codes, forms, operations, pins, selectors
from locks.models import AccessCode, Lock, LockEvent
from tenants.context import current_membership, membership_or_404
from tenants.models import MANAGER_ROLES, Role
from tenants.reauth import recent_auth_required
from tenants.signals import client_ip

# The activity page's filter: each category of event, said as the choice it is.
ACTIVITY_FILTERS = [
    (LockEvent.Category.UNLOCK, gettext_lazy("Unlocks only")),
    (LockEvent.Category.ALARM, gettext_lazy("Alerts only")),
]


def no_store(response: HttpResponse) -> HttpResponse:
    """Pages and fragments that carry a PIN must not be kept by the browser or a proxy."""
    response["Cache-Control"] = "no-store"
    return response


def error_text(error: ValidationError | PermissionDenied) -> str:
    """A refusal in the words shown beside the row or form it concerns."""
    return " ".join(error.messages) if isinstance(error, ValidationError) else (str(error) or "Not allowed.")


def id_or_404(raw: str) -> int:
    """An id given in a query string or a form field: anything but digits is not found."""
    if not (raw.isascii() and raw.isdigit()):
        raise Http404("No such item.")
    return int(raw)


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
    prop = get_object_or_404(selectors.properties_of(membership), pk=property_id)
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
            "may_manage_property": membership.role in MANAGER_ROLES,  # the link to its arrival and message settings
        },
    )


# --- the lock page ---------------------------------------------------------------------------------------------


def lock_for(request: HttpRequest, lock_id: int) -> Lock:
    """The lock of a URL, if the current membership reaches it (also the lock's people and operations pages)."""
    return get_object_or_404(selectors.locks_of(membership_or_404(request)), pk=lock_id)


def _code_for(request: HttpRequest, code_id: int) -> AccessCode:
    return get_object_or_404(selectors.codes_of(membership_or_404(request)), pk=code_id)


def may_manage(request: HttpRequest, lock: Lock) -> bool:
    """Whether this user may issue and change the lock's codes, see their PINs and run its operations."""
    return pins.may_see_pins(request.user, lock)


def lock_context(request: HttpRequest, lock: Lock, **extra: Any) -> dict[str, Any]:
    """Everything the lock page shows, for the page and for the sections an action swaps back in."""
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
    context.update(remote_open_context(request, lock))
    context.update(extra)
    return context


def remote_open_context(request: HttpRequest, lock: Lock) -> dict[str, Any]:
    """The "Open the door" section's names (locks/_remote_open.html), on the lock page and when it polls alone."""
    section = selectors.remote_open(request.user, lock)
    return {
        "remote_open_kind": section.offered_kind,
        "remote_open_sleeps": section.sleeps,
        "may_open_remotely": section.may_open,
        "remote_open": section.latest,
    }


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
    lock = lock_for(request, lock_id)
    template = "locks/lock_detail.html"
    if request.htmx and request.GET.get("part") == "codes":
        template += "#code-table"
    return render(request, template, lock_context(request, lock))


@login_required
@require_POST
def issue_code(request: HtmxHttpRequest, lock_id: int) -> HttpResponse:
    lock = lock_for(request, lock_id)
    if not may_manage(request, lock):
        raise PermissionDenied("Your role may not issue door codes on this lock.")
    form = _issue_form(request, lock, request.POST)
    code = None
    if form.is_valid():
        if form.cleaned_data["lock"].pk != lock.pk:
            form.add_error("lock", _("Issue codes for this lock from this page."))
        else:
            code = form.save(actor=request.user, ip=client_ip(request))
    if code is None:
        context = lock_context(request, lock, issue_form=form)
        if request.htmx:
            return render(request, "locks/lock_detail.html#issue-form", context)
        # A plain post with errors: the whole page, the form filled in, the errors beside the fields.
        return render(request, "locks/lock_detail.html", context, status=400)
    messages.success(
        request, _("Code “%(label)s” is on its way to the lock; its status updates below.") % {"label": code.label}
    )
    if note := codes.openings_note(code):
        messages.warning(request, note)
    if request.htmx:
        # Not a redirect to "#code-N": the browser does not reload for a new fragment of the same page.
        return HttpResponseClientRefresh()
    return redirect(f"{lock_url(lock)}#code-{code.pk}")


def lock_url(lock: Lock) -> str:
    return reverse("locks:lock", args=[lock.pk])


def not_yet_confirmed(request: HtmxHttpRequest) -> bool:
    """A plain POST of an action that cannot be undone, not yet confirmed. Its button asks in the browser
    (hx-confirm), which only htmx does: without JavaScript a single click would act, so the page asks instead."""
    return not request.htmx and request.POST.get("confirmed") != "yes"


@dataclass(frozen=True)
class Question:
    """What the page asks before an action that cannot be undone, what follows, and the button that goes ahead."""

    question: StrOrPromise
    consequence: StrOrPromise
    button: StrOrPromise


def ask_first(
    request: HtmxHttpRequest, lock: Lock, ask: Question, code: AccessCode | None = None, **carry: str
) -> HttpResponse:
    """The page that asks (describing `code`, if given): its button posts the same form again confirmed, with
    `carry`'s fields; the way back to the lock page changes nothing. As the desk's check-out and cancel do
    (templates/tenants/stay_confirm.html)."""
    context = {"nav": "portfolio", "lock": lock, "code": code, "ask": ask, "action": request.path, "carry": carry}
    return render(request, "locks/confirm.html", {**context, "time_zone": lock.time_zone})


# --- one code: its row, its actions ---------------------------------------------------------------------------


def _render_row(request: HttpRequest, code: AccessCode, **extra: Any) -> HttpResponse:
    context = {
        "code": code,
        "lock": code.lock,
        "may_manage": may_manage(request, code.lock),
        "time_zone": code.time_zone,
        **extra,
    }
    return render(request, "locks/lock_detail.html#code-row", context)


@login_required
@require_GET
def code_row(request: HttpRequest, code_id: int) -> HttpResponse:
    """The code's row, polled by the page while the lock has not confirmed the last change."""
    return _render_row(request, _code_for(request, code_id))


CODE_ACTIONS: dict[str, tuple[Callable[..., AccessCode], StrOrPromise]] = {
    "freeze": (
        codes.freeze_access_code,
        gettext_lazy("Freezing: the lock will refuse this code until it is unfrozen."),
    ),
    "unfreeze": (
        codes.unfreeze_access_code,
        gettext_lazy("Unfreezing: the code will open the door again once confirmed."),
    ),
    "delete": (codes.remove_access_code, gettext_lazy("Removing: the code counts as gone once the lock confirms it.")),
    "resend": (codes.resend_access_code, gettext_lazy("Sending again.")),
}


@login_required
@require_POST
def code_action(request: HtmxHttpRequest, code_id: int, action: str) -> HttpResponse:
    code = _code_for(request, code_id)
    if action not in CODE_ACTIONS:
        raise Http404("No such action.")
    service, done = CODE_ACTIONS[action]
    removing = action == "delete" and code.desired != AccessCode.Desired.REMOVED
    if removing and not_yet_confirmed(request) and may_manage(request, code.lock):
        ask = Question(
            _("Remove the code “%(label)s” from the lock?") % {"label": code.label},
            _(
                "The code stops opening the door once the lock confirms it is gone. This cannot be undone: whoever "
                "uses it would need a new code."
            ),
            _("Yes, remove the code"),
        )  # the version goes along: a page gone stale meanwhile is still told
        return ask_first(request, code.lock, ask, code=code, version=request.POST.get("version", ""))
    error = None
    try:
        if not may_manage(request, code.lock):
            raise PermissionDenied("Your role may not manage door codes on this lock.")
        kwargs: dict[str, Any] = {"actor": request.user, "ip": client_ip(request)}
        if action != "resend":
            kwargs["version"] = _version(request)
        code = service(code, **kwargs)
    except (ValidationError, PermissionDenied) as refused:
        error = error_text(refused)
        code.refresh_from_db()
    if request.htmx:
        return _render_row(request, code, error=error, notice=None if error else done)
    if error:
        messages.error(request, f"{code.label}: {error}")
    else:
        messages.success(request, f"{code.label}: {done}")  # the label is a name: no words around it to translate
    return redirect(lock_url(code.lock))


def _version(request: HttpRequest) -> int | None:
    """The code's version the page was showing: a page that went stale gets told instead of acting blindly."""
    raw = request.POST.get("version", "")
    if not (raw.isascii() and raw.isdigit()):  # str.isdigit() alone also says yes to "²", which int() refuses
        raise ValidationError(_("This page is out of date; reload it and try again."))
    return int(raw)


@login_required
def code_edit(request: HtmxHttpRequest, code_id: int) -> HttpResponse:
    """Change a code's window or PIN (GET shows the form in the row's place)."""
    code = _code_for(request, code_id)
    if not may_manage(request, code.lock):
        raise PermissionDenied("Your role may not change door codes on this lock.")
    if request.method == "POST":
        form = forms.ChangeCodeForm(request.POST, code=code)
        if form.is_valid() and (changed := form.save(actor=request.user, ip=client_ip(request))) is not None:
            notice = _("Changing: the lock keeps the old window and PIN until it confirms the new ones.")
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
@recent_auth_required
def code_reveal(request: HtmxHttpRequest, code_id: int) -> HttpResponse:
    """Show the PIN to a role allowed to see it: an audited POST, never cached, never in a URL."""
    code = _code_for(request, code_id)
    try:
        pin = pins.reveal_pin(code, actor=request.user, ip=client_ip(request))
    except ValidationError as refused:
        return _render_row(request, code, error=error_text(refused))
    if not request.htmx:
        return no_store(render(request, "locks/code_pin.html", {"code": code, "pin": pin, "lock": code.lock}))
    return no_store(_render_row(request, code, pin=pin))


# --- activity: the timeline of unlocks and alerts ---------------------------------------------------------------


@login_required
@require_GET
def activity(request: HtmxHttpRequest) -> HttpResponse:
    """Unlocks and alerts of the organisation, a property, a unit or a lock, newest first; filterable; keyset
    pages, so the thousandth page costs what the first does."""
    membership = membership_or_404(request)
    scope: dict[str, Any] = {}
    if lock_id := request.GET.get("lock", ""):
        scope["lock"] = get_object_or_404(selectors.locks_of(membership), pk=id_or_404(lock_id))
    elif unit_id := request.GET.get("unit", ""):
        scope["unit"] = get_object_or_404(selectors.units_of(membership), pk=id_or_404(unit_id))
    elif property_id := request.GET.get("property", ""):
        scope["property"] = get_object_or_404(selectors.properties_of(membership), pk=id_or_404(property_id))
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
        "categories": ACTIVITY_FILTERS,
        **scope,
    }
    template = "locks/activity.html#event-rows" if request.htmx and cursor is not None else "locks/activity.html"
    return render(request, template, context)
