"""PINs: choosing and checking a code's PIN, who may see PINs (and the secrets of lock operations), and erasing
old ones (docs/reliability.md S7)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext

from audit.services import audit
from locks.models import CODE_PIN_KEPT, AccessCode, Lock, LockOperation
from tenants.models import CODE_ROLES, Actor, ApiKey, role_in

Status = AccessCode.Status


def is_trivial_pin(pin: str) -> bool:
    """Easy to guess: one digit repeated, or a run up or down (1234567, 654321)."""
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    return len(set(pin)) <= 2 or steps in ({1}, {-1}, {0})


def pins_in_use(lock: Lock, exclude: AccessCode | None = None) -> set[str]:
    """The PINs of the lock's live codes (all but `exclude`)."""
    codes = lock.access_codes.exclude(status__in=[Status.REMOVED, Status.EXPIRED, Status.FAILED])
    if exclude is not None:
        codes = codes.exclude(pk=exclude.pk)
    return {code.pin for code in codes.only("pin")}  # decrypted one by one: a lock holds tens of codes


def generate_pin(lock: Lock) -> str:
    """A random PIN of the lock's length, not trivial, not already on the lock."""
    taken = pins_in_use(lock)
    while True:
        pin = "".join(secrets.choice("0123456789") for _ in range(lock.pin_length))
        if pin not in taken and not is_trivial_pin(pin):
            return pin


def check_pin(lock: Lock, pin: str, exclude: AccessCode | None = None) -> None:
    """Refuse a PIN the lock cannot take, one easy to guess, or one already on the lock."""
    if not pin.isascii() or not pin.isdigit() or len(pin) != lock.pin_length:
        raise ValidationError(
            {"pin": gettext("This lock takes PINs of exactly %(length)s digits.") % {"length": lock.pin_length}}
        )
    if is_trivial_pin(pin):
        raise ValidationError({"pin": gettext("This PIN is too easy to guess; leave it empty to get a random one.")})
    if pin in pins_in_use(lock, exclude):
        raise ValidationError({"pin": gettext("Another code on this lock already uses this PIN.")})


PIN_RETENTION = timedelta(days=30)  # docs/reliability.md S7: a PIN outlives its code's end by 30 days, no more


def purge_old_pins(now: datetime | None = None) -> int:
    """Erase the PINs of codes that ended (and are off the lock or never reached it) over 30 days ago."""
    now = now or timezone.now()
    old = AccessCode.objects.filter(CODE_PIN_KEPT, ends_at__lt=now - PIN_RETENTION)  # the `code_pin_kept_ends` index
    return old.update(pin="", pin_purged_at=now)


def may_see_pins(user: Actor, lock: Lock) -> bool:
    """Owners and managers of the lock's organisation, and its front desk for their properties (never a lock on
    no door: it is on none of the properties a limited desk was given); an API key with the reveal-pins scope for
    the locks it reaches."""
    if isinstance(user, ApiKey):
        return user.allows(ApiKey.Scope.REVEAL_PINS) and user.may_see_lock(lock)
    return role_in(user, lock.organisation_id, CODE_ROLES, lock=lock)


def reveal_pin(code: AccessCode, *, actor: Actor, ip: str | None = None) -> str:
    """The code's PIN for someone allowed to see it; every look (and every refusal) is audited."""
    if not may_see_pins(actor, code.lock):
        audit("code.reveal_refused", actor=actor, organisation=code.lock.organisation, obj=code, ip=ip)
        raise PermissionDenied("Your role may not see door codes.")
    if code.pin_purged_at:
        raise ValidationError(gettext("This code ended more than 30 days ago and its PIN has been erased."))
    audit("code.reveal", actor=actor, organisation=code.lock.organisation, obj=code, summary=code.label, ip=ip)
    return code.pin


def reveal_operation_secret(operation: LockOperation, *, actor: Actor, ip: str | None = None) -> str:
    """The offline, dynamic or advanced password a lock operation produced, audited like a PIN."""
    lock = operation.lock
    if not may_see_pins(actor, lock):
        audit("lock.secret_reveal_refused", actor=actor, organisation=lock.organisation, obj=operation, ip=ip)
        raise PermissionDenied("Your role may not see door codes.")
    if not operation.secret:
        raise ValidationError(gettext("This operation has no code to show (yet)."))
    audit(
        "lock.secret_reveal", actor=actor, organisation=lock.organisation, obj=operation, summary=operation.label, ip=ip
    )
    return operation.secret
