"""A lock's people and unlock methods as the cloud lists them, and the sync that makes our rows agree.

`request_sync` (a service) enqueues the job; `sync_lock` (the job, locks/jobs.py) reads every person and method
from the cloud and updates the rows, leaving alone whatever has a change on its way. The readers (`user_methods`,
`as_cloud_person`) also serve enrollment (locks/enrollment.py), which looks for the new number in these lists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from audit.services import audit
from locks import queues
from locks.cloud.accounts import cloud_for
from locks.cloud.port import CloudMethod, CloudPerson, LockCloud
from locks.lock_users import HOME_USER_KINDS, can, require, stored_window, type_name
from locks.models import Lock, LockKind, LockUser, UnlockMethod
from tenants.models import Actor

logger = logging.getLogger(__name__)

MethodStatus = UnlockMethod.Status


def request_sync(*, lock: Lock, actor: Actor = None, ip: str | None = None) -> None:
    """Read the lock's people and methods from the cloud (a job on the sync queue)."""
    require(lock, "sync")
    audit("lockuser.sync", actor=actor, organisation=lock.organisation, obj=lock, summary=str(lock), ip=ip)
    transaction.on_commit(lambda: queues.enqueue_lock_user_sync(lock.pk))


# --- the worker side: reading the cloud ----------------------------------------------------------------------


def user_methods(cloud: LockCloud, lock: Lock, person: CloudPerson) -> list[CloudMethod]:
    """A person's methods: from the listing of people when it carries them, asked for separately otherwise."""
    if person.methods is not None:
        return list(person.methods)
    return cloud.methods_of(lock, person.user_id)


def _unassigned(cloud: LockCloud, lock: Lock) -> list[CloudMethod]:
    if not can(lock, "unassigned"):
        return []
    return cloud.unassigned_methods(lock)


def as_cloud_person(user: LockUser) -> CloudPerson:
    return CloudPerson(user.cloud_user_id, user.name, user.role)


# --- the worker side: sync from the cloud --------------------------------------------------------------------


@dataclass(frozen=True)
class SyncResult:
    users: int
    removed: int
    methods: int


def sync_lock(lock_id: int) -> SyncResult | None:
    """Read the lock's people and methods from the cloud and make our rows agree (a job)."""
    lock = Lock.objects.select_related("cloud_account", "organisation").filter(pk=lock_id).first()
    if lock is None or not can(lock, "sync"):
        return None
    cloud = cloud_for(lock.cloud_account)
    if lock.kind in (LockKind.BLE_GATEWAY, *HOME_USER_KINDS):
        # Methods enrolled at the lock itself reach the cloud only through this call (spec "Sync unlocking methods").
        cloud.refresh_methods(lock)
    users = cloud.people(lock)
    methods = {user.user_id: user_methods(cloud, lock, user) for user in users}
    unassigned = _unassigned(cloud, lock)
    absent = cloud.absent_people(lock)  # video locks only
    return _apply_sync(lock, users, methods, unassigned, absent)


@transaction.atomic
def _apply_sync(
    lock: Lock,
    users: list[CloudPerson],
    methods: dict[str, list[CloudMethod]],
    unassigned: list[CloudMethod],
    absent: set[str],
) -> SyncResult:
    now = timezone.now()
    rows = {
        u.cloud_user_id: u for u in LockUser.objects.select_for_update().filter(lock=lock).exclude(cloud_user_id="")
    }
    seen: dict[str, LockUser] = {}
    for found in users:
        row = rows.get(found.user_id) or LockUser(
            organisation_id=lock.organisation_id, lock=lock, cloud_user_id=found.user_id
        )
        if not row.pending:  # a change on its way wins over what the cloud said a moment ago
            row.name = found.name[:100] or row.name or found.user_id
            if lock.kind in HOME_USER_KINDS:
                row.role = found.role
                row.valid_from, row.valid_until = found.valid_from, found.valid_until
                row.schedule = [stored_window(hours) for hours in found.hours]
        row.removed_at, row.synced_at = None, now
        row.save()
        seen[found.user_id] = row
    removed = 0
    for user_id, row in rows.items():
        if user_id in seen or row.pending.get("action") == "add":
            continue
        if user_id in absent:  # left the home; the lock still holds them until deleted (video locks)
            if row.role != "absent" or row.removed_at is None:
                row.role, row.removed_at = "absent", row.removed_at or now
                row.save(update_fields=["role", "removed_at"])
            continue
        if row.removed_at is None and not row.pending:
            row.removed_at = now
            row.save(update_fields=["removed_at"])
            removed += 1
    for user_id in absent - set(rows):
        LockUser.objects.create(
            organisation_id=lock.organisation_id,
            lock=lock,
            cloud_user_id=user_id,
            name=user_id,
            role="absent",
            removed_at=now,
            synced_at=now,
        )
    wanted: dict[tuple[str, int], tuple[LockUser | None, CloudMethod]] = {}
    for user_id, found_methods in methods.items():
        for m in found_methods:
            wanted[(m.unlock_type, m.unlock_sn)] = (seen[user_id], m)
    for m in unassigned:
        wanted.setdefault((m.unlock_type, m.unlock_sn), (None, m))
    existing: dict[tuple[str, int | None], UnlockMethod] = {
        (m.unlock_type, m.unlock_sn): m
        for m in UnlockMethod.objects.select_for_update().filter(lock=lock, unlock_sn__isnull=False)
    }
    for key, (owner, found_method) in wanted.items():
        method = existing.get(key)
        if method is None:
            method = UnlockMethod(organisation_id=lock.organisation_id, lock=lock, unlock_type=key[0], unlock_sn=key[1])
        elif method.status == MethodStatus.ENROLLING or method.pending:
            continue
        method.lock_user, method.status, method.synced_at = owner, MethodStatus.ACTIVE, now
        method.name = found_method.name or method.name or f"{type_name(key[0])} {key[1]}"
        if found_method.duress is not None:
            method.duress = found_method.duress
        method.save()
    for held, method in existing.items():
        if held not in wanted and method.status in (MethodStatus.ACTIVE, MethodStatus.DELETING) and not method.pending:
            method.status, method.synced_at = MethodStatus.DELETED, now
            method.save(update_fields=["status", "synced_at", "updated_at"])
    return SyncResult(users=len(users), removed=removed, methods=len(wanted))
