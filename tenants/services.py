"""Business operations of tenants: properties and units, guests, and stays end to end.

A stay drives its guest's door codes: booking issues one per lock of the unit, a change of dates moves them, a
move takes the old unit's off and issues the new one's, check-out and cancel take them off. The codes themselves
are locks' business: this module asks for them only through `locks.codes`' public functions (issue, change,
remove), and locks never calls back here (docs/architecture.md, the rules of the arrows).

Views and the admin call one function of this module each; forms only validate. Every function writes in a
transaction with its audit row, and the door codes it asks for reach the locks after commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from audit.services import audit
from locks import codes
from locks.models import AccessCode
from tenants.models import Actor, Guest, Organisation, Property, Role, Stay, Unit, UserPreferences, user_of
from webhooks import payloads
from webhooks.emit import emit

OPEN = [Stay.Status.BOOKED, Stay.Status.CHECKED_IN]


# --- properties and units -----------------------------------------------------------------------------------


LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)


@transaction.atomic
def choose_language(user: Actor, language: str, *, ip: str | None = None) -> UserPreferences:
    """Save the language of `user`'s pages (blank: their browser's). A code not in settings.LANGUAGES is refused
    with a ValidationError and changes nothing."""
    if language and language not in LANGUAGE_CODES:
        raise ValidationError(
            {"language": gettext("“%(language)s” is not one of the languages of this site.") % {"language": language}}
        )
    person = user_of(user)
    preferences, _created = UserPreferences.objects.get_or_create(user=person)
    preferences.language = language
    preferences.save(update_fields=["language"])
    audit("user.language", actor=user, obj=person, summary=language or "browser language", ip=ip)
    return preferences


@transaction.atomic
def create_property(
    *, organisation: Organisation, name: str, kind: str, time_zone: str, address: str = "", language: str = "",
    actor: Actor = None, ip: str | None = None,
) -> Property:  # fmt: skip
    """A building or a rental: its time zone is the one every code of its locks is typed and shown in; its language
    the one of its guests who have none (blank: settings.LANGUAGE_CODE)."""
    if language and language not in LANGUAGE_CODES:
        raise ValidationError(
            {"language": gettext("“%(language)s” is not one of the languages of this site.") % {"language": language}}
        )
    prop = Property(
        organisation=organisation, name=name.strip(), kind=kind, time_zone=time_zone, address=address,
        language=language or settings.LANGUAGE_CODE,
    )  # fmt: skip
    prop.full_clean()
    prop.save()
    audit("property.create", actor=actor, organisation=organisation, obj=prop, summary=prop.name, ip=ip)
    return prop


@transaction.atomic
def set_idle_timeouts(
    organisation: Organisation, *, minutes: dict[str, int | None], actor: Actor = None, ip: str | None = None
) -> Organisation:
    """An organisation's idle timeouts by role (`minutes`: front_desk, manager, viewer; None: the server's default).
    Signed-in members get the new timeout within a minute (config.middleware.SessionTimeout works it out again)."""
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    for group in ("front_desk", "manager", "viewer"):
        setattr(organisation, f"idle_minutes_{group}", minutes.get(group))
    organisation.full_clean(exclude=["slug"])  # the range is the fields' validators
    organisation.save(update_fields=[f"idle_minutes_{g}" for g in ("front_desk", "manager", "viewer")])
    summary = (
        f"idle timeouts: front desk {organisation.idle_minutes(Role.FRONT_DESK)} min, owners and managers "
        f"{organisation.idle_minutes(Role.MANAGER)} min, viewers {organisation.idle_minutes(Role.VIEWER)} min"
    )
    audit(
        "organisation.idle_timeouts", actor=actor, organisation=organisation, obj=organisation, summary=summary, ip=ip
    )
    return organisation


@transaction.atomic
def create_units(*, prop: Property, names: Iterable[str], actor: Actor = None, ip: str | None = None) -> list[Unit]:
    """Rooms or flats of a property, several at once ("101-110" style lists are split by the form)."""
    wanted = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if not wanted:
        raise ValidationError({"names": gettext("Give at least one name.")})
    # Refused, never cut: two long names that differ after the limit would become one name, past the check below.
    limit = Unit.NAME_MAX_LENGTH
    too_long = [name for name in wanted if len(name) > limit]
    if too_long:
        too_long_name = gettext("A unit's name has at most %(limit)s characters: %(name)s…")
        raise ValidationError({"names": too_long_name % {"limit": limit, "name": too_long[0][:40]}})
    taken = set(Unit.objects.filter(property=prop, name__in=wanted).values_list("name", flat=True))
    if taken:
        raise ValidationError({"names": gettext("Already there: %(names)s.") % {"names": ", ".join(sorted(taken))}})
    units = [Unit(property=prop, name=name) for name in wanted]
    for unit in units:
        unit.full_clean()
    Unit.objects.bulk_create(units)
    summary = f"{len(units)} units in {prop}"
    audit("unit.create", actor=actor, organisation=prop.organisation, obj=prop, summary=summary, ip=ip)
    return units


# --- guests -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuestDetails:
    """Who is checking in, as typed at the desk."""

    name: str
    email: str = ""
    phone: str = ""
    language: str = ""  # one of settings.LANGUAGES; blank: the property's


def find_or_create_guest(*, organisation: Organisation, details: GuestDetails, actor: Actor = None) -> Guest:
    """The guest these details name, or a new one. Found by name and e-mail (or name and phone: a bare name is not
    enough to say it is the same person), and only among the guests `actor` may see: a front desk limited to some
    properties cannot pick up, and so reveal, a guest of a property it was not given; it gets a new guest instead.
    With no actor (a command, a job) nobody is seen and the guest is new.

    A new guest records who added them (`Guest.created_by`, as the admin's add does): a desk limited to some
    properties keeps seeing the guests it checked in (GuestQuerySet)."""
    name = details.name.strip()
    visible = Guest.objects.for_user(actor) if actor is not None else Guest.objects.none()
    seen = visible.filter(organisation=organisation, name=name)
    if details.email:
        match = seen.filter(email__iexact=details.email)
    elif details.phone:
        match = seen.filter(phone=details.phone)
    else:
        match = seen.none()
    guest = match.order_by("pk").first()
    if guest is None:
        guest = Guest(
            organisation=organisation,
            name=name,
            email=details.email,
            phone=details.phone,
            language=details.language,
            created_by=user_of(actor),
        )
        guest.full_clean()
        guest.save()
    elif details.language and guest.language != details.language:  # the desk or the API says so this time
        guest.language = details.language
        guest.save(update_fields=["language"])
    return guest


# --- stays and their codes ----------------------------------------------------------------------------------


def _live_codes(stay: Stay) -> list[AccessCode]:
    return list(stay.access_codes.exclude(desired=AccessCode.Desired.REMOVED).select_related("lock"))


def _issue_for_stay(stay: Stay, *, actor: Actor, ip: str | None) -> list[AccessCode]:
    """One code per lock of the unit, valid from check-in to check-out, with one PIN where the locks allow it."""
    return codes.issue_access_codes(
        locks=stay.unit.locks.order_by("pk"),
        label=stay.guest.name,
        starts_at=stay.check_in,
        ends_at=stay.check_out,
        guest=stay.guest,
        stay=stay,
        actor=actor,
        ip=ip,
    )


def _validate_stay(unit: Unit, check_in: datetime, check_out: datetime, *, exclude: Stay | None = None) -> None:
    if check_out <= check_in:
        raise ValidationError({"check_out": gettext("Check-out must be after check-in.")})
    if check_out <= timezone.now():
        raise ValidationError({"check_out": gettext("This stay has already ended.")})
    if not unit.locks.exists():
        # With params, not formatted: a worker keeping the refusal (bookings) keeps it translatable (locks/words.py).
        no_lock = gettext("%(unit)s has no lock yet: attach one before booking it.")
        raise ValidationError({"unit": ValidationError(no_lock, params={"unit": str(unit)})})
    overlapping = Stay.objects.filter(unit=unit, status__in=OPEN, check_in__lt=check_out, check_out__gt=check_in)
    if exclude is not None:
        overlapping = overlapping.exclude(pk=exclude.pk)
    if unit.property.kind == unit.property.Kind.HOTEL and overlapping.exists():
        taken = gettext("%(unit)s is already booked for part of that time.")
        raise ValidationError({"unit": ValidationError(taken, params={"unit": str(unit)})})


@transaction.atomic
def book_stay(
    *,
    unit: Unit,
    guest: Guest,
    check_in: datetime,
    check_out: datetime,
    kind: str = Stay.Kind.HOTEL,
    booking_token: uuid.UUID | None = None,
    actor: Actor = None,
    ip: str | None = None,
) -> Stay:
    """A new stay or lease, and its door codes for the unit's locks, valid from check-in to check-out."""
    if guest.organisation_id != unit.property.organisation_id:
        raise ValidationError({"guest": gettext("This guest belongs to another organisation.")})
    _validate_stay(unit, check_in, check_out)
    # A stay that has already begun is a guest at the desk (or a running lease): checked in from the start.
    status = Stay.Status.CHECKED_IN if check_in <= timezone.now() else Stay.Status.BOOKED
    stay = Stay.objects.create(
        unit=unit,
        guest=guest,
        check_in=check_in,
        check_out=check_out,
        kind=kind,
        status=status,
        booking_token=booking_token,
    )
    audit("stay.book", actor=actor, organisation=unit.property.organisation, obj=stay, summary=str(stay), ip=ip)
    _issue_for_stay(stay, actor=actor, ip=ip)
    _tell(stay, "stay.created")
    return stay


def _tell(stay: Stay, event_type: str) -> None:
    """The stay's webhook event, in the transaction that made it true."""
    emit(stay.unit.property.organisation_id, event_type, payloads.stay(stay))


@dataclass(frozen=True)
class Booking:
    stay: Stay
    booked: bool  # False: an earlier submit of the same form booked it, and this is that stay


def book_guest(
    *,
    unit: Unit,
    guest: GuestDetails,
    check_in: datetime,
    check_out: datetime,
    kind: str = Stay.Kind.HOTEL,
    booking_token: uuid.UUID | None = None,
    actor: Actor = None,
    ip: str | None = None,
) -> Booking:
    """Check a guest in (or book ahead) from the details typed at the desk: the guest is found or created, the stay
    booked and its codes issued, all in one transaction.

    `booking_token` is the form's one-time token: a repeated submit, or one racing the first, gets the stay the
    first one booked (the column is unique, so two racing requests cannot both book). A refused form keeps its
    token, so the corrected form still books once."""
    mine = Stay.objects.for_user(actor) if actor is not None else Stay.objects.none()
    try:
        with transaction.atomic():
            if booking_token is not None:
                earlier = mine.filter(booking_token=booking_token).first()
                if earlier is not None:
                    return Booking(earlier, booked=False)
            organisation = unit.property.organisation
            person = find_or_create_guest(organisation=organisation, details=guest, actor=actor)
            stay = book_stay(
                unit=unit,
                guest=person,
                check_in=check_in,
                check_out=check_out,
                kind=kind,
                booking_token=booking_token,
                actor=actor,
                ip=ip,
            )
            return Booking(stay, booked=True)
    except IntegrityError:  # the other request committed the same token first: its stay is the answer
        earlier = mine.filter(booking_token=booking_token).first() if booking_token is not None else None
        if earlier is None:
            raise
        return Booking(earlier, booked=False)


@transaction.atomic
def change_stay(
    stay: Stay,
    *,
    check_in: datetime | None = None,
    check_out: datetime | None = None,
    actor: Actor = None,
    ip: str | None = None,
) -> Stay:
    """Extend, shorten or shift a stay; its codes follow."""
    stay = Stay.objects.select_for_update().select_related("unit__property").get(pk=stay.pk)
    if not stay.is_open:
        raise ValidationError(gettext("This stay is over; book a new one instead."))
    new_in, new_out = check_in or stay.check_in, check_out or stay.check_out
    _validate_stay(stay.unit, new_in, new_out, exclude=stay)
    stay.check_in, stay.check_out = new_in, new_out
    stay.save(update_fields=["check_in", "check_out", "updated_at"])
    for code in _live_codes(stay):
        codes.change_access_code(code, starts_at=new_in, ends_at=new_out, actor=actor, ip=ip)
    audit("stay.change", actor=actor, organisation=stay.unit.property.organisation, obj=stay, summary=str(stay), ip=ip)
    _tell(stay, "stay.changed")
    return stay


@transaction.atomic
def move_stay(stay: Stay, *, unit: Unit, actor: Actor = None, ip: str | None = None) -> Stay:
    """Move a guest to another unit: the old unit's codes are removed, the new unit's issued."""
    stay = Stay.objects.select_for_update().get(pk=stay.pk)
    if not stay.is_open:
        raise ValidationError(gettext("This stay is over; book a new one instead."))
    if unit.property.organisation_id != stay.unit.property.organisation_id:
        raise ValidationError({"unit": gettext("That unit belongs to another organisation.")})
    _validate_stay(unit, stay.check_in, stay.check_out, exclude=stay)
    for code in _live_codes(stay):
        codes.remove_access_code(code, actor=actor, ip=ip)
    stay.unit = unit
    stay.save(update_fields=["unit", "updated_at"])
    audit("stay.move", actor=actor, organisation=unit.property.organisation, obj=stay, summary=str(stay), ip=ip)
    _issue_for_stay(stay, actor=actor, ip=ip)
    _tell(stay, "stay.changed")
    return stay


def _end_stay(stay: Stay, status: str, action: str, event_type: str, *, actor: Actor, ip: str | None) -> Stay:
    stay = Stay.objects.select_for_update().select_related("unit__property__organisation").get(pk=stay.pk)
    if not stay.is_open:
        return stay  # checking out twice is harmless
    stay.status = status
    stay.save(update_fields=["status", "updated_at"])
    for code in _live_codes(stay):
        codes.remove_access_code(code, actor=actor, ip=ip)
    audit(action, actor=actor, organisation=stay.unit.property.organisation, obj=stay, summary=str(stay), ip=ip)
    _tell(stay, event_type)
    return stay


@transaction.atomic
def check_in_stay(stay: Stay, *, actor: Actor = None, ip: str | None = None) -> Stay:
    """A booked guest has arrived. Their codes already work from check-in time; this records the arrival."""
    stay = Stay.objects.select_for_update().select_related("unit__property__organisation").get(pk=stay.pk)
    if stay.status == Stay.Status.CHECKED_IN:
        return stay  # twice is harmless
    if stay.status != Stay.Status.BOOKED:
        raise ValidationError(gettext("This stay is over; book a new one instead."))
    stay.status = Stay.Status.CHECKED_IN
    stay.save(update_fields=["status", "updated_at"])
    organisation = stay.unit.property.organisation
    audit("stay.check_in", actor=actor, organisation=organisation, obj=stay, summary=str(stay), ip=ip)
    _tell(stay, "stay.checked_in")
    return stay


@transaction.atomic
def check_out_stay(stay: Stay, *, actor: Actor = None, ip: str | None = None) -> Stay:
    """The guest has left: their codes come off the locks (confirmed by the cloud, see code status)."""
    return _end_stay(stay, Stay.Status.CHECKED_OUT, "stay.check_out", "stay.checked_out", actor=actor, ip=ip)


@transaction.atomic
def cancel_stay(stay: Stay, *, actor: Actor = None, ip: str | None = None) -> Stay:
    return _end_stay(stay, Stay.Status.CANCELLED, "stay.cancel", "stay.cancelled", actor=actor, ip=ip)
