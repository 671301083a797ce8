"""A unit's arrival link (`/u/<token>/`): the landlord pastes it once into the listing's check-in instructions, which
the channel sends every guest. An Airbnb export names no e-mail or phone, only the phone's last 4 digits, so a stay
booked from it has nobody to message; its guest opens this link, types those digits, and is sent on to their own
stay's guest page.

What the link opens: only a stay of its own unit that the guest page would open now (from a day before check-in to
check-out, not cancelled) whose digits match: the ones the calendar feed gave (`FeedEvent.phone_last_digits`), or
the last 4 of a phone the desk typed for the guest. Wrong answers are counted (5 an hour per link and per client
address, never failing open) and a link past its limit is an alert for the desk. Owners and managers hand the
link out, renew and revoke it, every one audited.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from audit.services import audit
from bookings import guest_pass, public_limits
from bookings.guest_page import VALID_BEFORE_CHECK_IN
from bookings.models import FeedEvent, UnitArrivalLink
from locks import alerts
from locks.models import Alert, Lock
from tenants.models import MANAGER_ROLES, Actor, Stay, Unit, role_in

DIGITS = 4
WRONG_TRIES = 5  # per link and per client address ...
WRONG_TRIES_WINDOW = 3600  # ... in any hour (seconds)
OPEN = (Stay.Status.BOOKED, Stay.Status.CHECKED_IN)


def may_manage(user: Actor, organisation_id: int) -> bool:
    """Owners and managers: the link leads to every guest's door codes of the unit, given the right digits."""
    return role_in(user, organisation_id, MANAGER_ROLES)


def link_for(unit: Unit) -> UnitArrivalLink:
    """The unit's link, made on first use; racing callers get the same one."""
    return guest_pass.made_once(UnitArrivalLink, unit=unit)


def address(link: UnitArrivalLink) -> str:
    return settings.PUBLIC_BASE_URL + reverse("guest:arrival", kwargs={"token": link.token})


@dataclass(frozen=True)
class LinkState:
    """What the feeds page says of a unit's link: never the link itself unless `link` is given (a POST's answer)."""

    unit: Unit
    made: bool
    revoked_at: datetime | None
    link: str = ""


def state(unit: Unit, link: str = "") -> LinkState:
    existing = UnitArrivalLink.objects.filter(unit=unit).first()
    return LinkState(unit, existing is not None, existing.revoked_at if existing is not None else None, link)


def states(units: list[Unit]) -> dict[int, LinkState]:
    """Each unit's state in one query (the feeds page lists them all)."""
    made = {link.unit_id: link for link in UnitArrivalLink.objects.filter(unit__in=units).only("unit", "revoked_at")}
    return {
        unit.pk: LinkState(unit, unit.pk in made, made[unit.pk].revoked_at if unit.pk in made else None)
        for unit in units
    }


def show_link(unit: Unit, *, actor: Actor, ip: str | None) -> LinkState:
    """The link, made on first use; a revoked one is not shown (a new link is the way back)."""
    made = link_for(unit)
    if made.revoked_at is not None:
        return state(unit)
    audit("arrival_link.shown", actor=actor, organisation=unit.property.organisation, obj=unit, summary=_what(unit),
          ip=ip)  # fmt: skip
    return state(unit, link=address(made))


def new_link(unit: Unit, *, actor: Actor, ip: str | None) -> LinkState:
    """A new token: the old link answers 404 from now on (and must be replaced in the listing)."""
    with transaction.atomic():
        made = link_for(unit)
        guest_pass.give_new_token(made)
        audit("arrival_link.renewed", actor=actor, organisation=unit.property.organisation, obj=unit,
              summary=_what(unit), ip=ip)  # fmt: skip
    return state(unit, link=address(made))


def revoke(unit: Unit, *, actor: Actor, ip: str | None) -> LinkState:
    with transaction.atomic():
        changed = UnitArrivalLink.objects.filter(unit=unit, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if changed:
            audit("arrival_link.revoked", actor=actor, organisation=unit.property.organisation, obj=unit,
                  summary=_what(unit), ip=ip)  # fmt: skip
    return state(unit)


def find(token: str) -> UnitArrivalLink | None:
    """The live link this token opens: unknown and revoked alike None (the page says the same of both)."""
    if not token or len(token) > 100:
        return None
    return (
        UnitArrivalLink.objects.select_related("unit__property")
        .filter(token_hash=guest_pass.token_hash(token), revoked_at__isnull=True)
        .first()
    )


# --- the guest's digits -----------------------------------------------------------------------------------------


def match(link: UnitArrivalLink, digits: str, now: datetime | None = None) -> Stay | None:
    """The stay of the link's unit, open in the guest page's window now, whose phone ends in `digits`.

    Every candidate's digits are compared in constant time and all of them always (no early exit). Two stays in the
    window with the same digits (a turnover day, 1 in 10,000): the later arrival, who is the one at the door with
    no link yet; the guest leaving has had theirs since the day before."""
    now = now or timezone.now()
    wanted = digits.encode()
    candidates = list(
        Stay.objects.filter(
            unit_id=link.unit_id, status__in=OPEN, check_in__lte=now + VALID_BEFORE_CHECK_IN, check_out__gt=now
        )
        .select_related("guest", "unit__property")
        .order_by("check_in", "pk")
    )
    from_feeds: dict[int, list[str]] = {}
    for stay_id, known in FeedEvent.objects.filter(stay__in=candidates).values_list("stay_id", "phone_last_digits"):
        from_feeds.setdefault(stay_id, []).append(known)
    found = None
    for stay in candidates:
        for known in [*from_feeds.get(stay.pk, []), _last_digits(stay.guest.phone)]:
            if hmac.compare_digest(known.encode(), wanted) and len(known) == DIGITS:
                found = stay
    return found


def _last_digits(phone: str) -> str:
    digits = "".join(char for char in phone if char in "0123456789")
    return digits[-DIGITS:] if len(digits) >= DIGITS else ""


@dataclass(frozen=True)
class Answer:
    """What the guest's digits got: `guest_page` (a path) when a stay matched and its link works; `revoked` when it
    matched but the desk had turned its guest page off; `retry_after` (seconds) when refused for too many wrong
    tries; none of these: no stay (an unknown or revoked arrival link alike)."""

    guest_page: str = ""
    revoked: bool = False
    retry_after: int | None = None


def answer(token: str, digits: str, *, ip: str | None, now: datetime | None = None) -> Answer:
    """Count the try, look the stay up, take a right answer back. Redis down: public_limits.LimitUnavailable
    (the caller refuses: guesses are never let through uncounted)."""
    now = now or timezone.now()
    link_bucket = f"arrival:{guest_pass.token_hash(token)[:24]}"  # a prefix of its hash: Redis never holds a token
    buckets = [f"arrival-ip:{ip or '-'}", link_bucket]
    counted = public_limits.count_try(buckets, limit=WRONG_TRIES, window=WRONG_TRIES_WINDOW, now=now.timestamp())
    if counted.refused_for is not None:
        return Answer(retry_after=counted.refused_for)
    link = find(token)
    stay = match(link, digits, now) if link is not None else None
    if stay is None:
        if link is not None and counted.counts[1] >= WRONG_TRIES:
            _raise_wrong_digits_alert(link, now)
        return Answer()
    public_limits.take_back(buckets, counted.member)
    opened = guest_pass.pass_for(stay)  # the same pass the desk's "show the link" makes or reuses
    if opened.revoked_at is not None:
        return Answer(revoked=True)  # a new link is the desk's call, never made here
    return Answer(guest_page=reverse("guest:stay", kwargs={"token": opened.token}))


def wrong_digits_key(link: UnitArrivalLink) -> str:
    return f"arrival_link_wrong:unit:{link.unit_id}"


def _raise_wrong_digits_alert(link: UnitArrivalLink, now: datetime) -> Alert:
    """One open alert per link: a later burst counts on it until the desk closes it."""
    unit = link.unit
    prop = unit.property
    message = gettext_noop(
        "Wrong phone digits were typed %(tries)s times within an hour on the arrival link of %(unit)s "
        "(%(property)s): someone may be guessing. More are refused for the hour; a new arrival link stops them."
    )
    return alerts.raise_alert(
        organisation_id=prop.organisation_id,
        kind=Alert.Kind.WRONG_CODE_BURST,
        key=wrong_digits_key(link),
        message=message,
        message_args={"tries": WRONG_TRIES, "unit": unit.name, "property": prop.name},
        lock=Lock.objects.filter(unit=unit).order_by("name", "pk").first(),  # a desk limited to the property sees it
        at=now,
    )


def _what(unit: Unit) -> str:
    return f"Arrival link of {unit.name} ({unit.property.name})"
