"""What the app needs from a lock cloud, in the app's own terms (docs/architecture.md, "The cloud port").

`LockCloud` is the one interface; an adapter per vendor implements it (today `locks/cloud/tuya/`), and
`locks.cloud.accounts.cloud_for(account)` gives the app the one for a cloud account. Everything here is plain
Python: values are frozen dataclasses, failures are the `CloudError` family below, and no vendor's encodings
appear (days of the week are `date.weekday()` numbers, times of day minutes from midnight, moments aware
datetimes). A vendor's error code travels along for display only ("(Tuya 2001)"): the app decides on the class.

Lock kinds are the values of `locks.models.LockKind`; a lock is anything with a `device_id` and a `kind`
(`LockRef`), so a `Lock` row is passed as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

# --- errors ------------------------------------------------------------------------------------------------------


class CloudError(Exception):
    """Something went wrong with the lock cloud. `message` is the cloud's (or the adapter's) own words, `code` the
    vendor's error code if it gave one (for display), `hint` what to do next, `text` the whole line for logs."""

    def __init__(self, message: str, *, code: int | None = None, vendor: str = "", hint: str = "", text: str = ""):
        super().__init__(message)
        self.message, self.code, self.vendor, self.hint = message, code, vendor, hint
        self.text = text or message

    def __str__(self) -> str:
        return self.text

    def explained(self, hint: str | None = None) -> str:
        """'<message> (<vendor> <code>). <hint>': a failure in plain words with the vendor's code and what to do."""
        hint = self.hint if hint is None else hint
        if self.code is not None:
            return f"{self.message} ({self.vendor} {self.code}). {hint}"
        return f"{self.message}. {hint}"


class InvalidRequest(CloudError, ValueError):
    """A value was refused before anything was sent (a PIN, a window, a schedule)."""


class AccountRefused(CloudError):
    """The cloud refuses the account itself (credentials, signature, permission, subscription, or this server may
    not call its endpoint): every lock of the account fails the same way until someone fixes the account."""


class Misconfigured(CloudError):
    """The account cannot be used as set up (an unknown endpoint, missing credentials); nothing was sent."""


class EndpointRefused(AccountRefused, Misconfigured):
    """This server may not call the account's endpoint (a URL, a private address); nothing was sent. `message` is
    in words for a form field."""


class Unavailable(CloudError):
    """A passing failure: try again later (the hint says how soon). `outcome_unknown`: the call may have happened."""

    outcome_unknown = False


class RateLimited(Unavailable):
    """The cloud is limiting this account's requests; the call was not carried out."""


class TokenRefused(AccountRefused, Unavailable):
    """The account's access token was refused (expired, revoked): passing when caught as `Unavailable` first (a new
    token comes with the next call), an account refusal otherwise."""


class NoAnswer(Unavailable):
    """No usable answer (network failure, timeout, the cloud failing inside): the call may or may not have happened."""

    outcome_unknown = True


class BadReply(CloudError):
    """The endpoint answered, but not as this cloud does (an HTML page, not JSON, the wrong shape)."""


class LockOffline(CloudError):
    """The cloud could not reach the lock (or its gateway) at the moment of the call."""


class NotFound(CloudError):
    """The lock, password, person or record does not exist (any more) in the cloud."""


class PersonNotFound(NotFound):
    """The person is no longer on the lock."""


class Unsupported(CloudError):
    """This lock (kind) does not support the operation, or this version of it."""


class LockRefused(CloudError):
    """The lock refused the change (a method that is someone else's, the owner's role, a switched-off feature)."""


class LockBusy(CloudError):
    """The lock is in the middle of another operation (an enrollment under way)."""


class TooSoon(CloudError):
    """The same operation was asked for too recently (a resend through the gateway: at most once a minute)."""


class MediaUnreadable(CloudError):
    """A photo file could not be decrypted: truncated, corrupt or the wrong key."""


# --- values --------------------------------------------------------------------------------------------------------


class LockRef(Protocol):
    """A lock as the port needs it: its id in the cloud and its kind (a `locks.models.LockKind` value)."""

    @property
    def device_id(self) -> str: ...

    @property
    def kind(self) -> str: ...


PasswordState = Literal["pending", "set", "frozen", "removed", "failed"]


@dataclass(frozen=True)
class CloudPassword:
    """A temporary password as the cloud reports it, in our terms. `undelivered`: it failed because the lock (or its
    gateway) could not be reached, so resending may help; `reason` says why it failed, in words for a person."""

    password_id: int
    name: str
    state: PasswordState
    reason: str = ""
    undelivered: bool = False


@dataclass(frozen=True)
class WeeklyHours:
    """On these weekdays (0 = Monday ... 6 = Sunday), from `start_minute` to `end_minute` (0..1440) local time."""

    days: frozenset[int]
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class PasswordSpec:
    """A temporary password to create or change. `once`: it opens once; `weekly`: only in these hours of the week,
    in `time_zone` (given with a weekly schedule only)."""

    pin: str = field(repr=False)
    name: str
    starts_at: datetime
    ends_at: datetime
    once: bool = False
    time_zone: str | None = None
    weekly: WeeklyHours | None = None


OfflineKind = Literal["multiple", "once", "clear_one", "clear_all"]


@dataclass(frozen=True)
class OfflineCode:
    """A code the lock checks by itself (or a clearing code), with the validity the cloud chose (epoch seconds)."""

    pin: str = field(repr=False)
    password_id: str
    valid_from: int | None
    valid_until: int | None


SpecialPassword = Literal["admin", "emergency"]
SpecialPasswordState = Literal["pending", "set", "failed"]


@dataclass(frozen=True)
class CloudLock:
    """A lock of the account as the cloud describes it. `local_key` encrypts the lock's own traffic: not shown."""

    device_id: str
    name: str
    kind: str
    online: bool
    local_key: str = field(repr=False)
    battery: int | None = None  # percent, when the lock reports it


# Unlock method types, as the app stores them (UnlockMethod.unlock_type).
METHOD_TYPES = ("fingerprint", "password", "card", "face", "remoteControl", "hand", "finger_vein")
PersonRole = Literal["admin", "normal"]


@dataclass(frozen=True)
class CloudMethod:
    """An unlock method (a fingerprint, a card...) by type and its number on the lock."""

    unlock_type: str
    unlock_sn: int
    name: str = ""
    duress: bool | None = None  # None: this listing does not say


@dataclass(frozen=True)
class CloudPerson:
    """A person on a lock. `role`: "admin", "normal", "shared", "owner" or "" (not said); a validity (from, until)
    or None for permanent; `hours`: when in the week; `methods`: None when they must be read separately."""

    user_id: str
    name: str
    role: str = ""
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    hours: tuple[WeeklyHours, ...] = ()
    methods: tuple[CloudMethod, ...] | None = None


@dataclass(frozen=True)
class MediaRef:
    """A photo the cloud holds: a short-lived URL and the key that decrypts it (never shown or logged)."""

    file_url: str
    file_key: str = field(repr=False)


@dataclass(frozen=True)
class AlbumPhoto:
    """A photo of a lock's album: what it shows in words ("doorbell", "wrong card") and when it was taken."""

    file_url: str
    file_key: str = field(repr=False)
    label: str
    taken_at: datetime | None


@dataclass(frozen=True)
class CloudEvent:
    """One record of a lock's history. `natural_key` is the same for the same record however often it is read (the
    events store keeps it once); `code`/`value` the event in the app's vocabulary (docs/tuya-protocol.md, records);
    `raw` the record as received, without the keys that decrypt its photos (those are in `media`)."""

    natural_key: str
    code: str
    value: str
    occurred_at: datetime
    actor_name: str
    cloud_user_id: str
    raw: dict[str, Any]
    media: tuple[MediaRef, ...] = ()


@dataclass(frozen=True)
class EventPage:
    """One page of records. `received` counts what the cloud sent, `skipped` why records could not be stored (they
    are not in `events`); `total` and `has_more` are None when the cloud does not say."""

    events: tuple[CloudEvent, ...]
    received: int
    skipped: tuple[str, ...] = ()
    total: int | None = None
    has_more: bool | None = None


# --- the port --------------------------------------------------------------------------------------------------


class LockCloud(Protocol):
    """Every operation the app asks of a lock cloud. Each may raise any `CloudError`; the adapter picks the call
    that serves the lock's kind and raises `Unsupported` for what the kind cannot do."""

    # The account and its locks
    def account_user(self) -> str:
        """The account's own user id in the cloud (fetched with its access)."""
        ...

    def lock_ids(self) -> list[str]:
        """The ids of every lock of the account (other devices left out)."""
        ...

    def lock(self, device_id: str) -> CloudLock: ...

    # Temporary passwords (door codes)
    def create_password(self, lock: LockRef, spec: PasswordSpec) -> int:
        """Returns the new password's id; the lock confirms later (read_password)."""
        ...

    def modify_password(self, lock: LockRef, password_id: int, spec: PasswordSpec) -> None: ...

    def freeze_password(self, lock: LockRef, password_id: int) -> None: ...

    def unfreeze_password(self, lock: LockRef, password_id: int) -> None: ...

    def delete_password(self, lock: LockRef, password_id: int) -> None: ...

    def read_password(self, lock: LockRef, password_id: int) -> CloudPassword:
        """One password's state; state "removed" when the cloud no longer has it."""
        ...

    def list_passwords(self, lock: LockRef) -> list[CloudPassword]: ...

    def resend_passwords(self, lock: LockRef, password_id: int | None = None) -> None:
        """Ask the lock's gateway to send again passwords still on their way (`TooSoon` within a minute)."""
        ...

    def clear_passwords(self, lock: LockRef) -> None:
        """Wipe every temporary password from the lock (hotel locks)."""
        ...

    # One-off operations
    def offline_code(
        self,
        lock: LockRef,
        kind: OfflineKind,
        *,
        valid_from: int | None = None,
        valid_until: int | None = None,
        name: str | None = None,
        clears: str | None = None,
    ) -> OfflineCode: ...

    def dynamic_code(self, lock: LockRef) -> str: ...

    def set_special_password(self, lock: LockRef, which: SpecialPassword, pin: str) -> None: ...

    def special_password_state(self, lock: LockRef, which: SpecialPassword) -> SpecialPasswordState: ...

    # People and unlock methods
    def people(self, lock: LockRef) -> list[CloudPerson]: ...

    def methods_of(self, lock: LockRef, user_id: str) -> list[CloudMethod]: ...

    def unassigned_methods(self, lock: LockRef) -> list[CloudMethod]: ...

    def absent_people(self, lock: LockRef) -> set[str]:
        """People who left the home in the vendor's app but are still on the lock (video locks); empty otherwise."""
        ...

    def refresh_methods(self, lock: LockRef) -> None:
        """Ask the cloud to read the methods enrolled at the lock itself."""
        ...

    def add_person(self, lock: LockRef, name: str, sex: int) -> str:
        """Returns the new person's user id."""
        ...

    def rename_person(self, lock: LockRef, user_id: str, name: str, sex: int) -> None: ...

    def set_role(self, lock: LockRef, user_id: str, role: PersonRole) -> None: ...

    def set_validity(
        self,
        lock: LockRef,
        user_id: str,
        *,
        valid_from: datetime | None,
        valid_until: datetime | None,
        hours: Sequence[WeeklyHours],
        time_zone: str,
    ) -> None:
        """When the person may open: permanent when `valid_from` is None."""
        ...

    def remove_person(self, lock: LockRef, user_id: str) -> None: ...

    def start_enrollment(self, lock: LockRef, user_id: str, unlock_type: str) -> None: ...

    def cancel_enrollment(self, lock: LockRef, unlock_type: str) -> None: ...

    def rename_method(self, lock: LockRef, unlock_type: str, number: int, name: str) -> None: ...

    def set_duress(self, lock: LockRef, unlock_type: str, number: int, duress: bool) -> None: ...

    def assign_method(self, lock: LockRef, user_id: str, unlock_type: str, number: int) -> None: ...

    def delete_method(self, lock: LockRef, user_id: str, unlock_type: str, number: int) -> None: ...

    # History
    def unlock_page(
        self, lock: LockRef, *, since: datetime, until: datetime, page_no: int, page_size: int, compat: bool = False
    ) -> EventPage:
        """Unlock records. `compat`: the cloud's older listing, for locks that answer `Unsupported` to the current
        one (the caller retries with it)."""
        ...

    def alert_page(self, lock: LockRef, *, page_no: int, page_size: int, compat: bool = False) -> EventPage:
        """Alert records, newest first (`compat` as for unlock_page)."""
        ...

    def access_record_page(
        self, lock: LockRef, *, codes: Sequence[str], since: datetime, until: datetime, page_no: int, page_size: int
    ) -> EventPage:
        """Access-control records of these event codes."""
        ...

    # Photos
    def latest_photo(self, lock: LockRef, *, alert: bool = False) -> MediaRef | None:
        """The cover photo of the last remote-unlock request (or alert) of the last minutes, if any."""
        ...

    def album(self, lock: LockRef) -> list[AlbumPhoto]: ...

    def media_views(self, lock: LockRef) -> int: ...

    def add_media_view(self, lock: LockRef) -> int: ...

    def decrypt_media(self, encrypted: bytes, file_key: str) -> bytes:
        """A downloaded photo file, decrypted (`MediaUnreadable` otherwise)."""
        ...

    # Remote unlocking
    def remote_unlock_allowed(self, lock: LockRef) -> bool:
        """Whether the lock's owner allows opening without a password (True when the lock does not say)."""
        ...

    def open_door(self, lock: LockRef) -> bool:
        """Open without a password; True only when the cloud says the door opened."""
        ...

    def refuse_remote_unlock(self, lock: LockRef) -> None:
        """Tell a lock waiting for an answer that the request was refused."""
        ...


def find_by_marker(cloud: LockCloud, lock: LockRef, marker: str) -> CloudPassword | None:
    """The live password whose name ends with our operation marker: a create whose reply we never got."""
    for password in cloud.list_passwords(lock):
        if password.name.endswith(marker) and password.state != "removed":
            return password
    return None


# --- push messages (what the cloud tells us without being asked) --------------------------------------------------


@dataclass(frozen=True)
class OnlineChange:
    """The lock went online or offline at `at`."""

    device_id: str
    online: bool
    at: datetime | None


@dataclass(frozen=True)
class StatusChange:
    """The lock reported these event codes (an unlock, an alarm, the doorbell) and perhaps its battery (percent)."""

    device_id: str
    codes: frozenset[str]
    battery: int | None = None


@dataclass(frozen=True)
class EnrollmentProgress:
    """An enrollment at the lock moved: `steps_left` of `steps_total` (None when not said), or was cancelled there."""

    device_id: str
    steps_total: int | None
    steps_left: int | None
    cancelled: bool = False
