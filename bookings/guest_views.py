"""The pages anyone with the link may open, without signing in: a stay's guest page (`/g/<token>/`) with its "the
door did not open" button, a unit's arrival link (`/u/<token>/`: the phone's last digits lead to the guest page)
and a unit's calendar export (`/calendar/<token>.ics`).

Every answer is rate-limited per client address and per link (bookings/public_limits.py), and says nothing of a
stay unless its token opens it now: an unknown token and an expired one get the same 404. The guest pages are never
stored (no-store), never indexed, send no Referer with the token in it, and run no script at all.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import parse_etags
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe

from bookings import arrival_links, calendar_export, guest_page, guest_pass, public_limits
from bookings.forms import ArrivalDigitsForm
from tenants.signals import client_ip

GUEST_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    # Not "no-referrer": with it, a browser sends `Origin: null` on the page's own form post, which Django's CSRF
    # check refuses (rightly). "strict-origin" still keeps the path (the token) out of every Referer, to us and to
    # anyone else: only the origin is ever sent, and nothing from https to http.
    "Referrer-Policy": "strict-origin",
}


def _guest_response(response: HttpResponse) -> HttpResponse:
    for name, value in GUEST_HEADERS.items():
        response[name] = value
    return response


def _too_many(request: HttpRequest, buckets: list[str]) -> HttpResponse | None:
    retry_after = public_limits.spend(buckets)
    if retry_after is None:
        return None
    response = render(request, "bookings/guest_refused.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return _guest_response(response)


def _buckets(request: HttpRequest, token: str) -> list[str]:
    # The link's bucket is named by a prefix of its hash: Redis never holds a token.
    return [f"ip:{client_ip(request) or '-'}", f"link:{guest_pass.token_hash(token)[:24]}"]


def _gone(request: HttpRequest) -> HttpResponse:
    return _guest_response(render(request, "bookings/guest_gone.html", {}, status=404))


@require_GET
@ensure_csrf_cookie  # the guest has no session: the form's token is checked against this cookie
def guest_stay(request: HttpRequest, token: str) -> HttpResponse:
    if refused := _too_many(request, _buckets(request, token)):
        return refused
    opening = guest_page.open_pass(token)
    if opening.state == "not_yet":
        context: dict[str, Any] = {"valid_from": opening.valid_from, "zone": opening.zone}
        return _guest_response(render(request, "bookings/guest_gone.html", context))
    if opening.guest_pass is None:
        return _gone(request)
    view = guest_page.guest_view(opening.guest_pass)
    if view.shows_a_secret:
        guest_page.note_code_viewed(opening.guest_pass, ip=client_ip(request))
    context = {
        "view": view,
        "stay": view.stay,
        "zone": view.stay.unit.property.time_zone,
        "token": token,
        "reported": request.GET.get("reported") == "1",
    }
    with translation.override(view.stay.guest_language):
        return _guest_response(render(request, "bookings/guest.html", context))


@require_POST
def door_did_not_open(request: HttpRequest, token: str) -> HttpResponse:
    """Tell the desk (an alert, one per stay, counted on repeats), then back to the page, which says so."""
    if refused := _too_many(request, _buckets(request, token)):
        return refused
    opening = guest_page.open_pass(token)
    if opening.guest_pass is None:
        return _gone(request)
    guest_page.report_door(opening.guest_pass, ip=client_ip(request))
    response = redirect(reverse("guest:stay", kwargs={"token": token}) + "?reported=1")
    response.status_code = 303  # see the page again with a GET; a reload does not report twice
    return _guest_response(response)


@require_http_methods(["GET", "POST"])
@ensure_csrf_cookie  # as the guest page: no session, the form's token is checked against this cookie
def unit_arrival(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the form, under the property's and the unit's names only (nothing of any stay). POST: the digits; a
    stay that matches is a 303 to its guest page. An unknown, a revoked link and digits that match nothing get the
    very same answer, without the names."""
    if refused := _too_many(request, _buckets(request, token)):
        return refused
    if request.method == "GET":
        link = arrival_links.find(token)
        if link is None:
            return _gone(request)
        context: dict[str, Any] = {"unit": link.unit, "form": ArrivalDigitsForm()}
        return _guest_response(render(request, "bookings/arrival.html", context))
    form = ArrivalDigitsForm(request.POST)
    if not form.is_valid():
        return _guest_response(render(request, "bookings/arrival.html", {"form": form}, status=400))
    try:
        answer = arrival_links.answer(token, form.cleaned_data["digits"], ip=client_ip(request))
    except public_limits.LimitUnavailable:
        # Never fail open: an uncounted try is a free guess.
        return _arrival_refused(request, {"unavailable": True}, status=503, retry_after=60)
    if answer.retry_after is not None:
        return _arrival_refused(request, {"retry_after": answer.retry_after}, 429, retry_after=answer.retry_after)
    if answer.guest_page:
        response = redirect(answer.guest_page)
        response.status_code = 303  # the guest page is read with a GET; a reload does not post the digits again
        return _guest_response(response)
    context = {"form": ArrivalDigitsForm(), "revoked": answer.revoked, "not_found": not answer.revoked}
    return _guest_response(render(request, "bookings/arrival.html", context))


def _arrival_refused(request: HttpRequest, context: dict[str, Any], status: int, *, retry_after: int) -> HttpResponse:
    response = render(request, "bookings/arrival_refused.html", context, status=status)
    response["Retry-After"] = str(retry_after)
    return _guest_response(response)


@require_safe
def unit_calendar(request: HttpRequest, token: str) -> HttpResponse:
    """The unit's calendar as text/calendar, with an ETag for conditional GETs (a poll that finds nothing new costs
    a 304). Limited per link only: channel managers fetch many hosts' calendars from a few addresses."""
    if retry_after := public_limits.spend([f"calendar:{guest_pass.token_hash(token)[:24]}"]):
        response = HttpResponse(
            f"Too many requests for this calendar: try again in {retry_after} seconds.\n",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(retry_after)
        return response
    export = calendar_export.find(token)
    if export is None:
        return HttpResponse("No such calendar.\n", status=404, content_type="text/plain; charset=utf-8")
    rendered = calendar_export.render(export.unit)
    if rendered.etag in parse_etags(request.headers.get("If-None-Match", "")):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(rendered.body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    response["ETag"] = rendered.etag
    response["Cache-Control"] = "private, no-cache"  # may be kept, but asked again (with If-None-Match) every time
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
