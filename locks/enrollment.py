"""Enrolling a fingerprint, card, face or password at the lock, the worker side (locks/unlock_methods.py asks).

`start_entry` puts the lock in enrollment mode, noting first which numbers the person already has; then
`watch_enrollment` (a job, repeated) reads the person's methods from the cloud (locks/user_sync.py) until a new
number appears, or the window closes and the enrollment is cancelled at the lock. `cancel_entry` stops one.

Enrollment progress: the cloud pushes how many presses are left of how many (Tuya's `doorUnlockMethodStatus`
messages, read by the push consumer locks/push.py as the port's `EnrollmentProgress`); `record_enrollment_message`
applies one (the bar stops at 95 % until the number is listed).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from locks import queues
from locks.cloud import port
from locks.cloud.accounts import cloud_for
from locks.cloud.port import CloudError, CloudMethod, EnrollmentProgress, LockCloud
from locks.lock_users import not_yet, plain, type_name
from locks.models import Lock, UnlockMethod, failed
from locks.user_sync import as_cloud_person, user_methods
from locks.words import Words

logger = logging.getLogger(__name__)

MethodStatus = UnlockMethod.Status


def save_method(pk: int, fields: dict[str, Any]) -> None:
    """A job's outcome on the method row (also push_method's); save(), so `updated_at` moves too."""
    method = UnlockMethod.objects.get(pk=pk)
    for name, value in fields.items():
        setattr(method, name, value)
    method.save()


def start_entry(cloud: LockCloud, method: UnlockMethod) -> str:
    """Put the lock in enrollment mode for the method's person (push_method's first step for a new method)."""
    lock, user = method.lock, method.lock_user
    if user is None or not user.cloud_user_id:
        save_method(
            method.pk, {"status": MethodStatus.FAILED, **failed(Words(gettext_noop("The person left the lock.")))}
        )
        return "failed"
    if method.entry_sent_at is None:
        known = [
            m.unlock_sn for m in user_methods(cloud, lock, as_cloud_person(user)) if m.unlock_type == method.unlock_type
        ]
        UnlockMethod.objects.filter(pk=method.pk).update(known_numbers=known, entry_sent_at=timezone.now())
        resent = False
    else:
        resent = True
    try:
        cloud.start_enrollment(lock, user.cloud_user_id, method.unlock_type)
    except port.Unavailable as error:
        not_yet(f"enrollment {method.pk}", error)
    except CloudError as error:
        if not (resent and isinstance(error, port.LockBusy)):  # after a lost reply, "busy" is our own enrollment
            save_method(method.pk, {"status": MethodStatus.FAILED, **failed(plain(error, method.lock))})
            return "failed"

    queues.enqueue_enrollment_watch(method.pk, delay=None)
    return "enrolling"


def _new_number(cloud: LockCloud, method: UnlockMethod) -> CloudMethod | None:
    assert method.lock_user is not None
    found = user_methods(cloud, method.lock, as_cloud_person(method.lock_user))
    fresh = [m for m in found if m.unlock_type == method.unlock_type and m.unlock_sn not in set(method.known_numbers)]
    return max(fresh, key=lambda m: m.unlock_sn) if fresh else None


def enroll_window() -> timedelta:
    return timedelta(seconds=settings.ENROLL_WINDOW_SECONDS)


def enrolling_method_ids() -> list[int]:
    """Enrollments the lock has been asked to start and that have not ended: each needs a live watch."""
    waiting = UnlockMethod.objects.filter(status=MethodStatus.ENROLLING, entry_sent_at__isnull=False)
    return list(waiting.order_by().values_list("pk", flat=True)[:500])


def watch_enrollment(method_id: int) -> str:
    """Look in the cloud for the method being enrolled (a job, repeated until it appears or time runs out)."""
    method = UnlockMethod.objects.select_related("lock__cloud_account", "lock_user").filter(pk=method_id).first()
    if method is None or method.status != MethodStatus.ENROLLING or method.entry_sent_at is None:
        return "nothing to do"
    cloud = cloud_for(method.lock.cloud_account)
    try:
        found = _new_number(cloud, method)
    except port.Unavailable as error:
        logger.info("enrollment %s: %s; looking again later", method.pk, error)
        found = None
    except CloudError as error:
        save_method(method.pk, {"status": MethodStatus.FAILED, **failed(plain(error, method.lock))})
        return "failed"
    if found is not None:
        return _activate(method.pk, found)
    if timezone.now() - method.entry_sent_at > enroll_window():
        minutes = max(1, round(enroll_window().total_seconds() / 60))
        within = (
            gettext_noop("Nobody finished the enrollment at the lock within a minute.")
            if minutes == 1
            else gettext_noop("Nobody finished the enrollment at the lock within %(minutes)s minutes.")
        )
        reason = Words(within, {"minutes": minutes})
        save_method(method.pk, {"status": MethodStatus.FAILED, **failed(reason)})
        try:
            cloud.cancel_enrollment(method.lock, method.unlock_type)
        except CloudError as error:
            logger.info("enrollment %s: cancel after timeout failed: %s", method.pk, error)
        return "failed"

    queues.enqueue_enrollment_watch(method.pk, delay=timedelta(seconds=settings.ENROLL_POLL_SECONDS))
    return "waiting"


@transaction.atomic
def _activate(method_pk: int, found: CloudMethod) -> str:
    method = UnlockMethod.objects.select_for_update().get(pk=method_pk)
    # A sync may have made a row for the same number meanwhile: this one takes its place.
    UnlockMethod.objects.filter(
        lock_id=method.lock_id, unlock_type=method.unlock_type, unlock_sn=found.unlock_sn
    ).exclude(pk=method.pk).delete()
    method.status, method.unlock_sn, method.progress, method.steps_left = MethodStatus.ACTIVE, found.unlock_sn, 100, 0
    method.name = method.name or found.name or f"{type_name(method.unlock_type)} {found.unlock_sn}"
    method.synced_at = timezone.now()
    method.note_failure(None)
    if found.duress is not None:
        method.duress = found.duress
    method.save()
    return "active"


def cancel_entry(cloud: LockCloud, method: UnlockMethod, change: dict[str, Any]) -> dict[str, Any]:
    """push_method's "cancel" step: the lock leaves enrollment mode."""
    cloud.cancel_enrollment(method.lock, method.unlock_type)
    # Finished at the lock before the cancel arrived? Then it is on the lock: say so rather than hide it.
    if method.entry_sent_at is not None and method.lock_user is not None:
        found = _new_number(cloud, method)
        if found is not None:
            _activate(method.pk, found)
            return failed(Words(gettext_noop("The enrollment finished before the cancel reached the lock.")))
    return {"status": MethodStatus.CANCELLED}


@transaction.atomic
def record_enrollment_message(*, lock: Lock, progress: EnrollmentProgress) -> UnlockMethod | None:
    """Apply one enrollment progress message from the cloud (spec "Push notification of unlocking method enrollment
    results")."""
    method = lock.unlock_methods.select_for_update().filter(status=MethodStatus.ENROLLING).order_by("-pk").first()
    if method is None:
        return None
    total = progress.steps_total or method.steps_total
    left = progress.steps_left
    if progress.cancelled:
        method.status = MethodStatus.CANCELLED
        method.note_failure(Words(gettext_noop("The enrollment was cancelled at the lock.")))
    elif total and left is not None:
        if method.steps_total == total and method.progress:
            left = min(left, method.steps_left)  # a message redelivered late must not move the bar back
        method.steps_total, method.steps_left = total, min(left, total)
        # 100 % only once the cloud lists the new number (watch_enrollment).
        method.progress = min(95, round(100 * (total - method.steps_left) / total))
    method.save()
    return method
