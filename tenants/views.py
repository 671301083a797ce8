"""Dashboard views of the tenants app: the organisation switcher and the front desk.

Every query goes through `tenants.selectors` (`stays(membership)`): the current organisation's stays, and for a
front desk limited to some properties only theirs, so anyone else's id is a 404. Viewers may look; acting needs a
code role.
PINs leave the server only in answers to audited POSTs marked no-store (docs/reliability.md S7).
"""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Callable
from typing import Any, cast

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import BaseForm, ModelChoiceField
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from audit.services import audit
from bookings import messages as guest_messages
from bookings import selectors as booking_selectors
from config.http import HtmxHttpRequest
from locks import codes as lock_codes
from locks import pins as lock_pins
from locks.forms import LocalDateTimeField, apply_service_error, local_input, make_aware_in
from locks.models import AccessCode
from tenants import notify, selectors, services
from tenants.context import LANGUAGE_SESSION_KEY, SESSION_KEY, membership_or_404, memberships_of
from tenants.forms import BookStayForm, MoveStayForm, StayDatesForm, default_check_out
from tenants.models import CODE_ROLES, Membership, Stay, Unit
from tenants.reauth import recent_auth_required
from tenants.signals import client_ip

STAYS_PER_PAGE = 25


@require_POST
@login_required
def switch_organisation(request: HttpRequest) -> HttpResponse:
    wanted = request.POST.get("organisation", "")
    membership = next((m for m in memberships_of(request.user) if str(m.organisation_id) == wanted), None)
    if membership is None:
        raise Http404("No such organisation of yours.")
    request.session[SESSION_KEY] = membership.organisation_id
    return redirect("home")


@require_POST
@login_required
def choose_language(request: HttpRequest) -> HttpResponse:
    """The header's language picker: saved on the user (it outlives the session), then back where they were."""
    back = request.POST.get("next", "")
    # A path on this site only (never a view name for redirect() to reverse, nor another host).
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(back, {request.get_host()}):
        back = reverse("home")
    language = request.POST.get("language", "").strip()
    try:
        services.choose_language(request.user, language, ip=client_ip(request))
    except ValidationError:
        messages.error(request, _("That language is not offered here; nothing was changed."))
        return HttpResponseRedirect(back)
    if language:
        request.session[LANGUAGE_SESSION_KEY] = language
    else:
        request.session.pop(LANGUAGE_SESSION_KEY, None)
    translation.activate(language or translation.get_language_from_request(request))
    messages.success(request, _("Language saved."))
    return HttpResponseRedirect(back)


# --- scoping ------------------------------------------------------------------------------------------------


def _may_act(membership: Membership) -> bool:
    return membership.role in CODE_ROLES


def _require_act(membership: Membership) -> None:
    if not _may_act(membership):
        raise PermissionDenied("Your role may look but not act.")


def _get_stay(request: HttpRequest, stay_id: int) -> tuple[Membership, Stay]:
    membership = membership_or_404(request)
    return membership, get_object_or_404(selectors.stays(membership), pk=stay_id)


def _get_code(request: HttpRequest, code_id: int) -> tuple[Membership, AccessCode]:
    membership = membership_or_404(request)
    return membership, get_object_or_404(selectors.stay_codes(membership), pk=code_id)


def _mark_errors(form: BaseForm) -> None:
    """Point each invalid input at its error text, and put the cursor on the first one."""
    first = True
    for name in form.errors:
        if name not in form.fields:
            continue
        bound = form[name]
        bound.field.widget.attrs.update({"aria-invalid": "true", "aria-describedby": f"{bound.auto_id}-errors"})
        if first:
            bound.field.widget.attrs["autofocus"] = True
            first = False
    if not first:
        for field in form.fields.values():
            if "aria-invalid" not in field.widget.attrs:
                field.widget.attrs.pop("autofocus", None)


# --- the desk: check in, today's arrivals and departures ----------------------------------------------------


def _check_in_defaults(form: BookStayForm) -> dict[str, Any]:
    """Check-in now, check-out tomorrow at 11:00, both in the zone of the first room on offer."""
    units = cast("ModelChoiceField[Unit]", form.fields["unit"]).queryset
    zone = selectors.picker_zone(units) if units is not None else settings.TIME_ZONE
    now = timezone.now()
    today = timezone.localtime(now, zoneinfo.ZoneInfo(zone)).date()
    return {
        "check_in": local_input(now, zone),
        "check_out": local_input(default_check_out(today, zone), zone),
        "kind": Stay.Kind.HOTEL,
    }


def _free_rooms(form: BookStayForm, data: Any = None) -> None:
    """Label the room picker free/taken for the form's times (posted, or else the defaults); the picker asks again
    (`rooms`) when the times change."""
    units = cast("ModelChoiceField[Unit]", form.fields["unit"]).queryset
    if units is None:  # the form sets it; never None once built
        return
    values = data if data is not None else (form.data if form.is_bound else form.initial)
    raw = str(values.get("unit") or "")
    zone = selectors.picker_zone(units, int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None)
    try:
        times = [
            make_aware_in(LocalDateTimeField().clean(values.get(name)), zone) for name in ("check_in", "check_out")
        ]
    except ValidationError:
        return
    if times[0] and times[1] and times[0] < times[1]:
        form.show_free_units(selectors.units_taken_until(units, times[0], times[1]))
    # The times ask (they stay in the page; the picker is replaced), and the answer for the last times typed wins.
    for name in ("check_in", "check_out"):
        form.fields[name].widget.attrs.update(
            {
                "hx-get": reverse("desk:rooms"),
                "hx-trigger": "change",
                "hx-include": "#id_check_in, #id_check_out, #id_unit",
                "hx-target": "#id_unit",
                "hx-select": "#id_unit",
                "hx-swap": "outerHTML",
                "hx-sync": "closest form:replace",
            }
        )


@login_required
def rooms(request: HttpRequest) -> HttpResponse:
    """The room picker again, labelled for the times now on the check-in form."""
    membership = membership_or_404(request)
    _require_act(membership)
    form = BookStayForm(
        user=request.user, organisation=membership.organisation, initial={"unit": request.GET.get("unit")}
    )
    _free_rooms(form, request.GET)
    return render(request, "tenants/_field.html", {"field": form["unit"]})


def _booking_token(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw or "")
    except ValueError:
        return None


@login_required
def today(request: HttpRequest) -> HttpResponse:
    """The front desk's screen: check a guest in, then today's arrivals and departures with their codes."""
    membership = membership_or_404(request)
    form: BookStayForm | None = None
    token = uuid.uuid4()
    if request.method == "POST":
        _require_act(membership)
        form = BookStayForm(request.POST, user=request.user, organisation=membership.organisation)
        posted = _booking_token(request.POST.get("booking_token"))
        if posted is None:
            form.is_valid()
            form.add_error(None, _("This form was out of date: check the details and press Check in again."))
        elif form.is_valid():
            data = form.cleaned_data
            try:
                booking = services.book_guest(
                    unit=data["unit"],
                    guest=services.GuestDetails(
                        data["guest_name"], data["guest_email"], data["guest_phone"], data["guest_language"]
                    ),
                    check_in=data["check_in"],
                    check_out=data["check_out"],
                    kind=data["kind"],
                    booking_token=posted,
                    actor=request.user,
                    ip=client_ip(request),
                )
            except ValidationError as error:
                apply_service_error(form, error)
                token = posted  # the same form, corrected, may still book once
            else:
                stay = booking.stay
                if booking.booked:
                    messages.success(
                        request,
                        _("%(guest)s is checked in to %(unit)s.") % {"guest": stay.guest.name, "unit": stay.unit.name},
                    )
                else:
                    messages.info(request, _("This check-in was already done (the form was sent twice): here it is."))
                return redirect("desk:stay", stay_id=stay.pk)
        else:
            token = posted
        _mark_errors(form)
    elif _may_act(membership):
        form = BookStayForm(user=request.user, organisation=membership.organisation)
        form.initial = _check_in_defaults(form)
    if form is not None:
        _free_rooms(form)
    if form is not None and not form.errors:
        form.fields["unit"].widget.attrs["autofocus"] = True
    lists = selectors.today(membership)
    chips = booking_selectors.chips_for(lists.arrivals)
    for stay in lists.arrivals:
        stay.arrival_chip = chips[stay.pk]  # type: ignore[attr-defined]
    board = booking_selectors.arrivals_board(membership)
    tomorrow = [row.stay for row in board if row.day == "tomorrow"]
    for row in board:
        row.stay.arrival_chip = row.chip  # type: ignore[attr-defined]
    context = {
        "nav": "desk",
        "form": form,
        "booking_token": token,
        "arrivals": lists.arrivals,
        "tomorrow": tomorrow,
        "departures": lists.departures,
        "zones": lists.zones,
        "can_act": _may_act(membership),
    }
    return render(request, "tenants/today.html", context)


# --- one stay ----------------------------------------------------------------------------------------------


def _stay_context(request: HttpRequest, membership: Membership, stay: Stay, **extra: Any) -> dict[str, Any]:
    page = selectors.stay_page(request.user, stay)
    revealed: dict[int, str] = extra.pop("revealed", {})
    for code in page.codes:
        code.revealed_pin = revealed.get(code.pk, "")  # type: ignore[attr-defined]
    can_act = _may_act(membership)
    context = {
        "nav": "stays",
        "stay": stay,
        "codes": page.codes,
        "can_act": can_act,
        "may_see_pins": page.may_see_pins,
        "live_codes": page.live_codes,
        "removal_confirmed": page.removal_confirmed,
    }
    context.update(_messages_context(request, stay, show_pins=extra.pop("show_message_pins", False)))
    if can_act and stay.is_open:
        context["dates_form"] = StayDatesForm(stay=stay)
        context["move_form"] = MoveStayForm(stay=stay, user=request.user)
    context.update(extra)
    return context


def _messages_context(request: HttpRequest, stay: Stay, *, show_pins: bool) -> dict[str, Any]:
    """The guest messages part of the stay page: the arrival guarantee, the messages sent, a preview of each kind
    (PINs masked unless shown through the audited POST) and whether this user may send each again."""
    previews = [
        (guest_messages.compose(stay, kind, show_pins=show_pins), guest_messages.may_send(request.user, stay, kind))
        for kind in guest_messages.Kind.values
    ]
    arrival = booking_selectors.arrival_of(stay)
    return {
        "arrival": arrival,
        "arrival_chip": booking_selectors.chip_of(arrival),
        "guest_messages": booking_selectors.stay_messages(stay),
        "message_previews": previews,
        "message_pins_shown": show_pins,
        "may_show_message_pins": any(may for _, may in previews),
    }


@login_required
def stay_detail(request: HttpRequest, stay_id: int) -> HttpResponse:
    membership, stay = _get_stay(request, stay_id)
    return render(request, "tenants/stay.html", _stay_context(request, membership, stay))


@login_required
def stay_removal(request: HttpRequest, stay_id: int) -> HttpResponse:
    """The check-out promise, polled: "removing…" until every code is confirmed gone from its lock."""
    membership, stay = _get_stay(request, stay_id)
    context = {"stay": stay, "removal_confirmed": selectors.removal_confirmed(stay)}
    return render(request, "tenants/stay.html#removal", context)


@login_required
def code_status(request: HttpRequest, code_id: int) -> HttpResponse:
    membership, code = _get_code(request, code_id)
    return render(request, "tenants/_code_status.html", {"code": code, "can_act": _may_act(membership)})


def _back_to_stay(request: HttpRequest, stay: Stay) -> HttpResponse:
    return redirect("desk:stay", stay_id=stay.pk)


def _ended(request: HttpRequest, stay: Stay) -> HttpResponse | None:
    """A page opened before the stay ended: say so instead of acting on it."""
    if stay.is_open:
        return None
    messages.info(
        request, _("This stay was already %(status)s: nothing changed.") % {"status": stay.get_status_display().lower()}
    )
    return _back_to_stay(request, stay)


def _refuse(request: HttpRequest, error: ValidationError) -> None:
    for text in error.messages:
        messages.error(request, text)


@require_POST
@login_required
def stay_dates(request: HttpRequest, stay_id: int) -> HttpResponse:
    membership, stay = _get_stay(request, stay_id)
    _require_act(membership)
    if ended := _ended(request, stay):
        return ended
    form = StayDatesForm(request.POST, stay=stay)
    if form.is_valid():
        try:
            services.change_stay(
                stay,
                check_in=form.cleaned_data["check_in"],
                check_out=form.cleaned_data["check_out"],
                actor=request.user,
                ip=client_ip(request),
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The stay's dates changed; its codes follow."))
            return _back_to_stay(request, stay)
    _mark_errors(form)
    return render(request, "tenants/stay.html", _stay_context(request, membership, stay, dates_form=form))


@require_POST
@login_required
def stay_move(request: HttpRequest, stay_id: int) -> HttpResponse:
    membership, stay = _get_stay(request, stay_id)
    _require_act(membership)
    if ended := _ended(request, stay):
        return ended
    form = MoveStayForm(request.POST, stay=stay, user=request.user)
    if form.is_valid():
        try:
            services.move_stay(stay, unit=form.cleaned_data["unit"], actor=request.user, ip=client_ip(request))
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(
                request,
                _("Moved to %(unit)s: the old room's code is removed.") % {"unit": form.cleaned_data["unit"].name},
            )
            return _back_to_stay(request, stay)
    _mark_errors(form)
    return render(request, "tenants/stay.html", _stay_context(request, membership, stay, move_form=form))


def _end(
    request: HttpRequest,
    stay_id: int,
    service: Callable[..., Stay],
    done: str,
    confirm: dict[str, str] | None = None,
) -> HttpResponse:
    """End (or check in) a stay. With `confirm`, the first POST only asks: a page with the consequences and a second
    button, so a stray click cannot take an in-house guest's code off the lock (works without JavaScript)."""
    membership, stay = _get_stay(request, stay_id)
    _require_act(membership)
    if ended := _ended(request, stay):
        return ended
    if confirm is not None and request.POST.get("confirmed") != "yes":
        context = {"nav": "stays", "stay": stay, "now": timezone.now(), **confirm}
        return render(request, "tenants/stay_confirm.html", context)
    service(stay, actor=request.user, ip=client_ip(request))
    messages.success(request, done)
    return _back_to_stay(request, stay)


@require_POST
@login_required
def stay_check_out(request: HttpRequest, stay_id: int) -> HttpResponse:
    confirm = {"question": _("Check this guest out?"), "button": _("Yes, check out"), "action": "desk:stay-check-out"}
    done = _("Checked out: the code is being removed from the lock.")
    return _end(request, stay_id, services.check_out_stay, done, confirm)


@require_POST
@login_required
def stay_check_in(request: HttpRequest, stay_id: int) -> HttpResponse:
    """A booked guest arrives: record it (their codes already work from check-in time)."""
    return _end(request, stay_id, services.check_in_stay, _("Checked in: the guest has arrived."))


@require_POST
@login_required
def stay_cancel(request: HttpRequest, stay_id: int) -> HttpResponse:
    confirm = {"question": _("Cancel this stay?"), "button": _("Yes, cancel the stay"), "action": "desk:stay-cancel"}
    done = _("Stay cancelled: its code is being removed from the lock.")
    return _end(request, stay_id, services.cancel_stay, done, confirm)


@require_POST
@login_required
def stay_send(request: HttpRequest, stay_id: int) -> HttpResponse:
    membership, stay = _get_stay(request, stay_id)
    _require_act(membership)
    channel = request.POST.get("channel", "")
    try:
        to = notify.send_stay_code(stay, channel=channel, actor=request.user, ip=client_ip(request))
    except ValidationError as error:
        _refuse(request, error)
    else:
        messages.success(
            request,
            (_("Code sent by e-mail to %(to)s.") if channel == notify.EMAIL else _("Code sent by SMS to %(to)s."))
            % {"to": to},
        )
    return _back_to_stay(request, stay)


@require_POST
@login_required
def stay_message_send(request: HttpRequest, stay_id: int) -> HttpResponse:
    """Send a guest message again from the stay page (audited; refused in words when there is nothing to send)."""
    membership, stay = _get_stay(request, stay_id)
    _require_act(membership)
    kind = request.POST.get("kind", "")
    try:
        sent = guest_messages.send_again(stay, kind, actor=request.user, ip=client_ip(request))
    except ValidationError as error:
        _refuse(request, error)
    else:
        what = sent.get_kind_display()
        if sent.status == sent.Status.SENT:
            by_email = sent.channel == notify.EMAIL
            done = _("“%(what)s” sent by e-mail to %(to)s.") if by_email else _("“%(what)s” sent by SMS to %(to)s.")
            messages.success(request, done % {"what": what, "to": sent.to})
        else:
            failed = {"what": what, "why": sent.error or sent.get_status_display()}
            messages.error(request, _("“%(what)s” could not be sent (%(why)s).") % failed)
    return _back_to_stay(request, stay)


@require_POST
@login_required
@never_cache
@recent_auth_required
def stay_message_preview(request: HttpRequest, stay_id: int) -> HttpResponse:
    """The message previews with their PINs: like "Show PIN", an audited POST answered no-store, for the roles that
    may see PINs (and send the message)."""
    membership, stay = _get_stay(request, stay_id)
    if not guest_messages.may_send(request.user, stay, guest_messages.Kind.CODE):
        audit("message.preview_refused", actor=request.user, organisation=membership.organisation, obj=stay)
        raise PermissionDenied("Your role may not see door codes.")
    audit("message.preview", actor=request.user, organisation=membership.organisation, obj=stay, ip=client_ip(request))
    return render(request, "tenants/stay.html", _stay_context(request, membership, stay, show_message_pins=True))


@require_POST
@login_required
def code_resend(request: HtmxHttpRequest, code_id: int) -> HttpResponse:
    membership, code = _get_code(request, code_id)
    _require_act(membership)
    try:
        code = lock_codes.resend_access_code(code, actor=request.user, ip=client_ip(request))
    except ValidationError as error:
        if not request.htmx:
            _refuse(request, error)
        code.refresh_from_db()
    else:
        if not request.htmx:
            messages.success(request, _("Sending the code to the lock again."))
    if request.htmx:
        return render(request, "tenants/_code_status.html", {"code": code, "can_act": True})
    return _back_to_stay(request, code.stay)  # type: ignore[arg-type]


@require_POST
@login_required
@never_cache
@recent_auth_required
def code_reveal(request: HtmxHttpRequest, code_id: int) -> HttpResponse:
    """Show one PIN: an audited POST, never cached (a refusal is audited by the service and answered 403)."""
    membership, code = _get_code(request, code_id)
    problem = ""
    pin = None
    try:
        pin = lock_pins.reveal_pin(code, actor=request.user, ip=client_ip(request))
    except ValidationError as error:
        problem = " ".join(error.messages)
    if request.htmx:
        code.may_see, code.revealed_pin = True, pin or ""  # type: ignore[attr-defined]
        return render(request, "tenants/stay.html#pin", {"code": code, "problem": problem})
    if problem:
        messages.error(request, problem)
    stay = get_object_or_404(selectors.stays(membership), pk=code.stay_id)
    context = _stay_context(request, membership, stay, revealed={code.pk: pin} if pin else {})
    return render(request, "tenants/stay.html", context)


# --- the welcome slip --------------------------------------------------------------------------------------


def _qr_text(stay: Stay, pins: list[tuple[AccessCode, str]]) -> str:
    zone = stay.unit.property.tz
    start, end = timezone.localtime(stay.check_in, zone), timezone.localtime(stay.check_out, zone)
    codes = ", ".join(sorted({pin for _, pin in pins}))
    return (
        f"{stay.unit.property.name}, {stay.unit.name}. Door code {codes}. "
        f"Valid {start:%d %b %Y %H:%M} - {end:%d %b %Y %H:%M} ({stay.unit.property.time_zone})."
    )


@require_POST
@login_required
@never_cache
@recent_auth_required
def slip(request: HttpRequest, stay_id: int) -> HttpResponse:
    """The printable welcome slip. It shows the PIN, so opening it is a reveal: a POST, audited, no-store."""
    membership, stay = _get_stay(request, stay_id)
    codes = list(stay.access_codes.exclude(desired=AccessCode.Desired.REMOVED).select_related("lock"))
    if not stay.is_open or not codes:
        messages.error(request, _("This stay has no live door code to print."))
        return _back_to_stay(request, stay)
    ip = client_ip(request)
    try:
        pins = [(code, lock_pins.reveal_pin(code, actor=request.user, ip=ip)) for code in codes]
    except ValidationError as error:
        _refuse(request, error)
        return _back_to_stay(request, stay)
    audit("stay.slip", actor=request.user, organisation=membership.organisation, obj=stay, summary=str(stay), ip=ip)
    qr = segno.make(_qr_text(stay, pins), error="m")
    context = {
        "nav": "stays",
        "stay": stay,
        "pins": pins,
        "one_pin": len({pin for _, pin in pins}) == 1,
        "all_set": all(code.status == AccessCode.Status.SET for code, _ in pins),
        # omitsize: a viewBox instead of a fixed size, so CSS scales the code instead of cropping it
        "qr_svg": qr.svg_inline(scale=5, omitsize=True, title="QR code with the room, the door code and when it works"),
    }
    with translation.override(stay.guest_language):  # the guest reads it; the desk's pages stay in the clerk's
        return render(request, "tenants/slip.html", context)


# --- the list of stays -------------------------------------------------------------------------------------


@login_required
def stays(request: HtmxHttpRequest) -> HttpResponse:
    """Stays and leases: current, upcoming or past, searched by guest or room, newest first, paged."""
    membership = membership_or_404(request)
    when = request.GET.get("when", "current")
    if when not in selectors.WHEN:
        when = "current"
    query = request.GET.get("q", "").strip()[:100]
    now = timezone.now()
    rows = selectors.stay_list(membership, when, query, now)
    page = Paginator(rows, STAYS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"nav": "stays", "page": page, "when": when, "whens": selectors.WHEN, "q": query, "now": now}
    if request.htmx and request.htmx.target == "stay-results":
        return render(request, "tenants/stays.html#results", context)
    return render(request, "tenants/stays.html", context)
