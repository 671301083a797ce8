"""What the API answers about the doors' activity: events and their photos, alerts, remote-unlock requests, and
one-off lock operations (offline and dynamic passwords). Beside `api/schemas.py`, in the same style."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import AwareDatetime, Field

from api.schemas import Input, Page

# --- events and their photos --------------------------------------------------------------------------------


class PhotoOut(Schema):
    id: int
    status: Literal["pending", "done", "failed"] = Field(
        description="`pending` while it is fetched and decrypted, `done` once it can be had, `failed` if it never can."
    )
    url: str | None = Field(
        description="The decrypted image: GET it with the API key (scope read). Null until `status` is done."
    )
    thumbnail_url: str | None = Field(description="A JPEG at most 320 px wide, as `url`.")


class EventWho(Schema):
    access_code_id: int | None = Field(description="The door code that opened, when it was one of ours.")
    stay_id: int | None
    guest_id: int | None
    guest_name: str | None
    actor_name: str = Field(description="The name the lock's cloud gave (a person on the lock, an app user), or empty.")


class EventOut(Schema):
    id: int
    lock_id: int
    unit_id: int | None = Field(description="The unit the lock is on now.")
    property_id: int | None
    category: Literal["unlock", "alarm"]
    classification: str = Field(
        description="What happened, in words: fingerprint, temporary code, wrong code, pry, duress, doorbell, ..."
    )
    occurred_at: datetime
    who: EventWho
    photos: list[PhotoOut]


class EventPage(Page):
    items: list[EventOut]
    next_cursor: str | None = Field(
        description="Given on every page with events (and echoed when nothing is new): the feed's place. Pass it as "
        "`cursor` for the next page now, or later to get the events stored since, however late a lock's records "
        "arrived (ids follow the order events were stored in). Null only when there is nothing at all yet."
    )


# --- alerts -------------------------------------------------------------------------------------------------

AlertKind = Literal[
    "wrong_code_burst",
    "tamper",
    "duress",
    "low_battery",
    "offline",
    "code_not_set",
    "code_not_removed",
    "cloud_refused",
    "events_behind",
    "doorbell",
    # raised by bookings: calendar feeds, the arrival guarantee, the guest page
    "feed_failing",
    "double_booking",
    "stay_attention",
    "arrival_at_risk",
    "door_not_open",
]


class AlertOut(Schema):
    id: int
    lock_id: int | None = Field(description="Null for an alert about the organisation (a refused cloud account).")
    kind: AlertKind
    message: str
    count: int = Field(description="How often the incident happened while the alert was open.")
    event_id: int | None
    first_seen_at: datetime
    last_seen_at: datetime
    open: bool = Field(description="Not resolved yet (an event's alert is resolved when acknowledged).")
    resolved_at: datetime | None
    acknowledged_at: datetime | None


class AlertPage(Page):
    items: list[AlertOut]


# --- remote-unlock requests ---------------------------------------------------------------------------------

RemoteUnlockStatus = Literal["pending", "approving", "approved", "rejected", "expired", "failed"]


class RemoteUnlockRequestOut(Schema):
    id: int
    lock_id: int
    status: RemoteUnlockStatus = Field(
        description="`pending` until answered or `answer_by`; after approve `approving`, then `approved` once the "
        "cloud says the door opened, or `failed` (see `failure_reason`)."
    )
    requested_at: datetime
    answer_by: datetime = Field(description="The lock stops waiting then: a later approve cannot open the door.")
    decided_at: datetime | None
    failure_reason: str
    event_id: int | None = Field(description="The doorbell event; null for a door opened without a ring.")
    photos: list[PhotoOut] = Field(description="What the lock's camera saw when someone rang.")


class RemoteUnlockRequestPage(Page):
    items: list[RemoteUnlockRequestOut]


# --- one-off lock operations --------------------------------------------------------------------------------

OfflineKind = Literal["multiple", "once", "clear_one", "clear_all"]
OperationStatus = Literal["requested", "running", "done", "failed"]


class LockOperationOut(Schema):
    id: int
    lock_id: int
    kind: Literal["offline", "dynamic", "advanced", "clear_all", "sync"]
    offline_kind: OfflineKind | None = Field(description="For an offline code: which kind.")
    label: str
    status: OperationStatus = Field(description="`done` once the cloud gave the code: then reveal it.")
    valid_from: datetime | None = Field(
        description="When the code works, as the lock will honour it (whole hours for offline codes); null if unknown."
    )
    valid_until: datetime | None
    has_code: bool = Field(description="A code is ready to reveal (POST .../reveal, scope reveal-pins).")
    failure_reason: str
    created_at: datetime
    finished_at: datetime | None


class LockOperationPage(Page):
    items: list[LockOperationOut]


class OfflineCodeIn(Input):
    kind: OfflineKind = Field(
        description="`multiple`: works any number of times between starts_at and ends_at; `once`: one opening "
        "within 6 hours; `clear_one`: a code that, typed on the lock, cancels the offline code `clears`; "
        "`clear_all`: one that cancels every offline code of the lock."
    )
    label: str = Field(default="", max_length=100)
    starts_at: AwareDatetime | None = Field(default=None, description="For multiple: rounded down to the hour.")
    ends_at: AwareDatetime | None = Field(default=None, description="For multiple: rounded down to the hour.")
    clears: int | None = Field(default=None, description="For clear_one: the id of the offline code's operation.")


class CodeOut(Schema):
    id: int = Field(description="The operation's id.")
    code: str
