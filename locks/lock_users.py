"""People on a lock (lock users): what each lock kind can do, the business writes and the worker side.

Services (called by views) check what the lock kind can do, write the wish on the row (`pending`), audit it and
enqueue a job after commit. The job (locks/jobs.py) calls `push_user` here, which talks to the cloud and records
the outcome on the row: the cloud's answer, or a failure in plain words. Which endpoint serves which lock kind
follows the spec's "Applicable lock types"; a kind that cannot do something is told so before anything is sent.

The cloud is the port (locks/cloud/port.py), in the app's words: unlock methods by type ("fingerprint", "card"),
roles "admin" and "normal", weekly hours as weekdays; Tuya's DP codes, user types and working_day bitmask stay in
its adapter. Their unlock methods live in locks/unlock_methods.py (enrolling one at the lock in locks/enrollment.py),
reading people and methods from the cloud in locks/user_sync.py; those import this module (what a kind can do, the
type names, errors in plain words), never the other way.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from audit.services import audit
from locks import queues, words
from locks.cloud import port
from locks.cloud.accounts import cloud_for
from locks.cloud.port import CloudError, LockCloud, WeeklyHours
from locks.failures import said, unreachable
from locks.models import NO_FAILURE, UNLOCK_TYPE_LABELS, Lock, LockKind, LockUser, UnlockMethod, failed
from locks.words import Words
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
    "add_user": gettext_lazy(
        "This kind of lock takes its people from the owner's home in the Tuya app: add them there, "
        "then use “Sync from the cloud”."
    ),
    "modify_user": gettext_lazy("This kind of lock does not let the cloud change its people."),
    "delete_user": gettext_lazy(
        "This kind of lock does not let the cloud remove its people: remove them from the home in "
        "the Tuya app, then sync."
    ),
    "role": gettext_lazy("Only access-control devices have roles."),
    "schedule": gettext_lazy(
        "Only access-control devices and keepalive Wi-Fi locks keep a validity period per person."
    ),
    "enroll": gettext_lazy("This kind of lock cannot enroll fingerprints or cards through the cloud."),
    "cancel": gettext_lazy("This kind of lock cannot cancel an enrollment through the cloud."),
    "delete_method": gettext_lazy(
        "This kind of lock does not let the cloud delete its unlock methods: delete it at the lock."
    ),
    "rename": gettext_lazy("This kind of lock keeps no names for its unlock methods."),
    "duress": gettext_lazy("Only Wi-Fi, Zigbee and Bluetooth locks can mark a method as duress."),
    "assign": gettext_lazy("This kind of lock does not let the cloud assign methods to people."),
    "unassigned": gettext_lazy("This kind of lock does not list unassigned methods."),
    "sync": gettext_lazy("This kind of lock has no people or unlock methods in the cloud."),
}

# What can be enrolled, by our unlock type names (port.METHOD_TYPES); a password is typed at the lock twice.
ENROLL_TYPES = [(kind, UNLOCK_TYPE_LABELS[kind]) for kind in ("fingerprint", "card", "face", "password")]


def type_name(unlock_type: str) -> str:
    """The kind of unlock method in English, for the audit trail and the names made for methods found on a lock."""
    with translation.override("en"):
        return str(UNLOCK_TYPE_LABELS.get(unlock_type, unlock_type))


USER_ROLES = [("normal", gettext_lazy("Common user")), ("admin", gettext_lazy("Administrator"))]


def can(lock: Lock, operation: str) -> bool:
    return lock.kind in CAN[operation]


def require(lock: Lock, operation: str) -> None:
    """Refuse in plain words, before anything is sent, what this lock kind cannot do."""
    if not can(lock, operation):
        raise ValidationError(REFUSALS[operation])


# --- the schedule of a person (access-control and keepalive devices) ----------------------------------------


# LockUser.schedule (and a pending change's "schedule") keeps each window as {"days", "start_minute",
# "end_minute"}: the days as sorted date.weekday() numbers (0 = Monday), as the port's WeeklyHours; rows stored
# before as Tuya's working_day bitmask were converted by migration 0015. A window of no days (a cloud's 0) is shown
# and sent back as every day.


def stored_window(hours: WeeklyHours) -> dict[str, Any]:
    return {"days": sorted(hours.days), "start_minute": hours.start_minute, "end_minute": hours.end_minute}


def weekly_hours(window: dict[str, Any]) -> WeeklyHours:
    return WeeklyHours(frozenset(window["days"]), window["start_minute"], window["end_minute"])


@dataclass(frozen=True)
class Validity:
    """When a person may open: between two moments (None = permanent), on weekdays between two minutes."""

    valid_from: datetime | None
    valid_until: datetime | None
    days: frozenset[int] = frozenset()  # 0 = Monday ... 6 = Sunday; none: every day
    start_minute: int = 0
    end_minute: int = 1440

    def __post_init__(self) -> None:
        if (self.valid_from is None) != (self.valid_until is None):
            raise ValidationError(
                {"valid_until": gettext("Give both ends of the validity, or neither for permanent access.")}
            )
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValidationError({"valid_until": gettext("The validity must end after it starts.")})
        if not 0 <= self.start_minute < self.end_minute <= 1440:
            raise ValidationError({"end_time": gettext("The end time must be after the start time on the same day.")})
        if not self.days <= frozenset(range(7)):
            raise ValidationError({"days": gettext("A weekday is 0 (Monday) to 6 (Sunday).")})

    def schedule(self) -> list[dict[str, Any]]:
        if not self.days and (self.start_minute, self.end_minute) == (0, 1440):
            return []
        return [stored_window(WeeklyHours(self.days or frozenset(range(7)), self.start_minute, self.end_minute))]


# --- services: people -------------------------------------------------------------------------------------


def _live(lock_user: LockUser) -> None:
    if lock_user.removed_at is not None:
        raise ValidationError(gettext("This person is no longer on the lock."))
    if lock_user.pending:
        raise ValidationError(gettext("A change to this person is still on its way to the lock; wait a moment."))


@transaction.atomic
def add_lock_user(*, lock: Lock, name: str, sex: int = 1, actor: Actor = None, ip: str | None = None) -> LockUser:
    """Add a person to the lock (a device user); the cloud hears about it after commit."""
    require(lock, "add_user")
    name = name.strip()
    if not name:
        raise ValidationError({"name": gettext("Give the person a name.")})
    if sex not in (1, 2):
        raise ValidationError({"sex": gettext("Choose one.")})
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
            raise ValidationError({"name": gettext("Give the person a name.")})
        change.update(name=name.strip()[:100], sex=sex if sex in (1, 2) else 1)
    if role is not None and role != lock_user.role:
        require(lock, "role")
        if role not in dict(USER_ROLES):
            raise ValidationError({"role": gettext("Choose administrator or common user.")})
        if lock_user.role == "owner":
            raise ValidationError({"role": gettext("The owner's role cannot change.")})
        change["role"] = role
    if validity is not None:
        require(lock, "schedule")
        if lock_user.role == "owner":
            raise ValidationError({"valid_from": gettext("The owner is always allowed in.")})
        change.update(
            valid_from=validity.valid_from.isoformat() if validity.valid_from else None,
            valid_until=validity.valid_until.isoformat() if validity.valid_until else None,
            schedule=validity.schedule(),
        )
    if len(change) == 1:
        raise ValidationError(gettext("Nothing to change."))
    lock_user.pending = change
    lock_user.note_failure(None)
    lock_user.save(update_fields=["pending", "failure_reason", "failure_words"])
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
        raise ValidationError(gettext("Only people who left the home in the Tuya app can be removed from this lock."))
    if lock_user.pending.get("action") == "delete":
        return lock_user
    if lock_user.removed_at is not None and lock.kind != LockKind.WIFI_VIDEO:
        raise ValidationError(gettext("This person is no longer on the lock."))
    lock_user.pending = {"action": "delete"}
    lock_user.note_failure(None)
    lock_user.save(update_fields=["pending", "failure_reason", "failure_words"])
    audit("lockuser.delete", actor=actor, organisation=lock.organisation, obj=lock_user, summary=lock_user.name, ip=ip)
    _after_commit_user(lock_user)
    return lock_user


def _after_commit_user(lock_user: LockUser) -> None:
    transaction.on_commit(lambda: queues.enqueue_lock_user(lock_user.pk))


# --- the worker side: jobs call these ---------------------------------------------------------------------------


# What a refusal of the lock means for people and methods (the vendor's code follows, for support).
PLAIN: tuple[tuple[type[CloudError], str], ...] = (
    (
        port.LockBusy,
        gettext_noop("The lock is busy with another enrollment: finish or cancel it at the lock, then try again."),
    ),
    (
        port.LockRefused,
        gettext_noop(
            "The lock refused this change (the method may belong to someone else, or the owner cannot change)."
        ),
    ),
    (port.PersonNotFound, gettext_noop("This person is no longer on the lock; sync from the cloud to see who is.")),
)


def plain(error: CloudError, lock: Lock | None = None) -> Words:
    """A cloud error in plain words and what to do about it (for the lock's real state, if given)."""
    if isinstance(error, port.LockOffline):
        offline = gettext_noop("The lock is offline: check its power and connection, then try again.")
        return unreachable(lock, offline)
    for cls, meaning in PLAIN:
        if isinstance(error, cls):
            if error.code is None:
                return Words(meaning)
            return Words(
                "%(meaning)s (%(vendor)s %(code)s)",
                {"meaning": Words(meaning), "vendor": error.vendor, "code": error.code},
            )
    return said(error)


def retrying(error: CloudError, lock: Lock | None) -> dict[str, Any]:
    """The failure columns while a job's retry is on its way: the reason, and that it is tried again."""
    return failed(words.joined([plain(error, lock), Words(gettext_noop("Retrying."))]))


def not_yet(what: str, error: CloudError) -> None:
    """A transient failure: say so on the row's caller and let the job's retry try again."""
    logger.info("%s: %s; retrying", what, error)
    raise error


def push_user(lock_user_id: int) -> str:
    """Send a person's pending change to the cloud (a job). Safe to run twice: nothing pending, nothing sent."""
    user = LockUser.objects.select_related("lock__cloud_account").filter(pk=lock_user_id).first()
    if user is None or not user.pending:
        return "nothing to do"
    lock, change = user.lock, dict(user.pending)
    cloud = cloud_for(lock.cloud_account)
    fields: dict[str, Any] = {"pending": {}, **NO_FAILURE}
    try:
        if change["action"] == "add":
            fields["cloud_user_id"] = _add_user(cloud, user, change)
            fields["synced_at"] = timezone.now()
        elif change["action"] == "modify":
            fields.update(_modify_user(cloud, user, change))
        elif change["action"] == "delete":
            _delete_user(cloud, user)
            fields["removed_at"] = timezone.now()
    except port.Unavailable as error:
        LockUser.objects.filter(pk=user.pk).update(**retrying(error, user.lock))
        not_yet(f"lock user {user.pk}", error)
    except CloudError as error:
        fields = {"pending": {}, **failed(plain(error, user.lock))}
        if change["action"] == "add":
            fields["removed_at"] = timezone.now()  # never reached the lock
    LockUser.objects.filter(pk=user.pk).update(**fields)
    if fields.get("removed_at") and change["action"] == "delete":
        # The lock keeps the person's fingerprints and cards, unassigned.
        user.unlock_methods.exclude(status=MethodStatus.DELETED).update(lock_user=None)
    return "failed" if fields.get("failure_reason") else "done"


def _add_user(cloud: LockCloud, user: LockUser, change: dict[str, Any]) -> str:
    if user.sent_at is not None:
        # Sent before and the reply was lost? The add is not repeatable: adopt the user it made, if any.
        taken = set(
            LockUser.objects.filter(lock=user.lock).exclude(cloud_user_id="").values_list("cloud_user_id", flat=True)
        )
        for found in cloud.people(user.lock):
            if found.name == user.name and found.user_id not in taken:
                return found.user_id
    LockUser.objects.filter(pk=user.pk).update(sent_at=timezone.now())
    return cloud.add_person(user.lock, user.name, change.get("sex", 1))


def _modify_user(cloud: LockCloud, user: LockUser, change: dict[str, Any]) -> dict[str, Any]:
    lock, fields = user.lock, {}
    if "name" in change:
        cloud.rename_person(lock, user.cloud_user_id, change["name"], change.get("sex", 1))
        fields["name"] = change["name"]
    if "role" in change:
        cloud.set_role(lock, user.cloud_user_id, change["role"])
        fields["role"] = change["role"]
    if "schedule" in change:
        valid_from = datetime.fromisoformat(change["valid_from"]) if change["valid_from"] else None
        valid_until = datetime.fromisoformat(change["valid_until"]) if change["valid_until"] else None
        cloud.set_validity(
            lock,
            user.cloud_user_id,
            valid_from=valid_from,
            valid_until=valid_until,
            hours=[weekly_hours(w) for w in change["schedule"]],
            time_zone=lock.time_zone,
        )
        fields.update(valid_from=valid_from, valid_until=valid_until, schedule=change["schedule"])
    return fields


def _delete_user(cloud: LockCloud, user: LockUser) -> None:
    if not user.cloud_user_id:
        return
    with suppress(port.NotFound):  # already gone: a repeat after a lost reply
        cloud.remove_person(user.lock, user.cloud_user_id)
