"""Unlock methods of a lock's people (fingerprints, cards, faces, passwords): enrollment, rename, duress, assign,
delete; business writes and the worker side.

Services (called by views) check what the lock kind can do (locks/lock_users.py), write the wish on the row
(`pending`, or a method in `enrolling`), audit it and enqueue a job after commit. The job (locks/jobs.py) calls
`push_method` here, which talks to the cloud and records the outcome on the row: the cloud's answer, or a failure
in plain words. Starting, watching and cancelling an enrollment at the lock is locks/enrollment.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from audit.services import audit
from locks import queues
from locks.cloud import port
from locks.cloud.accounts import cloud_for
from locks.cloud.port import CloudError, LockCloud
from locks.enrollment import cancel_entry, save_method, start_entry
from locks.lock_users import ENROLL_TYPES, can, not_yet, plain, require, retrying, type_name
from locks.models import Lock, LockUser, UnlockMethod, failed
from tenants.models import Actor

logger = logging.getLogger(__name__)

MethodStatus = UnlockMethod.Status

# --- services: unlock methods --------------------------------------------------------------------------------


@transaction.atomic
def start_enrollment(
    lock_user: LockUser, *, unlock_type: str, actor: Actor = None, ip: str | None = None
) -> UnlockMethod:
    """Put the lock in enrollment mode for this person; someone then presents the finger or card at the lock."""
    lock = lock_user.lock
    require(lock, "enroll")
    if unlock_type not in dict(ENROLL_TYPES):
        raise ValidationError({"unlock_type": gettext("Choose fingerprint, card, face or password.")})
    if lock_user.removed_at is not None or not lock_user.cloud_user_id:
        raise ValidationError(gettext("This person is not on the lock yet; wait until they are added."))
    Lock.objects.select_for_update().filter(pk=lock.pk).first()  # one enrollment at a time per lock
    if lock.unlock_methods.filter(status=MethodStatus.ENROLLING).exists():
        raise ValidationError(gettext("The lock is already enrolling a method: finish or cancel that one first."))
    method = UnlockMethod(
        organisation_id=lock.organisation_id,
        lock=lock,
        lock_user=lock_user,
        unlock_type=unlock_type,
        status=MethodStatus.ENROLLING,
    )
    method.full_clean()
    method.save()
    audit(
        "unlockmethod.enroll",
        actor=actor,
        organisation=lock.organisation,
        obj=method,
        summary=f"{type_name(unlock_type)} for {lock_user.name} on {lock}",
        ip=ip,
    )
    _after_commit_method(method)
    return method


def _method_row(method: UnlockMethod) -> UnlockMethod:
    return (
        UnlockMethod.objects.select_for_update(of=("self",))
        .select_related("lock__organisation", "lock_user")
        .get(pk=method.pk)
    )


@transaction.atomic
def cancel_enrollment(method: UnlockMethod, *, actor: Actor = None, ip: str | None = None) -> UnlockMethod:
    """Stop an enrollment in progress; the lock leaves enrollment mode."""
    method = _method_row(method)
    require(method.lock, "cancel")
    if method.status != MethodStatus.ENROLLING:
        raise ValidationError(gettext("This method is not being enrolled."))
    method.status, method.pending = MethodStatus.CANCELLED, {"action": "cancel"}
    method.note_failure(None)
    method.save(update_fields=["status", "pending", "failure_reason", "failure_words", "updated_at"])
    audit("unlockmethod.cancel", actor=actor, organisation=method.lock.organisation, obj=method, ip=ip)
    _after_commit_method(method)
    return method


def _settled(method: UnlockMethod) -> None:
    if method.status != MethodStatus.ACTIVE or method.unlock_sn is None:
        raise ValidationError(gettext("This method is not on the lock."))
    if method.pending:
        raise ValidationError(gettext("A change to this method is still on its way to the lock; wait a moment."))


def _request(
    method: UnlockMethod, change: dict[str, Any], action: str, summary: str, actor: Actor, ip: str | None
) -> None:
    method.pending = change
    method.note_failure(None)
    method.save(update_fields=["pending", "failure_reason", "failure_words", "updated_at"])
    audit(action, actor=actor, organisation=method.lock.organisation, obj=method, summary=summary, ip=ip)
    _after_commit_method(method)


@transaction.atomic
def rename_method(method: UnlockMethod, *, name: str, actor: Actor = None, ip: str | None = None) -> UnlockMethod:
    """Name a method ("Left thumb"); access-control devices keep the name in the cloud, other kinds only here."""
    method = _method_row(method)
    _settled(method)
    name = name.strip()[:100]
    if not name:
        raise ValidationError({"name": gettext("Give the method a name.")})
    if not can(method.lock, "rename"):
        method.name = name
        method.save(update_fields=["name", "updated_at"])
        audit(
            "unlockmethod.rename", actor=actor, organisation=method.lock.organisation, obj=method, summary=name, ip=ip
        )
        return method
    _request(method, {"action": "rename", "name": name}, "unlockmethod.rename", name, actor, ip)
    return method


@transaction.atomic
def set_duress(method: UnlockMethod, *, duress: bool, actor: Actor = None, ip: str | None = None) -> UnlockMethod:
    """Make a method raise a duress alarm when used (or stop it)."""
    method = _method_row(method)
    require(method.lock, "duress")
    _settled(method)
    if method.duress == duress:
        return method
    _request(
        method, {"action": "duress", "duress": duress}, "unlockmethod.duress", "on" if duress else "off", actor, ip
    )
    return method


@transaction.atomic
def assign_method(
    method: UnlockMethod, *, lock_user: LockUser, actor: Actor = None, ip: str | None = None
) -> UnlockMethod:
    """Give an unassigned method (enrolled at the lock itself) to a person."""
    method = _method_row(method)
    require(method.lock, "assign")
    _settled(method)
    if lock_user.lock_id != method.lock_id or lock_user.removed_at is not None or not lock_user.cloud_user_id:
        raise ValidationError({"lock_user": gettext("Choose a person on this lock.")})
    if method.lock_user_id is not None:
        raise ValidationError(gettext("This method already belongs to someone."))
    change = {"action": "assign", "lock_user": lock_user.pk}
    _request(method, change, "unlockmethod.assign", f"to {lock_user.name}", actor, ip)
    return method


@transaction.atomic
def delete_method(method: UnlockMethod, *, actor: Actor = None, ip: str | None = None) -> UnlockMethod:
    """Remove a fingerprint, card ... from the lock."""
    method = _method_row(method)
    require(method.lock, "delete_method")
    _settled(method)
    if method.lock_user is None:
        raise ValidationError(
            gettext("Assign this method to someone first: the cloud deletes a method through its owner.")
        )
    method.status = MethodStatus.DELETING
    method.save(update_fields=["status", "updated_at"])
    _request(method, {"action": "delete"}, "unlockmethod.delete", str(method), actor, ip)
    return method


def _after_commit_method(method: UnlockMethod) -> None:
    transaction.on_commit(lambda: queues.enqueue_unlock_method(method.pk))


# --- the worker side: jobs call these ---------------------------------------------------------------------------


def push_method(method_id: int) -> str:
    """Carry out an unlock method's pending step (a job): start or cancel an enrollment, rename, duress, assign,
    delete. Safe to run twice: a finished step leaves nothing pending."""
    method = UnlockMethod.objects.select_related("lock__cloud_account", "lock_user").filter(pk=method_id).first()
    if method is None:
        return "nothing to do"
    cloud = cloud_for(method.lock.cloud_account)
    if method.status == MethodStatus.ENROLLING and not method.pending:
        return start_entry(cloud, method)
    if not method.pending:
        return "nothing to do"
    change = dict(method.pending)
    try:
        fields = _METHOD_STEPS[change["action"]](cloud, method, change)
    except port.Unavailable as error:
        UnlockMethod.objects.filter(pk=method.pk).update(**retrying(error, method.lock))
        not_yet(f"unlock method {method.pk}", error)
    except CloudError as error:
        fields = failed(plain(error, method.lock))
        if change["action"] == "delete":
            fields["status"] = MethodStatus.ACTIVE
        if change["action"] == "cancel":
            fields["status"] = MethodStatus.ENROLLING  # still enrolling at the lock: the watcher carries on
    fields["pending"] = {}
    save_method(method.pk, fields)
    return str(fields.get("status") or "done")


def _rename(cloud: LockCloud, method: UnlockMethod, change: dict[str, Any]) -> dict[str, Any]:
    assert method.unlock_sn is not None
    cloud.rename_method(method.lock, method.unlock_type, method.unlock_sn, change["name"])
    return {"name": change["name"]}


def _duress(cloud: LockCloud, method: UnlockMethod, change: dict[str, Any]) -> dict[str, Any]:
    assert method.unlock_sn is not None
    cloud.set_duress(method.lock, method.unlock_type, method.unlock_sn, bool(change["duress"]))
    return {"duress": bool(change["duress"])}


def _assign(cloud: LockCloud, method: UnlockMethod, change: dict[str, Any]) -> dict[str, Any]:
    assert method.unlock_sn is not None
    user = LockUser.objects.get(pk=change["lock_user"], lock_id=method.lock_id)
    cloud.assign_method(method.lock, user.cloud_user_id, method.unlock_type, method.unlock_sn)
    return {"lock_user": user}


def _delete(cloud: LockCloud, method: UnlockMethod, change: dict[str, Any]) -> dict[str, Any]:
    assert method.unlock_sn is not None
    assert method.lock_user is not None
    with suppress(port.NotFound):  # already gone: a repeat after a lost reply
        cloud.delete_method(method.lock, method.lock_user.cloud_user_id, method.unlock_type, method.unlock_sn)
    return {"status": MethodStatus.DELETED}


_METHOD_STEPS: dict[str, Callable[[LockCloud, UnlockMethod, dict[str, Any]], dict[str, Any]]] = {
    "cancel": cancel_entry,
    "rename": _rename,
    "duress": _duress,
    "assign": _assign,
    "delete": _delete,
}
