"""What happened at the doors: unlock and alert events with their photos (served here, with the key), alerts to
acknowledge, and remote-unlock requests to approve or reject."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from django.db.models import F, Min, QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Query, Router
from pydantic import AwareDatetime, Field

from api import pagination
from api.access import ip_of, need
from api.problems import CONFLICT, ApiProblem
from api.responses import READ, WRITE, ok
from api.routes_places import Listing
from api.schemas_events import (
    AlertKind,
    AlertOut,
    AlertPage,
    EventOut,
    EventPage,
    EventWho,
    PhotoOut,
    RemoteUnlockRequestOut,
    RemoteUnlockRequestPage,
    RemoteUnlockStatus,
)
from locks import alerts, media, remote, selectors
from locks.models import Alert, EventMedia, LockEvent, RemoteUnlockRequest
from tenants.models import ApiKey

router = Router(tags=["Events and alerts"])
# The API's names for a photo's two files, and the dashboard's (locks.media.file_of).
PHOTO_VARIANTS = {"original": "original", "thumbnail": "thumb"}
IMAGE_TYPES = sorted({content_type for content_type, _ in media.IMAGE_TYPES.values()})
IMAGE = {"content": {t: {"schema": {"type": "string", "format": "binary"}} for t in IMAGE_TYPES}}


class EventFilter(Listing):
    lock: int | None = None
    unit: int | None = None
    property: int | None = None
    category: Literal["unlock", "alarm"] | None = None
    since: AwareDatetime | None = Field(default=None, description="Only events that happened at or after this time.")


class AlertFilter(Listing):
    open: bool | None = Field(default=None, description="true: not resolved yet; false: resolved.")
    acknowledged: bool | None = None
    lock: int | None = None
    kind: AlertKind | None = None


class RemoteUnlockFilter(Listing):
    status: RemoteUnlockStatus | None = None
    lock: int | None = None


# --- events and photos --------------------------------------------------------------------------------------


def _photo_url(media_id: int, variant: str) -> str:
    return reverse("api-v1:event-photo", kwargs={"media_id": media_id, "variant": variant})


def photos_out(photos: Iterable[EventMedia]) -> list[PhotoOut]:
    out = []
    for photo in photos:
        ready = photo.status == EventMedia.Status.DONE
        out.append(
            PhotoOut(
                id=photo.pk,
                status=photo.status,  # type: ignore[arg-type]
                url=_photo_url(photo.pk, "original") if ready else None,
                thumbnail_url=_photo_url(photo.pk, "thumbnail") if ready else None,
            )
        )
    return out


def event_out(event: LockEvent) -> EventOut:
    unit = event.lock.unit
    who = EventWho(
        access_code_id=event.access_code_id,
        stay_id=event.stay_id,
        guest_id=event.guest_id,
        guest_name=event.guest.name if event.guest is not None else None,
        actor_name=event.actor_name,
    )
    return EventOut(
        id=event.pk,
        lock_id=event.lock_id,
        unit_id=unit.pk if unit is not None else None,
        property_id=unit.property_id if unit is not None else None,
        category=event.category,  # type: ignore[arg-type]
        classification=event.classification,
        occurred_at=event.occurred_at,
        who=who,
        photos=photos_out(event.media.all()),
    )


def _events(rows: Sequence[LockEvent]) -> list[EventOut]:
    return [event_out(event) for event in rows]


def _event_rows(key: ApiKey) -> QuerySet[LockEvent]:
    return LockEvent.objects.for_user(key).select_related("lock__unit", "guest").prefetch_related("media")


@router.get("/events", response=ok(EventPage, errors=READ), summary="List unlock and alert events")
def list_events(request: HttpRequest, query: Query[EventFilter]) -> dict[str, object]:
    """In id order (the order they were stored in, which is not always the order they happened in: a lock's
    records reach the cloud when it is online again); `since` keeps the ones that happened at or after a time."""
    rows = _event_rows(need(request, ApiKey.Scope.READ))
    if query.lock is not None:
        rows = rows.filter(lock_id=query.lock)
    if query.unit is not None:
        rows = rows.filter(lock__unit_id=query.unit)
    if query.property is not None:
        rows = rows.filter(lock__unit__property_id=query.property)
    if query.category is not None:
        rows = rows.filter(category=query.category)
    if query.since is not None:
        rows = rows.filter(occurred_at__gte=query.since)
        if not query.cursor:
            rows = _from_the_first(rows)
    return pagination.page(rows, cursor=query.cursor, limit=query.limit, render=_events, follow=True)


def _from_the_first(rows: QuerySet[LockEvent]) -> QuerySet[LockEvent]:
    """`rows` (filtered by `since`) from the first of them on, in id order.

    Ids follow the order events were stored in, which the planner cannot tie to when they happened: asked for the
    first page of the last day's events, it walks the primary key from the oldest event of all. The smallest id
    that matches is cheap (the timeline indexes hold organisation or lock, occurred_at and id), and the page's walk
    starts there. The next pages start at their cursor, past it already. (`+ 0`: PostgreSQL would answer MIN(id)
    by that same walk of the primary key.)"""
    first = rows.aggregate(first=Min(F("pk") + 0))["first"]
    return rows.filter(pk__gte=first) if first is not None else rows.none()


@router.get("/events/{event_id}", response=ok(EventOut), summary="An event")
def get_event(request: HttpRequest, event_id: int) -> EventOut:
    return event_out(get_object_or_404(_event_rows(need(request, ApiKey.Scope.READ)), pk=event_id))


@router.get(
    "/event-photos/{media_id}/{variant}",
    response=ok(None),
    url_name="event-photo",
    summary="An event's photo",
    openapi_extra={"responses": {200: {"description": "The decrypted image.", **IMAGE}}},
)
def event_photo(request: HttpRequest, media_id: int, variant: Literal["original", "thumbnail"]) -> FileResponse:
    """The image the lock took (or its thumbnail), decrypted, from the API's private storage. It never changes:
    the answer may be kept (privately) for an hour."""
    key = need(request, ApiKey.Scope.READ)
    photo = get_object_or_404(selectors.media_of(key), pk=media_id)
    response = media.serve(photo, PHOTO_VARIANTS[variant])
    if response is None:
        raise Http404("This photo is not available.")
    return response


# --- alerts -------------------------------------------------------------------------------------------------


def alert_out(alert: Alert) -> AlertOut:
    return AlertOut(
        id=alert.pk,
        lock_id=alert.lock_id,
        kind=alert.kind,  # type: ignore[arg-type]
        message=alert.english_text,
        count=alert.count,
        event_id=alert.event_id,
        first_seen_at=alert.first_seen_at,
        last_seen_at=alert.last_seen_at,
        open=alert.resolved_at is None,
        resolved_at=alert.resolved_at,
        acknowledged_at=alert.acknowledged_at,
    )


@router.get("/alerts", response=ok(AlertPage, errors=READ), summary="List alerts")
def list_alerts(request: HttpRequest, query: Query[AlertFilter]) -> dict[str, object]:
    key = need(request, ApiKey.Scope.READ)
    rows = Alert.objects.for_user(key)
    if query.open is not None:
        rows = rows.filter(resolved_at__isnull=query.open)
    if query.acknowledged is not None:
        rows = rows.filter(acknowledged_at__isnull=not query.acknowledged)
    if query.lock is not None:
        rows = rows.filter(lock_id=query.lock)
    if query.kind is not None:
        rows = rows.filter(kind=query.kind)
    return pagination.page(rows, cursor=query.cursor, limit=query.limit, render=lambda r: [alert_out(a) for a in r])


@router.get("/alerts/{alert_id}", response=ok(AlertOut), summary="An alert")
def get_alert(request: HttpRequest, alert_id: int) -> AlertOut:
    key = need(request, ApiKey.Scope.READ)
    return alert_out(get_object_or_404(Alert.objects.for_user(key), pk=alert_id))


@router.post("/alerts/{alert_id}/acknowledge", response=ok(AlertOut, 200, WRITE), summary="Acknowledge an alert")
def acknowledge(request: HttpRequest, alert_id: int) -> AlertOut:
    """Someone has seen it (scope remote-unlock); audited once, twice is harmless. An alert about an event (wrong
    codes, pry, duress, doorbell) is resolved with it; one about a state (offline, low battery) stays open until
    the state passes."""
    key = need(request, ApiKey.Scope.REMOTE_UNLOCK)
    alert = get_object_or_404(Alert.objects.for_user(key).select_related("lock__unit", "organisation"), pk=alert_id)
    return alert_out(alerts.acknowledge_alert(alert, actor=key, ip=ip_of(request)))


# --- remote-unlock requests ---------------------------------------------------------------------------------


def request_out(request: RemoteUnlockRequest) -> RemoteUnlockRequestOut:
    event = request.event
    return RemoteUnlockRequestOut(
        id=request.pk,
        lock_id=request.lock_id,
        status=request.status,  # type: ignore[arg-type]
        requested_at=request.requested_at,
        answer_by=remote.deadline(request),
        decided_at=request.decided_at,
        failure_reason=request.failure_reason,
        event_id=request.event_id,
        photos=photos_out(event.media.all()) if event is not None else [],
    )


def _request_rows(key: ApiKey) -> QuerySet[RemoteUnlockRequest]:
    return RemoteUnlockRequest.objects.for_user(key).select_related("event").prefetch_related("event__media")


@router.get(
    "/remote-unlock-requests", response=ok(RemoteUnlockRequestPage, errors=READ), summary="List remote-unlock requests"
)
def list_requests(request: HttpRequest, query: Query[RemoteUnlockFilter]) -> dict[str, object]:
    rows = _request_rows(need(request, ApiKey.Scope.READ))
    if query.status is not None:
        rows = rows.filter(status=query.status)
    if query.lock is not None:
        rows = rows.filter(lock_id=query.lock)
    return pagination.page(rows, cursor=query.cursor, limit=query.limit, render=lambda r: [request_out(x) for x in r])


def _request(request: HttpRequest, request_id: int, scope: str) -> tuple[ApiKey, RemoteUnlockRequest]:
    key = need(request, scope)
    return key, get_object_or_404(_request_rows(key), pk=request_id)


def _fresh(request_id: int) -> RemoteUnlockRequestOut:
    rows = RemoteUnlockRequest.objects.select_related("event").prefetch_related("event__media")
    return request_out(rows.get(pk=request_id))


@router.get("/remote-unlock-requests/{request_id}", response=ok(RemoteUnlockRequestOut), summary="A request")
def get_request(request: HttpRequest, request_id: int) -> RemoteUnlockRequestOut:
    return request_out(_request(request, request_id, ApiKey.Scope.READ)[1])


@router.post(
    "/remote-unlock-requests/{request_id}/approve",
    response=ok(RemoteUnlockRequestOut, 200, WRITE),
    summary="Open the door for the person who rang",
)
def approve(request: HttpRequest, request_id: int) -> RemoteUnlockRequestOut:
    """Scope remote-unlock. The door is opened in the background, once: `status` is `approving` now, then
    `approved` when the cloud says it opened (or `failed`). A request already answered, or past `answer_by`,
    is 409."""
    key, found = _request(request, request_id, ApiKey.Scope.REMOTE_UNLOCK)
    answered = remote.approve_request(found.pk, actor=key, ip=ip_of(request))
    _refuse_if_decided_otherwise(answered, {remote.Status.APPROVING, remote.Status.APPROVED, remote.Status.FAILED})
    return _fresh(answered.pk)


@router.post(
    "/remote-unlock-requests/{request_id}/reject",
    response=ok(RemoteUnlockRequestOut, 200, WRITE),
    summary="Refuse to open the door",
)
def reject(request: HttpRequest, request_id: int) -> RemoteUnlockRequestOut:
    """Scope remote-unlock. The door stays shut and the lock is told (Wi-Fi locks). A request already answered
    otherwise, or past `answer_by`, is 409."""
    key, found = _request(request, request_id, ApiKey.Scope.REMOTE_UNLOCK)
    answered = remote.reject_request(found.pk, actor=key, ip=ip_of(request))
    _refuse_if_decided_otherwise(answered, {remote.Status.REJECTED})
    return _fresh(answered.pk)


def _refuse_if_decided_otherwise(answered: RemoteUnlockRequest, wanted: set[str]) -> None:
    """A retry of the same answer is fine; the other answer, or none in time, is a conflict to report."""
    if answered.status not in wanted:
        detail = f"This request is {answered.get_status_display().lower()} already; it cannot be answered now."
        raise ApiProblem(409, detail, type=CONFLICT)
