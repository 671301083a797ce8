"""Sending a guest their door code by e-mail or SMS, through backends chosen in settings.

`CODE_EMAIL_BACKEND` and `CODE_SMS_BACKEND` name a class by its dotted path; it needs one method,
`send(message: Message) -> None`, and raises on failure. Shipped:

- `tenants.notify.FileOutbox` (the default for both): one file per message under `VAR_DIR/outbox/<channel>/`,
  readable by the app's user only, in Internet message format (`.eml`, built by Python's email library). Nothing
  leaves the machine; a delivery process or a person picks them up.
- `tenants.notify.DjangoMail` (e-mail only): Django's `send_mail` through `EMAIL_BACKEND` (SMTP by default).

A message carries the PIN, so no backend may log its body or print it (docs/reliability.md S7): that is why there
is no console backend, and why Django's console e-mail backend is not the default.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.utils import dateformat, timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from audit.services import audit
from locks import pins as lock_pins
from locks.models import AccessCode
from tenants.models import Actor, Stay, single_line

EMAIL, SMS = "email", "sms"
CHANNELS = {EMAIL: "e-mail", SMS: "SMS"}


@dataclass(frozen=True)
class Message:
    channel: str
    to: str
    subject: str
    body: str


class Backend(Protocol):
    def send(self, message: Message) -> None: ...


class FileOutbox:
    """Each message as a 0600 file in VAR_DIR/outbox/<channel>/ (the folder is 0700), in Internet message format
    (RFC 5322: headers, a blank line, the body) built by Python's email library, which refuses a header value with a
    line break: a name cannot add a header (a Bcc above the PIN), whatever reached the database."""

    def send(self, message: Message) -> None:
        email = as_email(message)  # before any file exists: a refused header leaves nothing behind
        folder = Path(settings.VAR_DIR) / "outbox" / message.channel
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{timezone.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
        handle = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "wb") as out:
            out.write(email.as_bytes())


def as_email(message: Message) -> EmailMessage:
    email = EmailMessage(policy=policy.default)
    if message.channel == EMAIL:
        email["From"] = settings.DEFAULT_FROM_EMAIL
    email["To"] = message.to
    if message.subject:
        email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain="doors.invalid")
    email.set_content(message.body, cte="quoted-printable")  # 7-bit safe, and the text stays readable
    return email


class DjangoMail:
    """E-mail through Django's mail (EMAIL_BACKEND, DEFAULT_FROM_EMAIL)."""

    def send(self, message: Message) -> None:
        if message.channel != EMAIL:
            raise ImproperlyConfigured("DjangoMail sends e-mail only; set CODE_SMS_BACKEND to an SMS backend.")
        send_mail(message.subject, message.body, None, [message.to], fail_silently=False)


def backend_for(channel: str) -> Backend:
    path = settings.CODE_EMAIL_BACKEND if channel == EMAIL else settings.CODE_SMS_BACKEND
    backend: Backend = import_string(path)()
    return backend


def _window(stay: Stay) -> str:
    """When the code works, in the property's zone, the days and months in the active language."""
    zone = stay.unit.property.tz
    start, end = timezone.localtime(stay.check_in, zone), timezone.localtime(stay.check_out, zone)
    return gettext("from %(start)s until %(end)s (%(zone)s)") % {
        "start": dateformat.format(start, "D j M H:i"),
        "end": dateformat.format(end, "D j M H:i"),
        "zone": stay.unit.property.time_zone,
    }


def compose(stay: Stay, codes: list[AccessCode], channel: str, to: str) -> Message:
    """The guest's message, in the guest's language (else the property's): where, which code for which door, and
    when it works (in the property's zone)."""
    language = stay.guest_language
    with translation.override(language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE):
        return _compose(stay, codes, channel, to)


def _compose(stay: Stay, codes: list[AccessCode], channel: str, to: str) -> Message:
    # Names are checked for control characters when typed; rows from before may still hold one, and the subject is
    # a header.
    place = single_line(f"{stay.unit.property.name}, {stay.unit.name}")
    pins = sorted({code.pin for code in codes})
    if len(pins) == 1:
        code_lines = gettext("Your door code: %(pin)s") % {"pin": pins[0]}
    else:
        code_lines = gettext("Your door codes:") + "\n" + "\n".join(f"  {code.lock.name}: {code.pin}" for code in codes)
    if channel == SMS:
        body = gettext("%(place)s: %(codes)s. Valid %(window)s.") % {
            "place": place, "codes": code_lines.replace(chr(10), " "), "window": _window(stay),
        }  # fmt: skip
        return Message(SMS, to, "", body)
    body = "\n\n".join(
        [
            gettext("Hello %(guest)s,") % {"guest": stay.guest.name},
            gettext("Welcome to %(place)s.") % {"place": place},
            code_lines,
            gettext("It works %(window)s.") % {"window": _window(stay)}
            + "\n"
            + gettext("Type it on the keypad of the door."),
        ]
    )
    return Message(EMAIL, to, gettext("Your door code for %(place)s") % {"place": place}, body + "\n")


def send_stay_code(stay: Stay, *, channel: str, actor: Actor, ip: str | None = None) -> str:
    """Send the stay's code(s) to the guest; returns the recipient. Audited as `code.send`, without the PIN."""
    if channel not in CHANNELS:
        raise ValidationError(gettext("Choose e-mail or SMS."))
    stay = Stay.objects.select_related("unit__property__organisation", "guest").get(pk=stay.pk)
    organisation = stay.unit.property.organisation
    if not stay.is_open:
        raise ValidationError(gettext("This stay is over: there is no code to send."))
    codes = list(
        stay.access_codes.exclude(desired=AccessCode.Desired.REMOVED).select_related("lock").order_by("lock__name")
    )
    if not codes:
        raise ValidationError(gettext("This stay has no door code."))
    if not all(lock_pins.may_see_pins(actor, code.lock) for code in codes):
        audit("code.send_refused", actor=actor, organisation=organisation, obj=stay, ip=ip)
        raise PermissionDenied(gettext("Your role may not send door codes."))
    if any(code.status != AccessCode.Status.SET for code in codes):
        raise ValidationError(gettext("The code is not on the lock yet: send it once its status says On the lock."))
    to = stay.guest.email if channel == EMAIL else stay.guest.phone
    names = {"guest": stay.guest.name}
    if not to:
        if channel == EMAIL:
            raise ValidationError(gettext("%(guest)s has no e-mail address: add one to the guest first.") % names)
        raise ValidationError(gettext("%(guest)s has no phone number: add one to the guest first.") % names)
    message = compose(stay, codes, channel, to)
    try:
        backend_for(channel).send(message)
    except Exception as error:
        # The error's text may quote the message; only its type goes to the trail and the screen.
        audit(
            "code.send_failed",
            actor=actor,
            organisation=organisation,
            obj=stay,
            summary=f"{CHANNELS[channel]} to {to}: {type(error).__name__}",
            ip=ip,
        )
        failed = {"error": type(error).__name__}
        if channel == EMAIL:
            raise ValidationError(gettext("The e-mail could not be sent (%(error)s).") % failed) from None
        raise ValidationError(gettext("The SMS could not be sent (%(error)s).") % failed) from None
    audit("code.send", actor=actor, organisation=organisation, obj=stay, summary=f"{CHANNELS[channel]} to {to}", ip=ip)
    return to
