"""Stays: book (the guest found or made, a code on each of the unit's locks), change, move, check in/out, cancel."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status
from pydantic import AwareDatetime

from api import pagination
from api.access import ip_of, need
from api.problems import fields_named
from api.responses import READ, WRITE, ok
from api.routes_codes import code_out
from api.routes_places import Listing
from api.schemas import CodesStatus, GuestOut, StayChange, StayIn, StayOut, StayPage, StayStatus
from locks.models import AccessCode
from tenants import services
from tenants.models import ApiKey, Stay, Unit

router = Router(tags=["Stays"])
GUEST_FIELDS = {"name": "guest.name", "email": "guest.email", "phone": "guest.phone"}
Code = AccessCode.Status


class StayFilter(Listing):
    unit: int | None = None
    property: int | None = None
    status: StayStatus | None = None
    check_in_after: AwareDatetime | None = None
    check_in_before: AwareDatetime | None = None


def codes_status(live: list[AccessCode], every: list[AccessCode]) -> CodesStatus:
    """The stay's codes in one word (see StayOut.codes_status)."""
    if not every:
        return "none"
    if not live:
        return "removed" if all(c.status in (Code.REMOVED, Code.EXPIRED) for c in every) else "removing"
    if any(c.status == Code.FAILED for c in live):
        return "failed"
    if all(c.status == Code.SET and not c.needs_modify for c in live):
        return "set"
    return "pending"


def stay_out(stay: Stay) -> StayOut:
    every = sorted(stay.access_codes.all(), key=lambda c: c.pk)
    live = [c for c in every if c.desired != AccessCode.Desired.REMOVED]
    guest = stay.guest
    return StayOut(
        id=stay.pk,
        unit_id=stay.unit_id,
        property_id=stay.unit.property_id,
        guest=GuestOut(id=guest.pk, name=guest.name, email=guest.email, phone=guest.phone, language=guest.language),
        kind=stay.kind,  # type: ignore[arg-type]
        status=stay.status,  # type: ignore[arg-type]
        check_in=stay.check_in,
        check_out=stay.check_out,
        codes_status=codes_status(live, every),
        access_codes=[code_out(code) for code in every],
        created_at=stay.created_at,
    )


def _stay(request: HttpRequest, stay_id: int, scope: str) -> tuple[ApiKey, Stay]:
    key = need(request, scope)
    stays = Stay.objects.for_user(key).select_related("unit", "guest")
    return key, get_object_or_404(stays, pk=stay_id)


def _fresh(stay: Stay) -> StayOut:
    return stay_out(Stay.objects.select_related("unit", "guest").prefetch_related("access_codes").get(pk=stay.pk))


@router.get("/stays", response=ok(StayPage, errors=READ), summary="List stays")
def list_stays(request: HttpRequest, query: Query[StayFilter]) -> dict[str, object]:
    key = need(request, ApiKey.Scope.READ)
    rows = Stay.objects.for_user(key).select_related("unit", "guest").prefetch_related("access_codes")
    if query.unit is not None:
        rows = rows.filter(unit_id=query.unit)
    if query.property is not None:
        rows = rows.filter(unit__property_id=query.property)
    if query.status is not None:
        rows = rows.filter(status=query.status)
    if query.check_in_after is not None:
        rows = rows.filter(check_in__gte=query.check_in_after)
    if query.check_in_before is not None:
        rows = rows.filter(check_in__lt=query.check_in_before)
    return pagination.page(rows, cursor=query.cursor, limit=query.limit, render=lambda ss: [stay_out(s) for s in ss])


@router.get("/stays/{stay_id}", response=ok(StayOut), summary="A stay and its codes")
def get_stay(request: HttpRequest, stay_id: int) -> StayOut:
    return _fresh(_stay(request, stay_id, ApiKey.Scope.READ)[1])


@router.post("/stays", response=ok(StayOut, 201, WRITE), summary="Book a stay (check a guest in)")
def create_stay(request: HttpRequest, body: StayIn) -> Status[StayOut]:
    """The guest is found (same name and e-mail, or name and phone) or made, the stay booked and a code issued on
    each lock of the unit, valid from check-in to check-out. A stay that has begun is `checked_in` at once. The
    codes reach the locks in the background: `codes_status` is `pending`, then `set` (webhook `access_code.set`).
    Send an `Idempotency-Key` so that a retry never books twice."""
    key = need(request, ApiKey.Scope.STAYS)
    unit = get_object_or_404(Unit.objects.for_user(key).select_related("property__organisation"), pk=body.unit)
    with fields_named(GUEST_FIELDS):
        booking = services.book_guest(
            unit=unit,
            guest=services.GuestDetails(
                name=body.guest.name, email=body.guest.email, phone=body.guest.phone, language=body.guest.language
            ),
            check_in=body.check_in,
            check_out=body.check_out,
            kind=body.kind,
            actor=key,
            ip=ip_of(request),
        )
    return Status(201, _fresh(booking.stay))


@router.patch("/stays/{stay_id}", response=ok(StayOut, 200, WRITE), summary="Change a stay's dates or unit")
def change_stay(request: HttpRequest, stay_id: int, body: StayChange) -> StayOut:
    """New dates move its codes; a new unit takes the old unit's codes off and issues the new one's."""
    key, stay = _stay(request, stay_id, ApiKey.Scope.STAYS)
    if body.unit is not None and body.unit != stay.unit_id:
        unit = get_object_or_404(Unit.objects.for_user(key), pk=body.unit)
        stay = services.move_stay(stay, unit=unit, actor=key, ip=ip_of(request))
    if body.check_in is not None or body.check_out is not None:
        stay = services.change_stay(
            stay, check_in=body.check_in, check_out=body.check_out, actor=key, ip=ip_of(request)
        )
    return _fresh(stay)


@router.post("/stays/{stay_id}/check-in", response=ok(StayOut, 200, WRITE), summary="The guest has arrived")
def check_in(request: HttpRequest, stay_id: int) -> StayOut:
    key, stay = _stay(request, stay_id, ApiKey.Scope.STAYS)
    return _fresh(services.check_in_stay(stay, actor=key, ip=ip_of(request)))


@router.post("/stays/{stay_id}/check-out", response=ok(StayOut, 200, WRITE), summary="The guest has left")
def check_out(request: HttpRequest, stay_id: int) -> StayOut:
    """Their codes come off the locks (`codes_status` becomes `removed` once the cloud confirms). Twice is harmless."""
    key, stay = _stay(request, stay_id, ApiKey.Scope.STAYS)
    return _fresh(services.check_out_stay(stay, actor=key, ip=ip_of(request)))


@router.post("/stays/{stay_id}/cancel", response=ok(StayOut, 200, WRITE), summary="Cancel a booking")
def cancel(request: HttpRequest, stay_id: int) -> StayOut:
    key, stay = _stay(request, stay_id, ApiKey.Scope.STAYS)
    return _fresh(services.cancel_stay(stay, actor=key, ip=ip_of(request)))
