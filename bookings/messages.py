"""Guest messages: "your code" before check-in and the check-out reminder, sent by themselves, once.

The words are the defaults below (English) unless the property has a `MessageTemplate` of that kind in the guest's
language, or else in the property's language. `{placeholders}` are filled in; a template naming an unknown one is
refused when saved (`template_problems`), and one that slipped past renders the unknown name as typed: a send never
crashes on words.

`send_due_messages` runs every minute (locks/periodic.py). The code message goes `code_message_hours` before check-in
(at once for a stay booked later than that), and only once every lock of the unit has the stay's code confirmed or an
offline password issued as the fallback (the message then carries it and says so). Each message is claimed first: a
`StayMessage` row in SENDING (the unique constraint on automatic messages means one per stay and kind, whoever races),
whose lapsed claim (a worker died mid-send) is taken over. Sent through tenants.notify's backends: e-mail when the
guest has an address, else SMS, else NO_CONTACT is recorded. The body carries the PIN: it never reaches a log line or
the audit trail (only the kind, the channel and the recipient do).
"""

from __future__ import annotations

import logging
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from django.utils.translation import gettext as _

from audit.services import audit
from bookings.arrivals import policy_of
from bookings.guest_pass import guest_link
from bookings.models import Arrival, BookingPolicy, MessageTemplate, StayMessage
from locks import pins as lock_pins
from locks.models import AccessCode, LockOperation
from locks.words import Words
from tenants import notify
from tenants.models import CODE_ROLES, Actor, Stay, role_in, single_line, user_of

logger = logging.getLogger(__name__)

Kind = StayMessage.Kind
MessageStatus = StayMessage.Status

CLAIM = timedelta(minutes=5)  # longer than any send: a claim older than this belonged to a worker that died
LATE = timedelta(days=1)  # a booked stay whose check-in passed longer ago than this gets no code message any more
BATCH = 1000  # stays looked at per run: those still waiting on their code are looked at again, so more than a batch
# of them at once would hold back the later ones (a hotel of 1,000 rooms with every lock offline)
HOUR = timedelta(hours=1)

PLACEHOLDERS = {  # what each stands for, shown on the policy page in the reader's language
    "guest": gettext_lazy("the guest's name"),
    "property": gettext_lazy("the property's name"),
    "unit": gettext_lazy("the room or flat"),
    "address": gettext_lazy("the property's address"),
    "codes": gettext_lazy(
        "the door code(s), one per door when they differ (the offline password where it is the fallback)"
    ),
    "window": gettext_lazy("when the code works, in the property's time zone"),
    "check_in": gettext_lazy("check-in day and time"),
    "check_out": gettext_lazy("check-out day and time"),
    "link": gettext_lazy("the guest page's address"),
    "fallback": gettext_lazy(
        "a sentence saying a door has an offline password instead of the usual code (empty when not)"
    ),
}

# In each of settings.LANGUAGES (locale/): a guest without a template in their language gets these in it.
DEFAULT_WORDS = {
    Kind.CODE: (
        gettext_lazy("Your door code for {property}, {unit}"),
        gettext_lazy(
            "Hello {guest},\n\nWelcome to {property}, {unit}.\nAddress: {address}\n\n{codes}\n\n{fallback}\n\n"
            "It works {window}. Type it on the keypad of the door.\n\nYour stay's page: {link}\n"
        ),
    ),
    Kind.CHECKOUT_REMINDER: (
        gettext_lazy("Check-out reminder: {property}, {unit}"),
        gettext_lazy(
            "Hello {guest},\n\nA reminder that check-out from {unit} is {check_out}; your door code stops working "
            "then.\n\nThank you for staying with us.\n"
        ),
    ),
}
LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)


# --- templates: what may be written, and rendering ---------------------------------------------------------


def template_problems(kind: str, subject: str, body: str) -> list[str]:
    """What is wrong with a template's words, in words (empty: fine)."""
    problems = []
    for name, text in (("subject", subject), ("body", body)):
        try:
            fields = [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]
        except ValueError:
            problems.append(f"The {name} has a lone {{ or }}: write {{{{ or }}}} for a brace, or a {{placeholder}}.")
            continue
        unknown = sorted({field for field in fields if field not in PLACEHOLDERS})
        if unknown:
            names = ", ".join("{" + field + "}" for field in unknown)
            known = ", ".join("{" + field + "}" for field in PLACEHOLDERS)
            problems.append(f"The {name} uses {names}, which is not a placeholder. Use only {known}.")
    if kind == Kind.CODE and "{codes}" not in body:
        problems.append("A code message must include {codes} in its body: without it the guest gets no code.")
    return problems


def validate_template(kind: str, subject: str, body: str) -> None:
    problems = template_problems(kind, subject, body)
    if problems:
        raise ValidationError(problems)


def render(text: str, values: dict[str, str]) -> str:
    """Fill in the placeholders; an unknown one (or a malformed brace) is left as typed, never an error. A line that
    is only a label whose value is empty ("Address: " for a property with none) is left out."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return text
    out: list[str] = []
    empty_fields = False
    for literal, field, spec, conversion in parts:
        out.append(literal)
        if field is None:
            continue
        if field in values and not spec and conversion is None:
            out.append(values[field])
            empty_fields = empty_fields or not values[field]
        else:
            out.append("{" + field + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}")
    rendered = "".join(out)
    if not empty_fields:
        return rendered
    lines = [line for line in rendered.split("\n") if not line.rstrip().endswith(":") or not line.strip()]
    return "\n".join(lines).replace("\n\n\n\n", "\n\n").replace("\n\n\n", "\n\n")


def template_for(stay: Stay, kind: str) -> tuple[str, str, str]:
    """(language, subject, body): the property's template in the guest's language, else in the property's, else the
    default words."""
    prop = stay.unit.property
    languages = [lang for lang in dict.fromkeys([stay.guest.language.lower(), prop.language.lower()]) if lang]
    found = {t.language.lower(): t for t in MessageTemplate.objects.filter(property=prop, kind=kind)}
    for language in languages:
        if language in found:
            return language, found[language].subject, found[language].body
    subject, body = DEFAULT_WORDS[Kind(kind)]
    language = next((lang for lang in languages if lang in LANGUAGE_CODES), settings.LANGUAGE_CODE)
    with translation.override(language):
        return language, str(subject), str(body)


# --- what a message says ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DoorCode:
    """What the guest types at one door: the stay's confirmed code, or the fallback's offline password."""

    door: str
    pin: str
    fallback: LockOperation | None = None


@dataclass(frozen=True)
class Readiness:
    doors: list[DoorCode]
    missing: list[str]  # doors with neither a confirmed code nor an issued fallback

    @property
    def ready(self) -> bool:
        return bool(self.doors) and not self.missing

    def reason(self) -> Words:
        """Words, so that the clerk reads them in their language though the message is composed in the guest's."""
        if not self.doors and not self.missing:
            return Words(gettext_noop("This room has no smart lock: there is no code to send."))
        not_ready = gettext_noop("Not ready yet: no confirmed code (and no fallback) on %(locks)s.")
        return Words(not_ready, {"locks": ", ".join(self.missing)})


def readiness(stay: Stay) -> Readiness:
    """Per lock of the unit: the stay's code if the lock confirmed it, else the fallback if it was issued."""
    live = {
        code.lock_id: code
        for code in stay.access_codes.exclude(desired=AccessCode.Desired.REMOVED).order_by("pk")
        if code.status == AccessCode.Status.SET
    }
    arrival = Arrival.objects.filter(pk=stay.pk).first()
    fallbacks: dict[int, LockOperation] = {}
    if arrival is not None:
        for operation in arrival.fallback_operations.filter(status=LockOperation.Status.DONE).order_by("pk"):
            fallbacks[operation.lock_id] = operation
    doors, missing = [], []
    for lock in stay.unit.locks.order_by("name"):
        if lock.pk in live:
            doors.append(DoorCode(lock.name, live[lock.pk].pin))
        elif lock.pk in fallbacks:
            doors.append(DoorCode(lock.name, fallbacks[lock.pk].secret, fallbacks[lock.pk]))
        else:
            missing.append(lock.name)
    return Readiness(doors, missing)


def _when(stay: Stay, moment: datetime) -> str:
    """'Mon 7 Jan 09:00' in the property's zone, the day and month in the active language."""
    return dateformat.format(timezone.localtime(moment, stay.unit.property.tz), "D j M H:i")


def _codes_text(stay: Stay, doors: list[DoorCode], show: bool) -> tuple[str, str]:
    """({codes}, {fallback}) for these doors; PINs masked unless `show`."""

    def pin(text: str) -> str:
        return text if show else "•" * len(text)

    pins = {door.pin for door in doors}
    fallback_doors = [door for door in doors if door.fallback is not None]
    if len(pins) == 1 and not fallback_doors:
        codes = _("Your door code: %(pin)s") % {"pin": pin(doors[0].pin)}
    else:
        lines = []
        for door in doors:
            line = f"  {door.door}: {pin(door.pin)}"
            if door.fallback is not None:
                result = door.fallback.result
                start = datetime.fromtimestamp(int(result.get("effective_time", 0)), tz=dt_timezone.utc)
                end = datetime.fromtimestamp(int(result.get("invalid_time", 0)), tz=dt_timezone.utc)
                line += " " + _("(offline password, valid %(start)s – %(end)s)") % {
                    "start": _when(stay, start),
                    "end": _when(stay, end),
                }
            lines.append(line)
        codes = _("Your door codes:") + "\n" + "\n".join(lines)
    fallback = ""
    if fallback_doors:
        names = ", ".join(door.door for door in fallback_doors)
        fallback = _(
            "Your usual code had not reached %(doors)s in time, so that door has an offline password instead (shown "
            "above): the lock checks it by itself, so it works even when the lock is not connected."
        ) % {"doors": names}
    return codes, fallback


def values_for(stay: Stay, doors: list[DoorCode], *, show_pins: bool) -> dict[str, str]:
    prop = stay.unit.property
    codes, fallback = _codes_text(stay, doors, show_pins) if doors else ("", "")
    # The guest page's link opens the guest's codes to whoever holds it: hidden with the PINs (and not made on a mere
    # page view); empty when the desk revoked it (no link line then).
    link = guest_link(stay) if show_pins else "(the guest page's link, hidden)"
    zone = prop.time_zone
    return {
        "guest": stay.guest.name,
        "property": prop.name,
        "unit": stay.unit.name,
        "address": prop.address,
        "codes": codes,
        "window": _("from %(start)s until %(end)s (%(zone)s)")
        % {"start": _when(stay, stay.check_in), "end": _when(stay, stay.check_out), "zone": zone},
        "check_in": f"{_when(stay, stay.check_in)} ({zone})",
        "check_out": f"{_when(stay, stay.check_out)} ({zone})",
        "link": link,
        "fallback": fallback,
    }


@dataclass(frozen=True)
class Composed:
    kind: str
    language: str
    subject: str
    body: str
    ready: bool
    reason: Words | None  # why it cannot be sent yet, in the reader's language when shown (None when ready)


def compose(stay: Stay, kind: str, *, show_pins: bool = True) -> Composed:
    """The message of this kind for the stay as it stands (PINs masked unless `show_pins`), and whether it may go."""
    language, subject, body = template_for(stay, kind)
    with translation.override(language if language in LANGUAGE_CODES else settings.LANGUAGE_CODE):
        return _compose(stay, kind, language, subject, body, show_pins=show_pins)


def _compose(stay: Stay, kind: str, language: str, subject: str, body: str, *, show_pins: bool) -> Composed:
    """compose()'s work, in the message's language (the words filled in: code lines, dates, the fallback)."""
    doors: list[DoorCode] = []
    reason: Words | None = None
    if kind == Kind.CODE:
        state = readiness(stay)
        doors, reason = state.doors, None if state.ready else state.reason()
    values = values_for(stay, doors, show_pins=show_pins)
    if kind == Kind.CODE and doors and values["fallback"] and "{fallback}" not in body:
        body = body.rstrip("\n") + "\n\n{fallback}\n"  # a template without it still says so
    if not stay.is_open:
        reason = Words(NOTHING_TO_SEND.get(stay.status, NOTHING_TO_SEND[""]))
    return Composed(kind, language, single_line(render(subject, values)), render(body, values), not reason, reason)


NOTHING_TO_SEND = {
    Stay.Status.CANCELLED: gettext_noop("This stay is cancelled: there is nothing to send."),
    Stay.Status.CHECKED_OUT: gettext_noop("This stay is checked out: there is nothing to send."),
    "": gettext_noop("This stay is over: there is nothing to send."),
}


# --- sending ------------------------------------------------------------------------------------------------


def contact_of(stay: Stay) -> tuple[str, str]:
    """(channel, address): e-mail when the guest has one, else SMS to their phone, else ("", "")."""
    if stay.guest.email:
        return notify.EMAIL, stay.guest.email
    if stay.guest.phone:
        return notify.SMS, stay.guest.phone
    return "", ""


def _deliver(message: StayMessage, stay: Stay, composed: Composed, *, actor: Actor, ip: str | None) -> StayMessage:
    """Send one claimed message and record how it went (the body is never kept nor logged)."""
    organisation = stay.unit.property.organisation
    with translation.override(settings.LANGUAGE_CODE):  # the audit trail is in one language, whoever sends
        what = str(Kind(message.kind).label)
    channel, to = contact_of(stay)
    message.language = composed.language
    if not channel:
        message.status, message.channel, message.to = MessageStatus.NO_CONTACT, "", ""
        message.save()
        audit("message.no_contact", actor=actor, organisation=organisation, obj=stay, summary=what, ip=ip)
        return message
    message.channel, message.to = channel, to
    subject = composed.subject if channel == notify.EMAIL else ""
    try:
        notify.backend_for(channel).send(notify.Message(channel, to, subject, composed.body))
    except Exception as error:
        # The error's words may quote the message: only its type is kept.
        message.status, message.error = MessageStatus.FAILED, type(error).__name__[:300]
        message.save()
        summary = f"{what} by {notify.CHANNELS[channel]} to {to}: {type(error).__name__}"
        audit("message.send_failed", actor=actor, organisation=organisation, obj=stay, summary=summary, ip=ip)
        return message
    message.status, message.sent_at, message.error = MessageStatus.SENT, timezone.now(), ""
    message.save()
    summary = f"{what} by {notify.CHANNELS[channel]} to {to}"
    audit("message.send", actor=actor, organisation=organisation, obj=stay, summary=summary, ip=ip)
    return message


def _claim(stay: Stay, kind: str, now: datetime) -> StayMessage | None:
    """The automatic message's row, claimed by this worker; None when it was sent, or another worker holds it."""
    try:
        with transaction.atomic():
            return StayMessage.objects.create(
                stay=stay, kind=kind, automatic=True, status=MessageStatus.SENDING, claimed_at=now
            )
    except IntegrityError:
        pass  # it exists: ours only if its claim lapsed
    lapsed = StayMessage.objects.filter(
        stay=stay, kind=kind, automatic=True, status=MessageStatus.SENDING, claimed_at__lt=now - CLAIM
    )
    if not lapsed.update(claimed_at=now):
        return None
    return StayMessage.objects.get(stay=stay, kind=kind, automatic=True)


def _unsettled(kind: str, now: datetime) -> Q:  # a Q: Django's stubs type ~Exists as a mere expression
    """Stays without an automatic message of this kind, or whose one was left mid-send by a worker that died. A
    correlated NOT EXISTS, answered per candidate stay by the unique constraint's index on (stay, kind): the cost is
    the stays in the window, not every message ever sent."""
    settled = StayMessage.objects.filter(stay=OuterRef("pk"), kind=kind, automatic=True).exclude(
        status=MessageStatus.SENDING, claimed_at__lt=now - CLAIM
    )
    return Q(~Exists(settled))


POLICY_DEFAULT_HOURS = {"code_message_hours": 24, "checkout_reminder_hours": 2}  # BookingPolicy's field defaults


def _largest(field: str) -> int:
    """The largest hours of this field over every property: a saved policy's, or the default of those without."""
    default = POLICY_DEFAULT_HOURS[field]
    found = BookingPolicy.objects.aggregate(largest=Max(field))["largest"]
    return int(max(default, found or 0))


def due_code_messages(now: datetime) -> list[Stay]:
    horizon = _largest("code_message_hours") * HOUR
    rows = (
        Stay.objects.filter(
            _unsettled(Kind.CODE, now),
            status=Stay.Status.BOOKED,
            check_in__gt=now - LATE,
            check_in__lte=now + horizon,
            check_out__gt=now,
        )
        .select_related("unit__property__organisation", "unit__property__booking_policy", "guest")
        .order_by("check_in")[:BATCH]
    )
    return [s for s in rows if s.check_in - policy_of(s.unit.property).code_message_hours * HOUR <= now]


def due_checkout_reminders(now: datetime) -> list[Stay]:
    horizon = _largest("checkout_reminder_hours") * HOUR
    if not horizon:
        return []
    rows = (
        Stay.objects.filter(
            _unsettled(Kind.CHECKOUT_REMINDER, now),
            status__in=[Stay.Status.BOOKED, Stay.Status.CHECKED_IN],
            check_out__gt=now,
            check_out__lte=now + horizon,
        )
        .select_related("unit__property__organisation", "unit__property__booking_policy", "guest")
        .order_by("check_out")[:BATCH]
    )
    due = []
    for stay in rows:
        hours = policy_of(stay.unit.property).checkout_reminder_hours
        if hours is not None and stay.check_out - hours * HOUR <= now:
            due.append(stay)
    return due


def send_automatic(stay: Stay, kind: str, now: datetime) -> StayMessage | None:
    """Send the stay's automatic message of this kind if it may go and nobody sent or holds it."""
    if kind == Kind.CODE and not readiness(stay).ready:
        return None  # the cheap question first: most stays waiting on their code are asked again every minute
    composed = compose(stay, kind)
    if not composed.ready:
        return None  # the code is not confirmed yet and no fallback: looked at again next minute
    message = _claim(stay, kind, now)
    if message is None:
        return None
    return _deliver(message, stay, composed, actor=None, ip=None)


def send_due_messages(now: datetime | None = None) -> int:
    """The periodic job: every code message and check-out reminder that is due. Returns how many were handled."""
    now = now or timezone.now()
    handled = 0
    for stay in due_code_messages(now):
        handled += send_automatic(stay, Kind.CODE, now) is not None
    for stay in due_checkout_reminders(now):
        handled += send_automatic(stay, Kind.CHECKOUT_REMINDER, now) is not None
    return handled


def may_send(actor: Actor, stay: Stay, kind: str) -> bool:
    """Sending again is for the roles that act on stays; a code message also needs the right to see its PINs."""
    if not role_in(actor, stay.unit.property.organisation_id, CODE_ROLES):
        return False
    if kind == Kind.CODE:
        return all(lock_pins.may_see_pins(actor, lock) for lock in stay.unit.locks.all())
    return True


def send_again(stay: Stay, kind: str, *, actor: Actor, ip: str | None = None) -> StayMessage:
    """A person sends the message again from the stay page (a manual StayMessage, audited)."""
    if kind not in Kind.values:
        raise ValidationError(gettext("Choose the code message or the check-out reminder."))
    stay = Stay.objects.select_related("unit__property__organisation", "guest").get(pk=stay.pk)
    if not may_send(actor, stay, kind):
        audit("message.send_refused", actor=actor, organisation=stay.unit.property.organisation, obj=stay, ip=ip)
        raise PermissionDenied("Your role may not send this message.")
    composed = compose(stay, kind)
    if not composed.ready:
        raise ValidationError(composed.reason.text if composed.reason else "")
    if not contact_of(stay)[0]:
        no_contact = gettext("%(guest)s has no e-mail address or phone number: add one to the guest first.")
        raise ValidationError(no_contact % {"guest": stay.guest.name})
    message = StayMessage.objects.create(
        stay=stay,
        kind=kind,
        automatic=False,
        status=MessageStatus.SENDING,
        claimed_at=timezone.now(),
        created_by=user_of(actor),
    )
    return _deliver(message, stay, composed, actor=actor, ip=ip)
