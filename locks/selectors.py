"""Reads of the locks app that the dashboard's views, the admin and (soon) a public API share: what each page
shows, built once here so no caller copies a query.

Every function is scoped by the member's reach as the views always were (`for_membership`, or `for_user` for the
forms that span organisations): another organisation's rows, and for a front desk limited to some properties
another property's, are never returned. Selectors only read: no writes, no audit rows, no HTTP (a 404 for an id
out of reach stays the view's answer). They return querysets, lists and frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db.models import Count, F, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from locks import failures, operations, pins, remote
from locks.models import (
    CODE_SUSPECT,
    AccessCode,
    Alert,
    CloudAccount,
    EventMedia,
    Lock,
    LockEvent,
    LockOperation,
    LockUser,
    RemoteUnlockRequest,
    UnlockMethod,
)
from tenants.models import (
    CODE_ROLES,
    Actor,
    Membership,
    Organisation,
    Property,
    Reach,
    RequestUser,
    Unit,
    user_of,
)

LOW_BATTERY = 20  # percent: below this a lock's badge turns amber
UNSETTLED = [
    AccessCode.Status.REQUESTED,
    AccessCode.Status.SENDING,
    AccessCode.Status.REMOVING,
    AccessCode.Status.UNKNOWN,
]
CODES_SHOWN = 50
EVENTS_PER_PAGE = 50
ALERTS_SHOWN = 100
RECENT_REQUESTS = 20


# --- who may manage which locks (the code and stay forms' choices) --------------------------------------------


def code_roles_memberships(user: RequestUser) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user_of(user), role__in=CODE_ROLES)


def manageable_locks(user: RequestUser, organisation: Organisation | None = None) -> QuerySet[Lock]:
    """Locks whose codes this user may manage: those they reach (`for_user`: a limited front desk only its
    properties' locks) in the organisations where their role manages codes."""
    locks = Lock.objects.for_user(user).select_related("unit__property", "organisation")
    if organisation is not None:
        locks = locks.filter(organisation=organisation)
    if getattr(user, "is_superuser", False):
        return locks
    return locks.filter(organisation__in=code_roles_memberships(user).values("organisation_id"))


def manageable_units(user: RequestUser, organisation: Organisation | None = None) -> QuerySet[Unit]:
    """Units with at least one lock the user may manage codes on."""
    units = Unit.objects.filter(locks__in=manageable_locks(user, organisation)).distinct()
    return units.select_related("property").order_by("property__name", "name")


# --- one row by id: the querysets the pages look ids up in (out of reach: not found) ---------------------------


def locks_of(membership: Membership) -> QuerySet[Lock]:
    return Lock.objects.for_membership(membership).select_related("unit__property", "organisation", "cloud_account")


def codes_of(membership: Membership) -> QuerySet[AccessCode]:
    return AccessCode.objects.for_membership(membership).select_related(
        "lock__unit__property", "lock__organisation", "guest", "stay"
    )


def operations_of(membership: Membership) -> QuerySet[LockOperation]:
    return LockOperation.objects.for_membership(membership).select_related("lock__unit__property", "lock__organisation")


def properties_of(membership: Membership) -> QuerySet[Property]:
    return Property.objects.for_membership(membership)


def units_of(membership: Membership) -> QuerySet[Unit]:
    return Unit.objects.for_membership(membership)


def media_of(reach: Reach) -> QuerySet[EventMedia]:
    """The event photos a member (or an API key) may see."""
    return EventMedia.objects.for_membership(reach)


def person_on_lock(lock: Lock, lock_user_id: int) -> LockUser | None:
    """One of the lock's people (a method is assigned only to someone on its own lock); None if not on it."""
    return LockUser.objects.filter(pk=lock_user_id, lock=lock).first()


def people_on_lock(lock: Lock) -> list[LockUser]:
    """The lock's people with their methods, present ones first."""
    present_first = F("removed_at").asc(nulls_first=True)  # PostgreSQL puts NULLs last unless told
    return list(lock.lock_users.prefetch_related("unlock_methods").order_by(present_first, "name", "pk"))


def unassigned_methods(lock: Lock) -> QuerySet[UnlockMethod]:
    """The lock's enrolled methods that are nobody's yet (to assign to someone on the lock)."""
    return lock.unlock_methods.filter(lock_user__isnull=True, status=UnlockMethod.Status.ACTIVE)


# --- portfolio and property pages ----------------------------------------------------------------------------


class PropertyRow(NamedTuple):
    """A property annotated with unit_count, lock_count, offline_count, low_battery_count, paused_count, and its
    codes that failed (a pair: the page unpacks it)."""

    property: Property
    failed_codes: int


@dataclass(frozen=True)
class Portfolio:
    properties: list[PropertyRow]
    unassigned: list[Lock]  # locks on no unit, the first hundred by name


def portfolio(membership: Membership, now: datetime | None = None) -> Portfolio:
    """Every property with its counts of locks, offline locks, low batteries and codes needing attention."""
    now = now or timezone.now()
    properties = list(Property.objects.for_membership(membership).annotate(unit_count=Count("units")).order_by("name"))
    # The locks' counts in one pass over the locks, grouped by the property each lock keeps: the COUNT(DISTINCT)s
    # over the property → units → locks join sorted every lock four times (p95 300 ms at 100,000 locks,
    # bench/fleet_bench.py), and joining the locks to their units to group them was 97 of the page's ~100 ms.
    lock_stats = {
        row.pop("property_id"): row
        for row in Lock.objects.filter(property__in=properties)
        .values("property_id")
        .annotate(
            lock_count=Count("pk"),
            offline_count=Count("pk", filter=Q(online=False)),
            low_battery_count=Count("pk", filter=Q(battery__lt=LOW_BATTERY)),
            paused_count=Count("pk", filter=Q(paused_until__gt=now)),
        )
        .order_by()
    }
    no_locks = {"lock_count": 0, "offline_count": 0, "low_battery_count": 0, "paused_count": 0}
    for prop in properties:
        for name, count in lock_stats.get(prop.pk, no_locks).items():
            setattr(prop, name, count)  # as annotations would be: the page reads property.lock_count
    attention = (
        AccessCode.objects.for_membership(membership)
        .filter(_failed_now(now))
        .values("lock__property_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    failed_by_property = {row["lock__property_id"]: row["n"] for row in attention}
    unassigned = Lock.objects.for_membership(membership).filter(unit__isnull=True).order_by("name")[:100]
    return Portfolio(
        properties=[PropertyRow(p, failed_by_property.get(p.pk, 0)) for p in properties],
        unassigned=list(unassigned),
    )


def _failed_now(now: datetime) -> Q:
    """Codes that failed and still matter: not being removed, and not ended more than a day ago (what the alert scan
    looks at, through the `code_suspect_ends` index: a code that failed last year needs no one)."""
    return (
        CODE_SUSPECT
        & Q(status=AccessCode.Status.FAILED, ends_at__gt=now - timedelta(days=1))
        & ~Q(desired=AccessCode.Desired.REMOVED)
    )


def _codes_of_lock(condition: Q) -> Coalesce:
    """How many of the lock's codes meet `condition`, counted by a subquery per lock on the (lock, status) index
    rather than by joining every code the lock ever had."""
    counted = AccessCode.objects.filter(condition, lock=OuterRef("pk")).order_by().values("lock")
    return Coalesce(Subquery(counted.annotate(n=Count("pk")).values("n")), 0)


def property_locks(
    membership: Membership, prop: Property, search: str = "", now: datetime | None = None
) -> QuerySet[Lock]:
    """A property's locks with their unit, annotated with failed_codes (that still matter), pending_codes and
    set_codes; `search` matches the lock's or the unit's name."""
    now = now or timezone.now()
    locks = (
        Lock.objects.for_membership(membership)
        .filter(property=prop)  # the lock's own column: the property's locks, not the organisation's joined to units
        .select_related("unit")
        .annotate(
            failed_codes=_codes_of_lock(_failed_now(now)),
            pending_codes=_codes_of_lock(Q(status__in=UNSETTLED)),
            set_codes=_codes_of_lock(Q(status=AccessCode.Status.SET)),
        )
        .order_by("unit__name", "name", "pk")
    )
    if search:
        locks = locks.filter(Q(name__icontains=search) | Q(unit__name__icontains=search))
    return locks


# --- the lock page ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockPage:
    codes: list[AccessCode]  # live, by start, the first CODES_SHOWN
    ended_codes: list[AccessCode]  # removed or expired, latest first
    operations: list[LockOperation]  # the latest ten
    offline_issued: list[LockOperation]  # offline passwords handed out (not the clear-alls)
    may_manage: bool  # this user may issue, change and see the codes
    can_offline: bool
    can_dynamic: bool
    is_hotel: bool
    has_tools: bool  # something under "Lock tools": a tool this user may use


def lock_page(user: Actor, lock: Lock) -> LockPage:
    """What the lock page shows of a lock the caller already reached (its codes, operations and tools)."""
    may_manage = pins.may_see_pins(user, lock)
    live = lock.access_codes.exclude(status__in=[AccessCode.Status.REMOVED, AccessCode.Status.EXPIRED])
    ended = lock.access_codes.filter(status__in=[AccessCode.Status.REMOVED, AccessCode.Status.EXPIRED])
    return LockPage(
        codes=list(live.select_related("guest", "stay").order_by("starts_at", "pk")[:CODES_SHOWN]),
        ended_codes=list(ended.select_related("guest").order_by("-ends_at", "-pk")[:20]),
        operations=list(lock.operations.order_by("-created_at")[:10]),
        offline_issued=list(
            lock.operations.filter(kind=LockOperation.Kind.OFFLINE_PASSWORD, status=LockOperation.Status.DONE)
            .exclude(params__type__startswith="clear")
            .order_by("-created_at")[:20]
        ),
        may_manage=may_manage,
        can_offline=lock.kind in operations.OFFLINE_KINDS,
        can_dynamic=lock.kind in operations.DYNAMIC_KINDS,
        is_hotel=lock.kind == "zigbee_hotel",
        has_tools=may_manage
        and (
            lock.kind in operations.OFFLINE_KINDS
            or lock.kind in operations.DYNAMIC_KINDS
            or lock.kind in ("zigbee", "zigbee_hotel")
        ),
    )


LOCK_PAGE_SHOWN = timedelta(hours=1)  # how long the lock page shows the last open from it


@dataclass(frozen=True)
class RemoteOpen:
    """The lock page's "Open the door" section."""

    offered_kind: bool  # a kind the lock page may open (remote.LOCK_PAGE_KINDS)
    sleeps: bool  # a battery Wi-Fi lock: it opens only while someone at the door rang
    may_open: bool  # this user may open it from the lock page
    latest: RemoteUnlockRequest | None  # the last open from the lock page in the past LOCK_PAGE_SHOWN, if any


def remote_open(user: Actor, lock: Lock) -> RemoteOpen:
    """Whether to offer opening the door from the lock page, and the last open from there."""
    latest = (
        RemoteUnlockRequest.objects.filter(
            lock=lock, event__isnull=True, requested_at__gte=timezone.now() - LOCK_PAGE_SHOWN
        )
        .select_related("decided_by")
        .first()
    )
    return RemoteOpen(
        offered_kind=lock.kind in remote.LOCK_PAGE_KINDS,
        sleeps=lock.kind in failures.SLEEPING_KINDS,
        may_open=remote.may_open_from_lock_page(user, lock),
        latest=latest,
    )


# --- activity: the timeline of unlocks and alerts ---------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """The last row shown; the next page starts strictly after it (keyset pagination). Written '<iso time>_<id>'."""

    occurred_at: datetime
    pk: int

    def __str__(self) -> str:
        return f"{self.occurred_at.isoformat()}_{self.pk}"


def parse_cursor(raw: str) -> Cursor | None:
    """A cursor as `str(Cursor)` wrote it; None for anything else (the first page)."""
    when, _, pk = raw.rpartition("_")
    moment = parse_datetime(when) if when else None
    if moment is None or not (pk.isascii() and pk.isdigit()):
        return None
    return Cursor(moment, int(pk))


@dataclass(frozen=True)
class EventPage:
    events: list[LockEvent]  # newest first, with their lock, unit, property, code, guest, stay, lock user, media
    next_cursor: Cursor | None  # None on the last page


def activity(
    membership: Membership,
    *,
    lock: Lock | None = None,
    unit: Unit | None = None,
    prop: Property | None = None,
    category: str = "",
    before: Cursor | None = None,
    per_page: int = EVENTS_PER_PAGE,
) -> EventPage:
    """Unlocks and alerts of the organisation, or of one lock, unit or property (the narrowest given), newest
    first; keyset pages, so the thousandth page costs what the first does."""
    events = LockEvent.objects.for_membership(membership)
    if lock is not None:
        events = events.filter(lock=lock)
    elif unit is not None:
        events = events.filter(unit=unit)
    elif prop is not None:
        events = events.filter(property=prop)
    if category:
        events = events.filter(category=category)
    if before is not None:
        events = events.filter(
            Q(occurred_at__lt=before.occurred_at) | Q(occurred_at=before.occurred_at, pk__lt=before.pk)
        )
    page = list(
        events.select_related("lock__unit__property", "access_code", "guest", "stay__unit", "lock_user")
        .prefetch_related("media")
        .order_by("-occurred_at", "-pk")[: per_page + 1]
    )
    more = len(page) > per_page
    page = page[:per_page]
    return EventPage(page, Cursor(page[-1].occurred_at, page[-1].pk) if more else None)


# --- set-up: cloud projects and which door each lock is on ------------------------------------------------------


def setup_accounts(organisation: Organisation) -> QuerySet[CloudAccount]:
    """The organisation's cloud projects by name, annotated with lock_count and oldest_event_sync (when the least
    recently read lock's records were last read, among streams that are not failing: the safety net is behind when
    that is before `events.safety_net_deadline`)."""
    read_ok = Q(locks__sync_cursors__failures=0)
    return (
        CloudAccount.objects.filter(organisation=organisation)
        .annotate(
            lock_count=Count("locks", distinct=True),
            oldest_event_sync=Min("locks__sync_cursors__last_synced_at", filter=read_ok),
        )
        .order_by("name")
    )


def setup_locks(organisation: Organisation) -> QuerySet[Lock]:
    """Every lock of the organisation, those on no door first, then by property, unit and name."""
    locks = Lock.objects.filter(organisation=organisation).select_related("unit__property", "cloud_account")
    unattached_first = F("unit__property__name").asc(nulls_first=True)
    return locks.order_by(unattached_first, "unit__name", "name", "pk")


def organisation_units(organisation: Organisation) -> QuerySet[Unit]:
    """The doors a lock may be put on: every unit of the organisation, with its property, by property and name."""
    units = Unit.objects.filter(property__organisation=organisation).select_related("property")
    return units.order_by("property__name", "name")


def setup_units(organisation: Organisation) -> list[Unit]:
    return list(organisation_units(organisation))


# --- alerts, remote unlock and the nav badge ---------------------------------------------------------------------


@dataclass(frozen=True)
class AlertLists:
    open_alerts: list[Alert]  # not yet acknowledged first, then newest first
    closed_alerts: list[Alert]  # the latest closed ones


def alert_lists(membership: Membership) -> AlertLists:
    base = Alert.objects.for_membership(membership).select_related("lock__unit__property", "acknowledged_by")
    not_acknowledged_first = F("acknowledged_at").asc(nulls_first=True)
    open_alerts = base.filter(resolved_at__isnull=True).order_by(not_acknowledged_first, "-last_seen_at")
    closed = base.filter(resolved_at__isnull=False).order_by("-last_seen_at")
    return AlertLists(list(open_alerts[:ALERTS_SHOWN]), list(closed[:ALERTS_SHOWN]))


def alerts_of(membership: Membership) -> QuerySet[Alert]:
    return Alert.objects.for_membership(membership).select_related("lock__unit__property")


def remote_requests_of(membership: Membership) -> QuerySet[RemoteUnlockRequest]:
    return RemoteUnlockRequest.objects.for_membership(membership).select_related(
        "lock__unit__property", "event", "decided_by"
    )


@dataclass(frozen=True)
class RemoteRequests:
    waiting: list[RemoteUnlockRequest]  # an answer is due (or the door is opening), oldest first
    recent: list[RemoteUnlockRequest]  # the latest others


def remote_requests(membership: Membership, now: datetime) -> RemoteRequests:
    """Doors waiting for an answer, with their event's stored photos, and the latest answers."""
    photos = Prefetch("event__media", queryset=EventMedia.objects.filter(status=EventMedia.Status.DONE))
    base = remote_requests_of(membership).prefetch_related(photos)
    waiting = base.filter(
        Q(status=remote.Status.APPROVING) | Q(status=remote.Status.PENDING, requested_at__gt=now - remote.WINDOW)
    )
    recent = base.exclude(pk__in=waiting.values("pk"))[:RECENT_REQUESTS]
    return RemoteRequests(list(waiting.order_by("requested_at")), list(recent))


def open_alert_count(membership: Membership) -> int:
    """Open alerts nobody has acknowledged yet (the nav badge)."""
    unseen = Alert.objects.for_membership(membership).filter(resolved_at__isnull=True, acknowledged_at__isnull=True)
    return unseen.count()


def pending_remote_unlock_count(membership: Membership) -> int:
    """Doors waiting for an answer (the nav badge)."""
    pending = RemoteUnlockRequest.objects.for_membership(membership).filter(status=RemoteUnlockRequest.Status.PENDING)
    return pending.count()
