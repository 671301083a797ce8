"""People on a lock (lock users): what each lock kind can do, the business writes and the worker side.

Services (called by views) check what the lock kind can do, write the wish on the row (`pending`), audit it and
enqueue a job after commit. The job (locks/jobs.py) calls `push_user` here, which talks to the cloud and records
the outcome on the row: the cloud's answer, or a failure in plain words. Which endpoint serves which lock kind
follows the spec's "Applicable lock types"; a kind that cannot do something is told so before anything is sent.

Their unlock methods live in locks/unlock_methods.py (enrolling one at the lock in locks/enrollment.py), reading
people and methods from the cloud in locks/user_sync.py; those import this module (what a kind can do, the type
names, errors in plain words), never the other way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit
from locks import queues
from locks.cloud.tuya import client as cloud
from locks.cloud.tuya.errors import translate
from locks.failures import explain, unreachable
from locks.models import Lock, LockKind, LockUser, UnlockMethod
from locks.tuya import (
    TuyaDeviceOfflineError,
    TuyaError,
    TuyaNetworkError,
    TuyaNotFoundError,
    TuyaRateLimitedError,
    TuyaServerError,
    TuyaTokenError,
)
from locks.tuya.api import KeyUserType, LockApi, Role, ScheduleWindow, UnlockDpCode
from tenants.models import Actor

logger = logging.getLogger(__name__)

# Until this module and unlock_methods/enrollment are on the port (tests/test_architecture.py lists them), they
# catch the client's errors: failures.TRANSIENT as the client's classes (timeouts are network errors).
TRANSIENT = (TuyaRateLimitedError, TuyaServerError, TuyaNetworkError, TuyaTokenError)

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
TYPE_TO_DP = {
    "fingerprint": UnlockDpCode.FINGERPRINT,
    "password": UnlockDpCode.PASSWORD,
    "card": UnlockDpCode.CARD,
    "face": UnlockDpCode.FACE,
    "remoteControl": UnlockDpCode.TELECONTROL_KIT,
    "hand": UnlockDpCode.HAND,
    "finger_vein": UnlockDpCode.FINGER_VEIN,
}
DP_TO_TYPE = {dp.value: short for short, dp in TYPE_TO_DP.items()}  # also what the events sync links by
ROLE_NAMES = {10: "admin", 20: "normal", 40: "shared", 50: "owner"}
USER_ROLES = [("normal", "Common user"), ("admin", "Administrator")]


def can(lock: Lock, operation: str) -> bool:
    return lock.kind in CAN[operation]


def require(lock: Lock, operation: str) -> None:
    """Refuse in plain words, before anything is sent, what this lock kind cannot do."""
    if not can(lock, operation):
        raise ValidationError(REFUSALS[operation])


def type_of(dp_code_or_type: str) -> str:
    """Our unlock type name ("fingerprint") from a DP code ("unlock_fingerprint") or a type name."""
    return DP_TO_TYPE.get(dp_code_or_type, dp_code_or_type)


def user_type(lock: Lock) -> KeyUserType:
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
    require(lock, "add_user")
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
    require(lock, "modify_user")
    _live(lock_user)
    change: dict[str, Any] = {"action": "modify"}
    if name is not None and lock.kind in RESIDENTIAL:
        if not name.strip():
            raise ValidationError({"name": "Give the person a name."})
        change.update(name=name.strip()[:100], sex=sex if sex in (1, 2) else 1)
    if role is not None and role != lock_user.role:
        require(lock, "role")
        if role not in dict(USER_ROLES):
            raise ValidationError({"role": "Choose administrator or common user."})
        if lock_user.role == "owner":
            raise ValidationError({"role": "The owner's role cannot change."})
        change["role"] = role
    if validity is not None:
        require(lock, "schedule")
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
    require(lock, "delete_user")
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
    return explain(translate(error), lock)


def not_yet(what: str, error: TuyaError) -> None:
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
        not_yet(f"lock user {user.pk}", error)
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


def people(lock: Lock) -> list[LockUser]:
    """The lock's people with their methods, present ones first."""
    users = list(lock.lock_users.prefetch_related("unlock_methods").order_by("removed_at", "name", "pk"))
    return users
