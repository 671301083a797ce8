"""What each webhook event says: its `data` as a pydantic model (the public API puts these schemas into its OpenAPI
document), and the functions that build them from the rows.

Ids and the fields a receiver needs to act, nothing more: never a PIN, a secret or a photo. The envelope is the
Standard Webhooks one, `{"type", "timestamp", "data"}` (`envelope`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from locks.models import AccessCode, Alert, Lock, LockEvent, RemoteUnlockRequest
from tenants.models import Stay


class Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StayData(Data):
    id: int
    status: Literal["booked", "checked_in", "checked_out", "cancelled"]
    kind: Literal["hotel", "long_term"]
    check_in: datetime
    check_out: datetime
    unit_id: int
    unit_name: str
    property_id: int
    guest_id: int
    guest_name: str
    guest_email: str


class AccessCodeData(Data):
    id: int
    lock_id: int
    stay_id: int | None
    guest_id: int | None
    label: str
    kind: Literal["window", "weekly", "once"]
    status: str
    starts_at: datetime
    ends_at: datetime
    failure_reason: str | None = None  # access_code.failed only


class UnlockData(Data):
    event_id: int
    lock_id: int
    at: datetime
    method: str  # as the lock reported it: "temporary code", "fingerprint", "card", "app", ...
    access_code_id: int | None
    guest_id: int | None
    guest_name: str | None
    stay_id: int | None


class AlertData(Data):
    id: int
    lock_id: int | None  # none: the alert is about a cloud account, not one lock
    kind: str
    message: str
    at: datetime


class LockStateData(Data):
    lock_id: int
    lock_name: str
    at: datetime


class RemoteUnlockData(Data):
    id: int
    lock_id: int
    at: datetime
    expires: datetime  # the lock stops waiting for an answer then


# Every event type and the model of its `data`; the order is the dashboard's.
EVENT_TYPES: dict[str, type[Data]] = {
    "stay.created": StayData,
    "stay.changed": StayData,
    "stay.checked_in": StayData,
    "stay.checked_out": StayData,
    "stay.cancelled": StayData,
    "access_code.set": AccessCodeData,
    "access_code.failed": AccessCodeData,
    "access_code.removed": AccessCodeData,
    "lock.unlocked": UnlockData,
    "lock.alert": AlertData,
    "lock.offline": LockStateData,
    "lock.online": LockStateData,
    "remote_unlock.requested": RemoteUnlockData,
}
ALL_TYPES: tuple[str, ...] = tuple(EVENT_TYPES)


def stay(row: Stay) -> StayData:
    unit, guest = row.unit, row.guest
    return StayData(
        id=row.pk,
        status=row.status,  # type: ignore[arg-type]  # one of Stay.Status, the Literal's values
        kind=row.kind,  # type: ignore[arg-type]
        check_in=row.check_in,
        check_out=row.check_out,
        unit_id=unit.pk,
        unit_name=unit.name,
        property_id=unit.property_id,
        guest_id=guest.pk,
        guest_name=guest.name,
        guest_email=guest.email,
    )


def access_code(row: AccessCode, *, failed: bool = False) -> AccessCodeData:
    return AccessCodeData(
        id=row.pk,
        lock_id=row.lock_id,
        stay_id=row.stay_id,
        guest_id=row.guest_id,
        label=row.label,
        kind=row.kind,  # type: ignore[arg-type]
        status=row.status,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        failure_reason=row.failure_reason if failed else None,
    )


def unlock(event: LockEvent) -> UnlockData:
    guest = event.guest
    return UnlockData(
        event_id=event.pk,
        lock_id=event.lock_id,
        at=event.occurred_at,
        method=event.classification or event.dp_code,
        access_code_id=event.access_code_id,
        guest_id=event.guest_id,
        guest_name=guest.name if guest is not None else None,
        stay_id=event.stay_id,
    )


def alert(row: Alert) -> AlertData:
    return AlertData(id=row.pk, lock_id=row.lock_id, kind=row.kind, message=row.english_text, at=row.first_seen_at)


def lock_state(lock: Lock, at: datetime) -> LockStateData:
    return LockStateData(lock_id=lock.pk, lock_name=lock.name, at=at)


def remote_unlock(request: RemoteUnlockRequest, expires: datetime) -> RemoteUnlockData:
    return RemoteUnlockData(id=request.pk, lock_id=request.lock_id, at=request.requested_at, expires=expires)


def envelope(event_type: str, timestamp: datetime, data: Data) -> dict[str, object]:
    """The Standard Webhooks payload: type, when it happened (ISO 8601 with its offset) and the data."""
    return {"type": event_type, "timestamp": timestamp.isoformat(), "data": data.model_dump(mode="json")}
