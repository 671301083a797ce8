"""What a guest's page shows and does (`/g/<token>/`, no sign-in): the stay's room and window, its door codes as the
locks have them, the fallback offline passwords when the arrival guarantee issued some, and "the door did not open".

A token opens only its own stay, and only from a day before check-in until check-out while the stay is open and the
link not revoked; outside that, nothing of the stay is read into the page (bookings/guest_views.py answers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext_noop

from audit.models import AuditEvent
from audit.services import audit
from bookings import guest_pass
from bookings.models import Arrival, GuestPass
from locks import alerts
from locks.models import AccessCode, Alert, Lock, LockOperation
from tenants.models import Stay

VALID_BEFORE_CHECK_IN = timedelta(hours=24)
PIN_VIEW_AUDIT_EVERY = timedelta(hours=1)  # one "guest saw the code" row per pass per hour keeps the trail readable

PIN_VIEWED = "guest_page.code_viewed"
DOOR_REPORTED = "guest_page.door_not_open"


@dataclass(frozen=True)
class Opening:
    """What a token opens now: the pass when it is valid; when not valid yet, only the moment it will be."""

    state: Literal["valid", "not_yet", "gone"]
    guest_pass: GuestPass | None = None
    valid_from: datetime | None = None
    zone: str = ""  # the property's time zone, to say when a link not valid yet opens


def open_pass(token: str, now: datetime | None = None) -> Opening:
    """An unknown token, a revoked pass, a stay cancelled, checked out or over: all "gone", alike."""
    now = now or timezone.now()
    found = guest_pass.find(token)
    if found is None or found.revoked_at is not None:
        return Opening("gone")
    stay = found.stay
    if not stay.is_open or now >= stay.check_out:
        return Opening("gone")
    valid_from = stay.check_in - VALID_BEFORE_CHECK_IN
    if now < valid_from:
        return Opening("not_yet", valid_from=valid_from, zone=stay.unit.property.time_zone)
    return Opening("valid", guest_pass=found)


@dataclass
class DoorCode:
    """One code to type, on the doors named; `pin` empty while a lock does not have it yet."""

    doors: list[str]
    pin: str = ""

    @property
    def ready(self) -> bool:
        return bool(self.pin)


@dataclass
class Fallback:
    door: str
    password: str
    starts_at: datetime | None
    ends_at: datetime | None


@dataclass
class GuestView:
    stay: Stay
    codes: list[DoorCode] = field(default_factory=list)
    fallbacks: list[Fallback] = field(default_factory=list)

    @property
    def shows_a_secret(self) -> bool:
        return any(code.ready for code in self.codes) or bool(self.fallbacks)


def door_codes(stay: Stay) -> list[DoorCode]:
    """The stay's live codes: a PIN only once its lock has confirmed it (status "set"), never one that may not work;
    one entry for every door when all share a confirmed PIN, else one per door."""
    live = (
        AccessCode.objects.filter(stay=stay, desired=AccessCode.Desired.ACTIVE)
        .exclude(status__in=[AccessCode.Status.REMOVED, AccessCode.Status.EXPIRED])
        .select_related("lock")
        .order_by("lock__name", "pk")
    )
    per_door = [
        DoorCode([code.lock.name], code.pin if code.status == AccessCode.Status.SET and code.pin else "")
        for code in live
    ]
    pins = {entry.pin for entry in per_door}
    if len(per_door) > 1 and len(pins) == 1 and all(entry.ready for entry in per_door):
        return [DoorCode([door for entry in per_door for door in entry.doors], per_door[0].pin)]
    return per_door


def fallbacks(stay: Stay) -> list[Fallback]:
    """The offline passwords the arrival guarantee issued for this stay (bookings/arrivals.py writes them), done."""
    arrival = Arrival.objects.filter(stay=stay).first()
    if arrival is None:
        return []
    operations = (
        arrival.fallback_operations.filter(kind=LockOperation.Kind.OFFLINE_PASSWORD, status=LockOperation.Status.DONE)
        .select_related("lock")
        .order_by("lock__name", "pk")
    )
    found = []
    for operation in operations:
        if not operation.secret:
            continue
        window = operation.offline_window
        starts, ends = window if window is not None else (None, None)
        found.append(Fallback(operation.lock.name, operation.secret, starts, ends))
    return found


def guest_view(opened: GuestPass) -> GuestView:
    stay = opened.stay
    return GuestView(stay=stay, codes=door_codes(stay), fallbacks=fallbacks(stay))


def note_code_viewed(opened: GuestPass, *, ip: str | None, now: datetime | None = None) -> bool:
    """Audit that the guest page showed a code (never which): at most once an hour per pass."""
    now = now or timezone.now()
    stay = opened.stay
    recent = AuditEvent.objects.filter(
        action=PIN_VIEWED, object_type="Stay", object_id=str(stay.pk), at__gte=now - PIN_VIEW_AUDIT_EVERY
    )
    if recent.exists():
        return False
    audit(
        PIN_VIEWED,
        organisation=stay.unit.property.organisation,
        obj=stay,
        summary=f"The guest page showed the door code of {stay.guest.name} in {stay.unit.name}",
        ip=ip,
    )
    return True


def report_door(opened: GuestPass, *, ip: str | None, now: datetime | None = None) -> Alert:
    """The guest says the door did not open: one alert per stay for the desk (a repeat counts on it), audited."""
    now = now or timezone.now()
    stay = opened.stay
    prop = stay.unit.property
    local = timezone.localtime(now, prop.tz)
    message = gettext_noop("%(guest)s in %(unit)s (%(property)s) says the door did not open, %(when)s (%(zone)s).")
    words = {
        "guest": stay.guest.name,
        "unit": stay.unit.name,
        "property": prop.name,
        "when": f"{local:%a %d %b %H:%M}",
        "zone": prop.time_zone,
    }
    doors = Lock.objects.filter(unit=stay.unit).order_by("name", "pk")
    # The lock the guest's code is on, when there is one: the alert is about that door.
    lock = doors.filter(access_codes__stay=stay).first() or doors.first()
    alert = alerts.raise_alert(
        organisation_id=prop.organisation_id,
        kind=Alert.Kind.DOOR_DID_NOT_OPEN,
        key=f"door_not_open:stay:{stay.pk}",
        message=message,
        message_args=words,
        lock=lock,
        at=now,
    )
    audit(DOOR_REPORTED, organisation=prop.organisation, obj=stay, summary=message % words, ip=ip)
    return alert
