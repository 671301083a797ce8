"""Properties, units and locks: read-only, as far as the key reaches."""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from pydantic import Field

from api import pagination
from api.access import need
from api.responses import READ, ok
from api.schemas import LockOut, LockPage, LockSupports, PropertyOut, PropertyPage, UnitOut, UnitPage
from locks.models import Lock, LockKind
from tenants.models import ApiKey, Property, Unit

router = Router(tags=["Places and locks"])


class Listing(Schema):
    cursor: str | None = None
    limit: int = Field(default=pagination.DEFAULT_LIMIT, ge=1, le=pagination.MAX_LIMIT)


class UnitFilter(Listing):
    property: int | None = None


class LockFilter(Listing):
    property: int | None = None
    unit: int | None = None
    online: bool | None = None


def property_out(prop: Property) -> PropertyOut:
    return PropertyOut(id=prop.pk, name=prop.name, kind=prop.kind, address=prop.address, time_zone=prop.time_zone)  # type: ignore[arg-type]


def unit_out(unit: Unit) -> UnitOut:
    return UnitOut(id=unit.pk, property_id=unit.property_id, name=unit.name)


def lock_out(lock: Lock) -> LockOut:
    return LockOut(
        id=lock.pk,
        name=lock.name,
        kind=lock.kind,
        unit_id=lock.unit_id,
        property_id=lock.unit.property_id if lock.unit_id is not None and lock.unit else None,
        online=lock.online,
        battery=lock.battery,
        last_seen_at=lock.last_seen_at,
        supports=LockSupports(
            freeze=lock.can_freeze,
            change_pin=lock.kind not in (LockKind.BLE, LockKind.BLE_GATEWAY),
            pin_length=lock.pin_length,
        ),
    )


@router.get("/properties", response=ok(PropertyPage, errors=READ), summary="List properties")
def list_properties(request: HttpRequest, query: Query[Listing]) -> dict[str, object]:
    key = need(request, ApiKey.Scope.READ)
    rows = Property.objects.for_user(key)
    return pagination.page(
        rows, cursor=query.cursor, limit=query.limit, render=lambda ps: [property_out(p) for p in ps]
    )


@router.get("/properties/{property_id}", response=ok(PropertyOut), summary="A property")
def get_property(request: HttpRequest, property_id: int) -> PropertyOut:
    key = need(request, ApiKey.Scope.READ)
    return property_out(get_object_or_404(Property.objects.for_user(key), pk=property_id))


@router.get("/units", response=ok(UnitPage, errors=READ), summary="List units")
def list_units(request: HttpRequest, query: Query[UnitFilter]) -> dict[str, object]:
    key = need(request, ApiKey.Scope.READ)
    rows = Unit.objects.for_user(key)
    if query.property is not None:
        rows = rows.filter(property_id=query.property)
    return pagination.page(rows, cursor=query.cursor, limit=query.limit, render=lambda us: [unit_out(u) for u in us])


@router.get("/units/{unit_id}", response=ok(UnitOut), summary="A unit")
def get_unit(request: HttpRequest, unit_id: int) -> UnitOut:
    key = need(request, ApiKey.Scope.READ)
    return unit_out(get_object_or_404(Unit.objects.for_user(key), pk=unit_id))


def _locks(rows: Sequence[Lock]) -> list[LockOut]:
    return [lock_out(lock) for lock in rows]


@router.get("/locks", response=ok(LockPage, errors=READ), summary="List locks")
def list_locks(request: HttpRequest, query: Query[LockFilter]) -> dict[str, object]:
    key = need(request, ApiKey.Scope.READ)
    rows = Lock.objects.for_user(key).select_related("unit")
    if query.property is not None:
        rows = rows.filter(unit__property_id=query.property)
    if query.unit is not None:
        rows = rows.filter(unit_id=query.unit)
    if query.online is not None:
        rows = rows.filter(online=query.online)
    return pagination.page(rows, cursor=query.cursor, limit=query.limit, render=_locks)


@router.get("/locks/{lock_id}", response=ok(LockOut), summary="A lock: state and what it supports")
def get_lock(request: HttpRequest, lock_id: int) -> LockOut:
    key = need(request, ApiKey.Scope.READ)
    return lock_out(get_object_or_404(Lock.objects.for_user(key).select_related("unit"), pk=lock_id))
