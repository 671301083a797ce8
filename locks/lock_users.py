"""Lock users and their unlock methods (fingerprints, cards, faces, passwords): business writes and the worker side.

Services (called by views) check what the lock kind can do, write the wish on the row (`pending`, or a method in
`enrolling`), audit it and enqueue a job after commit. Jobs (locks/jobs.py) call `push_user`, `push_method`,
`watch_enrollment` and `sync_lock` here, which talk to the cloud and record the outcome on the row: the cloud's
answer, or a failure in plain words. Which endpoint serves which lock kind follows the spec's "Applicable lock
types"; a kind that cannot do something is told so before anything is sent.

Enrollment progress: the cloud pushes `doorUnlockMethodStatus` messages (totalPeriod / period) through Tuya's
message service; `record_enrollment_message` applies one. The result itself is read back from the cloud's method
lists: the enrollment is done when a number the user did not have before appears.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit
from locks import queues
from locks.cloud.tuya import client as cloud
from locks.models import Lock, LockKind, LockUser, UnlockMethod
from locks.services import TRANSIENT, explain, unreachable
from locks.tuya import (
    TuyaDeviceOfflineError,
    TuyaError,
    TuyaNotFoundError,
)
from locks.tuya.api import KeyUserType, LockApi, Role, ScheduleWindow, UnlockDpCode, UnlockRef
from locks.tuya.api import LockUser as TuyaLockUser
from tenants.models import Actor

logger = logging.getLogger(__name__)

MethodStatus = UnlockMethod.Status

# --- what each lock kind can do (the spec's "Applicable lock types") ------------------------------------------

RESIDENTIAL = frozenset({LockKind.WIFI, LockKind.ZIGBEE, LockKind.BLE, LockKind.BLE_GATEWAY})
HOME_USER_KINDS = frozenset({LockKind.WIFI_KEEPALIVE, LockKind.WIFI_VIDEO, LockKind.ACCESS_CONTROL})
ENROLL_KINDS = RESIDENTIAL | HOME_USER_KINDS

CAN: dict[str, frozenset[str]] = {
    "add_user": RESIDENTIAL,  # POST /v1.0/devices/{id}/user
    "modify_user": RESIDENTIAL | {LockKind.WIFI_KEEPALIVE, LockKind.ACCESS_CONTROL},  # name, or role / validity
    "delete_user": RESIDENTIAL | {LockKind.WIFI_VIDEO},  # device users; removed home users (delete-users-issue)
    "role": frozenset({LockKind.ACCESS_CONTROL}),
    "schedule": frozenset({LockKind.WIFI_KEEPALIVE, LockKind.ACCESS_CONTROL}),
    "enroll": ENROLL_KINDS,
    "cancel": ENROLL_KINDS,
    "delete_method": RESIDENTIAL | {LockKind.WIFI_KEEPALIVE, LockKind.ACCESS_CONTROL},
    "rename": frozenset({LockKind.ACCESS_CONTROL}),  # other kinds keep the name here only
    "duress": RESIDENTIAL,
    "assign": RESIDENTIAL | {LockKind.ACCESS_CONTROL},
    "unassigned": RESIDENTIAL | {LockKind.ACCESS_CONTROL},
    "sync": ENROLL_KINDS,
}

REFUSALS = {
    "add_user": "This kind of lock takes its people from the owner's home in the Tuya app: add them there, "
    "then use “Sync from the cloud”.",
    "modify_user": "This kind of lock does not let the cloud change its people.",
    "delete_user": "This kind of lock does not let the cloud remove its people: remove them from the home in "
    "the Tuya app, then sync.",
    "role": "Only access-control devices have roles.",
    "schedule": "Only access-control devices and keepalive Wi-Fi locks keep a validity period per person.",
    "enroll": "This kind of lock cannot enroll fingerprints or cards through the cloud.",
    "cancel": "This kind of lock cannot cancel an enrollment through the cloud.",
    "delete_method": "This kind of lock does not let the cloud delete its unlock methods: delete it at the lock.",
    "rename": "This kind of lock keeps no names for its unlock methods.",
    "duress": "Only Wi-Fi, Zigbee and Bluetooth locks can mark a method as duress.",
    "assign": "This kind of lock does not let the cloud assign methods to people.",
    "unassigned": "This kind of lock does not list unassigned methods.",
    "sync": "This kind of lock has no people or unlock methods in the cloud.",
}

# What can be enrolled, by our (the spec's) unlock type names; a password is typed at the lock twice.
ENROLL_TYPES = [("fingerprint", "Fingerprint"), ("card", "Card"), ("face", "Face"), ("password", "Password")]
TYPE_LABELS = dict(ENROLL_TYPES) | {"remoteControl": "Remote control", "hand": "Palm", "finger_vein": "Finger vein"}
_TYPE_TO_DP = {
    "fingerprint": UnlockDpCode.FINGERPRINT,
    "password": UnlockDpCode.PASSWORD,
    "card": UnlockDpCode.CARD,
    "face": UnlockDpCode.FACE,
    "remoteControl": UnlockDpCode.TELECONTROL_KIT,
    "hand": UnlockDpCode.HAND,
    "finger_vein": UnlockDpCode.FINGER_VEIN,
}
DP_TO_TYPE = {dp.value: short for short, dp in _TYPE_TO_DP.items()}  # also what the events sync links by
_HOME_LIST_CODES = [dp for dp in UnlockDpCode if dp is not UnlockDpCode.TELECONTROL_KIT]
ROLE_NAMES = {10: "admin", 20: "normal", 40: "shared", 50: "owner"}
USER_ROLES = [("normal", "Common user"), ("admin", "Administrator")]


def can(lock: Lock, operation: str) -> bool:
    return lock.kind in CAN[operation]


def _require(lock: Lock, operation: str) -> None:
    """Refuse in plain words, before anything is sent, what this lock kind cannot do."""
    if not can(lock, operation):
        raise ValidationError(REFUSALS[operation])


def type_of(dp_code_or_type: str) -> str:
    """Our unlock type name ("fingerprint") from a DP code ("unlock_fingerprint") or a type name."""
    return DP_TO_TYPE.get(dp_code_or_type, dp_code_or_type)


def _user_type(lock: Lock) -> KeyUserType:
    """1 for the home users of keepalive, video and access-control devices; 2 (device users) otherwise."""
    return KeyUserType.HOME if lock.kind in HOME_USER_KINDS else KeyUserType.NOT_HOME


# --- the schedule of a person (access-control and keepalive devices) ----------------------------------------


@dataclass(frozen=True)
class Validity:
    """When a person may open: between two moments (None = permanent), on weekdays between two minutes."""

    valid_from: datetime | None
    valid_until: datetime | None
    working_day: int = 0  # the spec's bitmask, bit 0 = Sunday; 0 = every day
    start_minute: int = 0
    end_minute: int = 1440

    def __post_init__(self) -> None:
        if (self.valid_from is None) != (self.valid_until is None):
            raise ValidationError({"valid_until": "Give both ends of the validity, or neither for permanent access."})
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValidationError({"valid_until": "The validity must end after it starts."})
        if not 0 <= self.start_minute < self.end_minute <= 1440:
            raise ValidationError({"end_time": "The end time must be after the start time on the same day."})

    def schedule(self) -> list[dict[str, int]]:
        if not self.working_day and (self.start_minute, self.end_minute) == (0, 1440):
            return []
        return [
            {"working_day": self.working_day or 127, "start_minute": self.start_minute, "end_minute": self.end_minute}
        ]


# --- services: people -------------------------------------------------------------------------------------


def _live(lock_user: LockUser) -> None:
    if lock_user.removed_at is not None:
        raise ValidationError("This person is no longer on the lock.")
    if lock_user.pending:
        raise ValidationError("A change to this person is still on its way to the lock; wait a moment.")


@transaction.atomic
def add_lock_user(*, lock: Lock, name: str, sex: int = 1, actor: Actor = None, ip: str | None = None) -> LockUser:
    """Add a person to the lock (a device user); the cloud hears about it after commit."""
    _require(lock, "add_user")
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the person a name."})
    if sex not in (1, 2):
        raise ValidationError({"sex": "Choose one."})
    user = LockUser(
        organisation_id=lock.organisation_id, lock=lock, name=name[:100], pending={"action": "add", "sex": sex}
    )
    user.full_clean()
    user.save()
    audit(
        "lockuser.add", actor=actor, organisation=lock.organisation, obj=user, summary=f"{user.name} on {lock}", ip=ip
    )
    _after_commit_user(user)
    return user


@transaction.atomic
def modify_lock_user(
    lock_user: LockUser,
    *,
    name: str | None = None,
    sex: int | None = None,
    role: str | None = None,
    validity: Validity | None = None,
    actor: Actor = None,
    ip: str | None = None,
) -> LockUser:
    """Rename a device user, or change the role and validity of a home user; the row changes once the cloud has it."""
    lock_user = LockUser.objects.select_for_update().select_related("lock__organisation").get(pk=lock_user.pk)
    lock = lock_user.lock
    _require(lock, "modify_user")
    _live(lock_user)
    change: dict[str, Any] = {"action": "modify"}
    if name is not None and lock.kind in RESIDENTIAL:
        if not name.strip():
            raise ValidationError({"name": "Give the person a name."})
        change.update(name=name.strip()[:100], sex=sex if sex in (1, 2) else 1)
    if role is not None and role != lock_user.role:
        _require(lock, "role")
        if role not in dict(USER_ROLES):
            raise ValidationError({"role": "Choose administrator or common user."})
        if lock_user.role == "owner":
            raise ValidationError({"role": "The owner's role cannot change."})
        change["role"] = role
    if validity is not None:
        _require(lock, "schedule")
        if lock_user.role == "owner":
            raise ValidationError({"valid_from": "The owner is always allowed in."})
        change.update(
            valid_from=validity.valid_from.isoformat() if validity.valid_from else None,
            valid_until=validity.valid_until.isoformat() if validity.valid_until else None,
            schedule=validity.schedule(),
        )
    if len(change) == 1:
        raise ValidationError("Nothing to change.")
    lock_user.pending, lock_user.failure_reason = change, ""
    lock_user.save(update_fields=["pending", "failure_reason"])
    audit("lockuser.modify", actor=actor, organisation=lock.organisation, obj=lock_user, summary=lock_user.name, ip=ip)
    _after_commit_user(lock_user)
    return lock_user


@transaction.atomic
def delete_lock_user(lock_user: LockUser, *, actor: Actor = None, ip: str | None = None) -> LockUser:
    """Remove a person from the lock (a device user, or a home user who already left the home)."""
    lock_user = LockUser.objects.select_for_update().select_related("lock__organisation").get(pk=lock_user.pk)
    lock = lock_user.lock
    _require(lock, "delete_user")
    if lock.kind == LockKind.WIFI_VIDEO and lock_user.role != "absent":
        raise ValidationError("Only people who left the home in the Tuya app can be removed from this lock.")
    if lock_user.pending.get("action") == "delete":
        return lock_user
    if lock_user.removed_at is not None and lock.kind != LockKind.WIFI_VIDEO:
        raise ValidationError("This person is no longer on the lock.")
    lock_user.pending, lock_user.failure_reason = {"action": "delete"}, ""
    lock_user.save(update_fields=["pending", "failure_reason"])
    audit("lockuser.delete", actor=actor, organisation=lock.organisation, obj=lock_user, summary=lock_user.name, ip=ip)
    _after_commit_user(lock_user)
    return lock_user


def _after_commit_user(lock_user: LockUser) -> None:
    transaction.on_commit(lambda: queues.enqueue_lock_user(lock_user.pk))


# --- services: unlock methods --------------------------------------------------------------------------------


@transaction.atomic
def start_enrollment(
    lock_user: LockUser, *, unlock_type: str, actor: Actor = None, ip: str | None = None
) -> UnlockMethod:
    """Put the lock in enrollment mode for this person; someone then presents the finger or card at the lock."""
    lock = lock_user.lock
    _require(lock, "enroll")
    if unlock_type not in dict(ENROLL_TYPES):
        raise ValidationError({"unlock_type": "Choose fingerprint, card, face or password."})
    if lock_user.removed_at is not None or not lock_user.cloud_user_id:
        raise ValidationError("This person is not on the lock yet; wait until they are added.")
    Lock.objects.select_for_update().filter(pk=lock.pk).first()  # one enrollment at a time per lock
    if lock.unlock_methods.filter(status=MethodStatus.ENROLLING).exists():
        raise ValidationError("The lock is already enrolling a method: finish or cancel that one first.")
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
        summary=f"{TYPE_LABELS[unlock_type]} for {lock_user.name} on {lock}",
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
    _require(method.lock, "cancel")
    if method.status != MethodStatus.ENROLLING:
        raise ValidationError("This method is not being enrolled.")
    method.status, method.pending, method.failure_reason = MethodStatus.CANCELLED, {"action": "cancel"}, ""
    method.save(update_fields=["status", "pending", "failure_reason", "updated_at"])
    audit("unlockmethod.cancel", actor=actor, organisation=method.lock.organisation, obj=method, ip=ip)
    _after_commit_method(method)
    return method


def _settled(method: UnlockMethod) -> None:
    if method.status != MethodStatus.ACTIVE or method.unlock_sn is None:
        raise ValidationError("This method is not on the lock.")
    if method.pending:
        raise ValidationError("A change to this method is still on its way to the lock; wait a moment.")


def _request(
    method: UnlockMethod, change: dict[str, Any], action: str, summary: str, actor: Actor, ip: str | None
) -> None:
    method.pending, method.failure_reason = change, ""
    method.save(update_fields=["pending", "failure_reason", "updated_at"])
    audit(action, actor=actor, organisation=method.lock.organisation, obj=method, summary=summary, ip=ip)
    _after_commit_method(method)


@transaction.atomic
def rename_method(method: UnlockMethod, *, name: str, actor: Actor = None, ip: str | None = None) -> UnlockMethod:
    """Name a method ("Left thumb"); access-control devices keep the name in the cloud, other kinds only here."""
    method = _method_row(method)
    _settled(method)
    name = name.strip()[:100]
    if not name:
        raise ValidationError({"name": "Give the method a name."})
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
    _require(method.lock, "duress")
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
    _require(method.lock, "assign")
    _settled(method)
    if lock_user.lock_id != method.lock_id or lock_user.removed_at is not None or not lock_user.cloud_user_id:
        raise ValidationError({"lock_user": "Choose a person on this lock."})
    if method.lock_user_id is not None:
        raise ValidationError("This method already belongs to someone.")
    change = {"action": "assign", "lock_user": lock_user.pk}
    _request(method, change, "unlockmethod.assign", f"to {lock_user.name}", actor, ip)
    return method


@transaction.atomic
def delete_method(method: UnlockMethod, *, actor: Actor = None, ip: str | None = None) -> UnlockMethod:
    """Remove a fingerprint, card ... from the lock."""
    method = _method_row(method)
    _require(method.lock, "delete_method")
    _settled(method)
    if method.lock_user is None:
        raise ValidationError("Assign this method to someone first: the cloud deletes a method through its owner.")
    method.status = MethodStatus.DELETING
    method.save(update_fields=["status", "updated_at"])
    _request(method, {"action": "delete"}, "unlockmethod.delete", str(method), actor, ip)
    return method


def _after_commit_method(method: UnlockMethod) -> None:
    transaction.on_commit(lambda: queues.enqueue_unlock_method(method.pk))


def request_sync(*, lock: Lock, actor: Actor = None, ip: str | None = None) -> None:
    """Read the lock's people and methods from the cloud (a job on the sync queue)."""
    _require(lock, "sync")
    audit("lockuser.sync", actor=actor, organisation=lock.organisation, obj=lock, summary=str(lock), ip=ip)
    transaction.on_commit(lambda: queues.enqueue_lock_user_sync(lock.pk))


@transaction.atomic
def record_enrollment_message(*, lock: Lock, biz_data: dict[str, Any]) -> UnlockMethod | None:
    """Apply one `doorUnlockMethodStatus` push (spec "Push notification of unlocking method enrollment results")."""
    method = lock.unlock_methods.select_for_update().filter(status=MethodStatus.ENROLLING).order_by("-pk").first()
    if method is None:
        return None
    total = _int(biz_data.get("totalPeriod")) or method.steps_total
    left = _int(biz_data.get("period"))
    if _int(biz_data.get("operate")) == 2 and biz_data.get("finish"):
        method.status, method.failure_reason = MethodStatus.CANCELLED, "The enrollment was cancelled at the lock."
    elif total and left is not None:
        if method.steps_total == total and method.progress:
            left = min(left, method.steps_left)  # a message redelivered late must not move the bar back
        method.steps_total, method.steps_left = total, min(left, total)
        # 100 % only once the cloud lists the new number (watch_enrollment).
        method.progress = min(95, round(100 * (total - method.steps_left) / total))
    method.save()
    return method


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


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


def _user_methods(api: LockApi, lock: Lock, user: CloudUser) -> list[CloudMethod]:
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
        keys = api.unlock_methods.list_assigned_keys(lock.device_id, _user_type(lock), user.user_id)
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


# --- the worker side: jobs call these ---------------------------------------------------------------------------


PLAIN = {
    2328: "The lock is busy with another enrollment: finish or cancel it at the lock, then try again.",
    2306: "The lock refused this change (the method may belong to someone else, or the owner cannot change).",
    2006: "This person is no longer on the lock; sync from the cloud to see who is.",
}


def plain(error: TuyaError, lock: Lock | None = None) -> str:
    """A Tuya error in plain words and what to do about it (for the lock's real state, if given)."""
    if isinstance(error, TuyaDeviceOfflineError):
        return unreachable(lock, "The lock is offline: check its power and connection, then try again.")
    if error.code in PLAIN:
        return f"{PLAIN[error.code]} (Tuya {error.code})"
    return explain(error, lock)


def _not_yet(what: str, error: TuyaError) -> None:
    """A transient failure: say so on the row's caller and let the job's retry try again."""
    logger.info("%s: %s; retrying", what, error)
    raise error


def push_user(lock_user_id: int) -> str:
    """Send a person's pending change to the cloud (a job). Safe to run twice: nothing pending, nothing sent."""
    user = LockUser.objects.select_related("lock__cloud_account").filter(pk=lock_user_id).first()
    if user is None or not user.pending:
        return "nothing to do"
    lock, change = user.lock, dict(user.pending)
    api = cloud.api_for(lock.cloud_account)
    fields: dict[str, Any] = {"pending": {}, "failure_reason": ""}
    try:
        if change["action"] == "add":
            fields["cloud_user_id"] = _add_user(api, user, change)
            fields["synced_at"] = timezone.now()
        elif change["action"] == "modify":
            fields.update(_modify_user(api, user, change))
        elif change["action"] == "delete":
            _delete_user(api, user)
            fields["removed_at"] = timezone.now()
    except TRANSIENT as error:
        LockUser.objects.filter(pk=user.pk).update(failure_reason=f"{plain(error, user.lock)} Retrying."[:300])
        _not_yet(f"lock user {user.pk}", error)
    except TuyaError as error:
        fields = {"pending": {}, "failure_reason": plain(error, user.lock)[:300]}
        if change["action"] == "add":
            fields["removed_at"] = timezone.now()  # never reached the lock
    LockUser.objects.filter(pk=user.pk).update(**fields)
    if fields.get("removed_at") and change["action"] == "delete":
        # The lock keeps the person's fingerprints and cards, unassigned.
        user.unlock_methods.exclude(status=MethodStatus.DELETED).update(lock_user=None)
    return "failed" if fields.get("failure_reason") else "done"


def _add_user(api: LockApi, user: LockUser, change: dict[str, Any]) -> str:
    device = user.lock.device_id
    if user.sent_at is not None:
        # Sent before and the reply was lost? The add is not repeatable: adopt the user it made, if any.
        taken = set(
            LockUser.objects.filter(lock=user.lock).exclude(cloud_user_id="").values_list("cloud_user_id", flat=True)
        )
        for found in api.users.list_device_users(device):
            if found.nick_name == user.name and found.user_id not in taken:
                return found.user_id
    LockUser.objects.filter(pk=user.pk).update(sent_at=timezone.now())
    return api.users.add_device_user(device, nick_name=user.name, sex=change.get("sex", 1)).user_id


def _modify_user(api: LockApi, user: LockUser, change: dict[str, Any]) -> dict[str, Any]:
    device, fields = user.lock.device_id, {}
    if "name" in change:
        api.users.modify_device_user(device, user.cloud_user_id, nick_name=change["name"], sex=change.get("sex", 1))
        fields["name"] = change["name"]
    if "role" in change:
        api.users.set_user_role(device, user.cloud_user_id, Role(change["role"]))
        fields["role"] = change["role"]
    if "schedule" in change:
        valid_from = datetime.fromisoformat(change["valid_from"]) if change["valid_from"] else None
        valid_until = datetime.fromisoformat(change["valid_until"]) if change["valid_until"] else None
        zone = user.lock.time_zone
        windows = [
            ScheduleWindow(w["working_day"], w["start_minute"], w["end_minute"], time_zone_id=zone)
            for w in change["schedule"]
        ]
        api.users.update_user_schedule(
            device,
            user.cloud_user_id,
            permanent=valid_from is None,
            effective_time=valid_from,
            expired_time=valid_until,
            schedule_details=windows,
        )
        fields.update(valid_from=valid_from, valid_until=valid_until, schedule=change["schedule"])
    return fields


def _delete_user(api: LockApi, user: LockUser) -> None:
    if not user.cloud_user_id:
        return
    try:
        if user.lock.kind == LockKind.WIFI_VIDEO:
            api.users.delete_users(user.lock.device_id, [user.cloud_user_id])
        else:
            api.users.delete_device_user(user.lock.device_id, user.cloud_user_id)
    except TuyaNotFoundError:
        pass  # already gone: a repeat after a lost reply


def push_method(method_id: int) -> str:
    """Carry out an unlock method's pending step (a job): start or cancel an enrollment, rename, duress, assign,
    delete. Safe to run twice: a finished step leaves nothing pending."""
    method = UnlockMethod.objects.select_related("lock__cloud_account", "lock_user").filter(pk=method_id).first()
    if method is None:
        return "nothing to do"
    api = cloud.api_for(method.lock.cloud_account)
    if method.status == MethodStatus.ENROLLING and not method.pending:
        return _start_entry(api, method)
    if not method.pending:
        return "nothing to do"
    change = dict(method.pending)
    try:
        fields = _METHOD_STEPS[change["action"]](api, method, change)
    except TRANSIENT as error:
        UnlockMethod.objects.filter(pk=method.pk).update(failure_reason=f"{plain(error, method.lock)} Retrying."[:300])
        _not_yet(f"unlock method {method.pk}", error)
    except TuyaError as error:
        fields = {"failure_reason": plain(error, method.lock)[:300]}
        if change["action"] == "delete":
            fields["status"] = MethodStatus.ACTIVE
        if change["action"] == "cancel":
            fields["status"] = MethodStatus.ENROLLING  # still enrolling at the lock: the watcher carries on
    fields["pending"] = {}
    _save_method(method.pk, fields)
    return str(fields.get("status") or "done")


def _save_method(pk: int, fields: dict[str, Any]) -> None:
    method = UnlockMethod.objects.get(pk=pk)
    for name, value in fields.items():
        setattr(method, name, value)
    method.save()


def _start_entry(api: LockApi, method: UnlockMethod) -> str:
    lock, user = method.lock, method.lock_user
    if user is None or not user.cloud_user_id:
        _save_method(method.pk, {"status": MethodStatus.FAILED, "failure_reason": "The person left the lock."})
        return "failed"
    if method.entry_sent_at is None:
        known = [
            m.unlock_sn for m in _user_methods(api, lock, _as_cloud_user(user)) if m.unlock_type == method.unlock_type
        ]
        UnlockMethod.objects.filter(pk=method.pk).update(known_numbers=known, entry_sent_at=timezone.now())
        resent = False
    else:
        resent = True
    try:
        api.unlock_methods.enroll_unlock_method(
            lock.device_id, user_id=user.cloud_user_id, user_type=_user_type(lock), unlock_type=method.unlock_type
        )
    except TRANSIENT as error:
        _not_yet(f"enrollment {method.pk}", error)
    except TuyaError as error:
        if not (resent and error.code == 2328):  # after a lost reply, "already enrolling" is our own enrollment
            _save_method(method.pk, {"status": MethodStatus.FAILED, "failure_reason": plain(error, method.lock)[:300]})
            return "failed"

    queues.enqueue_enrollment_watch(method.pk, delay=None)
    return "enrolling"


def _as_cloud_user(user: LockUser) -> CloudUser:
    return CloudUser(user.cloud_user_id, user.name, user.role)


def _new_number(api: LockApi, method: UnlockMethod) -> CloudMethod | None:
    assert method.lock_user is not None
    found = _user_methods(api, method.lock, _as_cloud_user(method.lock_user))
    fresh = [m for m in found if m.unlock_type == method.unlock_type and m.unlock_sn not in set(method.known_numbers)]
    return max(fresh, key=lambda m: m.unlock_sn) if fresh else None


def enroll_window() -> timedelta:
    return timedelta(seconds=settings.ENROLL_WINDOW_SECONDS)


def enrolling_method_ids() -> list[int]:
    """Enrollments the lock has been asked to start and that have not ended: each needs a live watch."""
    waiting = UnlockMethod.objects.filter(status=MethodStatus.ENROLLING, entry_sent_at__isnull=False)
    return list(waiting.values_list("pk", flat=True)[:500])


def watch_enrollment(method_id: int) -> str:
    """Look in the cloud for the method being enrolled (a job, repeated until it appears or time runs out)."""
    method = UnlockMethod.objects.select_related("lock__cloud_account", "lock_user").filter(pk=method_id).first()
    if method is None or method.status != MethodStatus.ENROLLING or method.entry_sent_at is None:
        return "nothing to do"
    api = cloud.api_for(method.lock.cloud_account)
    try:
        found = _new_number(api, method)
    except TRANSIENT as error:
        logger.info("enrollment %s: %s; looking again later", method.pk, error)
        found = None
    except TuyaError as error:
        _save_method(method.pk, {"status": MethodStatus.FAILED, "failure_reason": plain(error, method.lock)[:300]})
        return "failed"
    if found is not None:
        return _activate(method.pk, found)
    if timezone.now() - method.entry_sent_at > enroll_window():
        minutes = max(1, round(enroll_window().total_seconds() / 60))
        reason = f"Nobody finished the enrollment at the lock within {minutes} minute{'s' if minutes > 1 else ''}."
        _save_method(method.pk, {"status": MethodStatus.FAILED, "failure_reason": reason})
        try:
            api.unlock_methods.cancel_enrollment(method.lock.device_id, method.unlock_type)
        except TuyaError as error:
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
    method.name = (
        method.name or found.name or f"{TYPE_LABELS.get(method.unlock_type, method.unlock_type)} {found.unlock_sn}"
    )
    method.failure_reason, method.synced_at = "", timezone.now()
    if found.duress is not None:
        method.duress = found.duress
    method.save()
    return "active"


def _cancel(api: LockApi, method: UnlockMethod, change: dict[str, Any]) -> dict[str, Any]:
    api.unlock_methods.cancel_enrollment(method.lock.device_id, method.unlock_type)
    # Finished at the lock before the cancel arrived? Then it is on the lock: say so rather than hide it.
    if method.entry_sent_at is not None and method.lock_user is not None:
        found = _new_number(api, method)
        if found is not None:
            _activate(method.pk, found)
            return {"failure_reason": "The enrollment finished before the cancel reached the lock."}
    return {"status": MethodStatus.CANCELLED}


def _rename(api: LockApi, method: UnlockMethod, change: dict[str, Any]) -> dict[str, Any]:
    assert method.unlock_sn is not None
    api.unlock_methods.rename_unlock_method(
        method.lock.device_id, method.unlock_sn, dp_code=_TYPE_TO_DP[method.unlock_type], unlock_name=change["name"]
    )
    return {"name": change["name"]}


def _duress(api: LockApi, method: UnlockMethod, change: dict[str, Any]) -> dict[str, Any]:
    assert method.unlock_sn is not None
    if change["duress"]:
        api.unlock_methods.set_duress(method.lock.device_id, method.unlock_type, method.unlock_sn)
    else:
        api.unlock_methods.delete_duress(method.lock.device_id, _TYPE_TO_DP[method.unlock_type], method.unlock_sn)
    return {"duress": bool(change["duress"])}


def _assign(api: LockApi, method: UnlockMethod, change: dict[str, Any]) -> dict[str, Any]:
    assert method.unlock_sn is not None
    user = LockUser.objects.get(pk=change["lock_user"], lock_id=method.lock_id)
    if method.lock.kind in RESIDENTIAL:
        api.users.allocate_to_user(
            method.lock.device_id, user.cloud_user_id, no=method.unlock_sn, type=method.unlock_type
        )
    else:
        ref = UnlockRef(_TYPE_TO_DP[method.unlock_type], method.unlock_sn)
        api.unlock_methods.allocate_unlock_methods(method.lock.device_id, user.cloud_user_id, [ref])
    return {"lock_user": user}


def _delete(api: LockApi, method: UnlockMethod, change: dict[str, Any]) -> dict[str, Any]:
    assert method.unlock_sn is not None
    assert method.lock_user is not None
    with suppress(TuyaNotFoundError):  # already gone: a repeat after a lost reply
        api.unlock_methods.delete_unlock_key(
            method.lock.device_id,
            user_type=_user_type(method.lock),
            user_id=method.lock_user.cloud_user_id,
            unlock_type=method.unlock_type,
            unlock_no=method.unlock_sn,
        )
    return {"status": MethodStatus.DELETED}


_METHOD_STEPS: dict[str, Callable[[LockApi, UnlockMethod, dict[str, Any]], dict[str, Any]]] = {
    "cancel": _cancel,
    "rename": _rename,
    "duress": _duress,
    "assign": _assign,
    "delete": _delete,
}


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
    methods = {user.user_id: _user_methods(api, lock, user) for user in users}
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


def people(lock: Lock) -> list[LockUser]:
    """The lock's people with their methods, present ones first."""
    users = list(lock.lock_users.prefetch_related("unlock_methods").order_by("removed_at", "name", "pk"))
    return users


def unassigned_methods(lock: Lock) -> Iterable[UnlockMethod]:
    return lock.unlock_methods.filter(lock_user__isnull=True, status=MethodStatus.ACTIVE)
