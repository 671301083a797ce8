"""A lock's people and unlock methods as the cloud lists them, and the sync that makes our rows agree.

`request_sync` (a service) enqueues the job; `sync_lock` (the job, locks/jobs.py) reads every person and method
from the cloud and updates the rows, leaving alone whatever has a change on its way. The readers (`user_methods`,
`as_cloud_user`) also serve enrollment (locks/enrollment.py), which looks for the new number in these lists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from audit.services import audit
from locks import queues
from locks.cloud.tuya import client as cloud
from locks.lock_users import (
    HOME_USER_KINDS,
    RESIDENTIAL,
    ROLE_NAMES,
    TYPE_LABELS,
    can,
    require,
    type_of,
    user_type,
)
from locks.models import Lock, LockKind, LockUser, UnlockMethod
from locks.tuya.api import LockApi, UnlockDpCode
from locks.tuya.api import LockUser as TuyaLockUser
from tenants.models import Actor

logger = logging.getLogger(__name__)

MethodStatus = UnlockMethod.Status


def request_sync(*, lock: Lock, actor: Actor = None, ip: str | None = None) -> None:
    """Read the lock's people and methods from the cloud (a job on the sync queue)."""
    require(lock, "sync")
    audit("lockuser.sync", actor=actor, organisation=lock.organisation, obj=lock, summary=str(lock), ip=ip)
    transaction.on_commit(lambda: queues.enqueue_lock_user_sync(lock.pk))


# --- the worker side: reading the cloud ----------------------------------------------------------------------


@dataclass(frozen=True)
class CloudMethod:
    unlock_type: str
    unlock_sn: int
    name: str = ""
    duress: bool | None = None  # None: this listing does not say


@dataclass(frozen=True)
class CloudUser:
    user_id: str
    name: str
    role: str = ""
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    schedule: tuple[dict[str, int], ...] = ()
    methods: tuple[CloudMethod, ...] | None = None  # None: read separately


_HOME_LIST_CODES = [dp for dp in UnlockDpCode if dp is not UnlockDpCode.TELECONTROL_KIT]


def _from_epoch(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=timezone.get_current_timezone()) if value else None


def _home_user(user: TuyaLockUser, *, with_methods: bool) -> CloudUser:
    info = user.time_schedule_info
    methods = None
    if with_methods:  # the home-user list carries each person's methods; the v1.1 list does not
        methods = tuple(
            CloudMethod(type_of(detail.dp_code), item.unlock_sn, item.unlock_name, item.unlock_attr == 1)
            for detail in user.unlock_detail
            for item in detail.unlock_list
            if item.unlock_sn is not None
        )
    window = None if info is None or info.permanent else info  # None: permanent
    return CloudUser(
        user_id=user.user_id,
        name=user.nick_name,
        role=ROLE_NAMES.get(user.user_type or 0, ""),
        valid_from=None if window is None else _from_epoch(window.effective_time),
        valid_until=None if window is None else _from_epoch(window.expired_time),
        schedule=tuple(
            {"working_day": w.working_day, "start_minute": w.start_minute, "end_minute": w.end_minute}
            for w in (info.schedule_details if info else ())
        ),
        methods=methods,
    )


def _cloud_users(api: LockApi, lock: Lock) -> list[CloudUser]:
    device = lock.device_id
    if lock.kind in RESIDENTIAL:
        return [CloudUser(u.user_id, u.nick_name) for u in api.users.list_device_users(device)]
    found: list[CloudUser] = []
    page_no = 1
    while True:
        if lock.kind == LockKind.ACCESS_CONTROL:
            page = api.users.list_device_users_v11(device, page_no=page_no, page_size=100)
        else:
            page = api.users.list_home_users(device, codes=_HOME_LIST_CODES, page_no=page_no, page_size=100)
        found += [_home_user(u, with_methods=lock.kind != LockKind.ACCESS_CONTROL) for u in page]
        if not page.has_more or not len(page):
            return found
        page_no += 1


def user_methods(api: LockApi, lock: Lock, user: CloudUser) -> list[CloudMethod]:
    if user.methods is not None:
        return list(user.methods)
    if lock.kind == LockKind.ACCESS_CONTROL:
        rows = api.unlock_methods.list_user_unlock_methods(lock.device_id, user.user_id, page_size=100)
        return [
            CloudMethod(type_of(m.dp_code), m.unlock_sn, m.unlock_name, m.unlock_attr == 1)
            for m in rows
            if m.unlock_sn is not None
        ]
    if lock.kind in RESIDENTIAL or lock.kind == LockKind.WIFI_VIDEO:
        keys = api.unlock_methods.list_assigned_keys(lock.device_id, user_type(lock), user.user_id)
        return [CloudMethod(type_of(k.unlock_type), k.unlock_no, "", k.hijack) for k in keys]
    # A keepalive lock lists methods only with its home users: read them again.
    for fresh in _cloud_users(api, lock):
        if fresh.user_id == user.user_id:
            return list(fresh.methods or ())
    return []


def _unassigned(api: LockApi, lock: Lock) -> list[CloudMethod]:
    if not can(lock, "unassigned"):
        return []
    return [
        CloudMethod(type_of(k.unlock_type), k.unlock_no)
        for k in api.unlock_methods.list_unassigned_keys(lock.device_id)
    ]


def as_cloud_user(user: LockUser) -> CloudUser:
    return CloudUser(user.cloud_user_id, user.name, user.role)


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
    api = cloud.api_for(lock.cloud_account)
    if lock.kind in (LockKind.BLE_GATEWAY, *HOME_USER_KINDS):
        # Methods enrolled at the lock itself reach the cloud only through this call (spec "Sync unlocking methods").
        api.unlock_methods.sync_unlock_methods(lock.device_id, list(UnlockDpCode))
    users = _cloud_users(api, lock)
    methods = {user.user_id: user_methods(api, lock, user) for user in users}
    unassigned = _unassigned(api, lock)
    absent = (
        {a.user_id for a in api.users.list_absent_users(lock.device_id)} if lock.kind == LockKind.WIFI_VIDEO else set()
    )
    return _apply_sync(lock, users, methods, unassigned, absent)


@transaction.atomic
def _apply_sync(
    lock: Lock,
    users: list[CloudUser],
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
                row.valid_from, row.valid_until, row.schedule = (
                    found.valid_from,
                    found.valid_until,
                    list(found.schedule),
                )
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
        method.name = found_method.name or method.name or f"{TYPE_LABELS.get(key[0], key[0])} {key[1]}"
        if found_method.duress is not None:
            method.duress = found_method.duress
        method.save()
    for held, method in existing.items():
        if held not in wanted and method.status in (MethodStatus.ACTIVE, MethodStatus.DELETING) and not method.pending:
            method.status, method.synced_at = MethodStatus.DELETED, now
            method.save(update_fields=["status", "synced_at", "updated_at"])
    return SyncResult(users=len(users), removed=removed, methods=len(wanted))
