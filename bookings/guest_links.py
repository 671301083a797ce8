"""The desk's side of the guest page: who may hand a stay's link out, showing it (made on first use), a new link
(the old one stops working) and revoking it, every one audited. The link opens the door codes, so only those who may
see the stay's PINs get it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from audit.services import audit
from bookings import guest_pass
from bookings.guest_page import VALID_BEFORE_CHECK_IN
from bookings.models import GuestPass
from locks.models import Lock
from locks.pins import may_see_pins
from tenants.models import CODE_ROLES, Actor, Organisation, Stay, role_in


def may_share(user: Actor, stay: Stay) -> bool:
    """Whoever may see the PINs on every lock of the stay's room (owners, managers, the front desk of that property);
    a room with no lock yet: the code roles of the organisation (the stay was already reached through the scoped
    selectors, so a limited desk only gets here for its own properties)."""
    doors = list(Lock.objects.filter(unit=stay.unit).select_related("unit"))
    if doors:
        return all(may_see_pins(user, lock) for lock in doors)
    return role_in(user, stay.unit.property.organisation_id, CODE_ROLES)


@dataclass(frozen=True)
class LinkState:
    """What the stay page says about the link: never the link itself unless `link` is given (a POST's answer)."""

    stay: Stay
    made: bool
    revoked_at: datetime | None
    valid_from: datetime
    valid_until: datetime
    link: str = ""

    @property
    def works(self) -> bool:
        return self.stay.is_open and self.revoked_at is None


def state(stay: Stay, link: str = "") -> LinkState:
    existing = GuestPass.objects.filter(stay=stay).first()
    return LinkState(
        stay=stay,
        made=existing is not None,
        revoked_at=existing.revoked_at if existing is not None else None,
        valid_from=stay.check_in - VALID_BEFORE_CHECK_IN,
        valid_until=stay.check_out,
        link=link,
    )


def show_link(stay: Stay, *, actor: Actor, ip: str | None) -> LinkState:
    """The link, made on first use; a revoked one is not shown (a new link is the way back)."""
    made = guest_pass.pass_for(stay)
    if made.revoked_at is not None:
        return state(stay)
    audit("guest_page.link_shown", actor=actor, organisation=_org(stay), obj=stay, summary=_who(stay), ip=ip)
    return state(stay, link=guest_pass.guest_link(stay))


def new_link(stay: Stay, *, actor: Actor, ip: str | None) -> LinkState:
    """A new token for the stay: the old link stops working at once (one pass per stay, its token replaced)."""
    with transaction.atomic():
        guest_pass.give_new_token(guest_pass.pass_for(stay))
        audit("guest_page.link_renewed", actor=actor, organisation=_org(stay), obj=stay, summary=_who(stay), ip=ip)
    return state(stay, link=guest_pass.guest_link(stay))


def revoke(stay: Stay, *, actor: Actor, ip: str | None) -> LinkState:
    with transaction.atomic():
        changed = GuestPass.objects.filter(stay=stay, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if changed:
            audit("guest_page.revoked", actor=actor, organisation=_org(stay), obj=stay, summary=_who(stay), ip=ip)
    return state(stay)


def _org(stay: Stay) -> Organisation:
    return stay.unit.property.organisation


def _who(stay: Stay) -> str:
    return f"Guest page of {stay.guest.name} in {stay.unit.name}"
