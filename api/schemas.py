"""What the API reads and writes: pydantic models that validate requests and write the OpenAPI document.

Outputs are built from rows by the `*_out` functions in the route modules; inputs forbid unknown fields, and every
time must carry its UTC offset (naive times are refused: a PMS in another zone than the property must say which).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, ConfigDict, Field


def _email(value: str) -> str:
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise ValueError("Enter a valid e-mail address, or leave it empty.") from None
    return value


Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


# --- places -------------------------------------------------------------------------------------------------


class PropertyOut(Schema):
    id: int
    name: str
    kind: Literal["hotel", "rental"]
    address: str
    time_zone: str = Field(description="IANA name; codes and stays of the property are in this zone.")


class UnitOut(Schema):
    id: int
    property_id: int
    name: str


class LockSupports(Schema):
    freeze: bool = Field(description="Codes can be frozen and unfrozen (Zigbee locks).")
    change_pin: bool = Field(description="A code's PIN can be changed in place (not Bluetooth locks).")
    pin_length: int


class LockOut(Schema):
    id: int
    name: str
    kind: str = Field(description="wifi, zigbee, ble, ble_gateway, zigbee_hotel, wifi_keepalive, wifi_video, ...")
    unit_id: int | None
    property_id: int | None
    online: bool
    battery: int | None = Field(description="Percent, when the lock reports it.")
    last_seen_at: datetime | None
    supports: LockSupports


# --- door codes ---------------------------------------------------------------------------------------------

CodeStatus = Literal["requested", "sending", "set", "failed", "frozen", "removing", "removed", "expired", "unknown"]


class WeeklyScheduleSchema(Schema):
    days: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        description="Weekdays, 0 = Monday … 6 = Sunday.", min_length=1
    )
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Local time of day, HH:MM.")
    end: str = Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$", description="HH:MM, after start; 24:00 = midnight.")


class AccessCodeOut(Schema):
    id: int
    lock_id: int
    stay_id: int | None
    guest_id: int | None
    label: str
    kind: Literal["window", "weekly", "once"]
    status: CodeStatus = Field(description="What the lock is known to have; `set` once the cloud confirmed it.")
    desired: Literal["active", "frozen", "removed"]
    settled: bool = Field(description="Nothing more will happen without someone acting.")
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    schedule: WeeklyScheduleSchema | None
    failure_reason: str
    version: int = Field(description="Changes with every change; send it back to refuse acting on a stale view.")
    created_at: datetime


class CodeIn(Input):
    lock: int
    label: str = Field(min_length=1, max_length=100)
    kind: Literal["window", "weekly", "once"] = "window"
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    schedule: WeeklyScheduleSchema | None = Field(default=None, description="Required for kind weekly.")
    pin: str | None = Field(default=None, description="Leave out for a random PIN of the lock's length.")
    guest: int | None = None


class CodeChange(Input):
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    pin: str | None = None
    version: int | None = Field(default=None, description="Refuse (409) if the code changed since this version.")


class VersionIn(Input):
    version: int | None = None


class PinOut(Schema):
    id: int
    pin: str


# --- stays --------------------------------------------------------------------------------------------------


class GuestIn(Input):
    name: str = Field(min_length=1, max_length=200)
    email: Email = ""
    phone: str = Field(default="", max_length=40)
    language: Literal["", "en", "nl", "de", "es", "fr"] = Field(
        default="", description="The guest's messages, page and slip in this language; blank: the property's."
    )


class GuestOut(Schema):
    id: int
    name: str
    email: str
    phone: str
    language: str


StayStatus = Literal["booked", "checked_in", "checked_out", "cancelled"]
CodesStatus = Literal["none", "pending", "set", "failed", "removing", "removed"]


class StayOut(Schema):
    id: int
    unit_id: int
    property_id: int
    guest: GuestOut
    kind: Literal["hotel", "long_term"]
    status: StayStatus
    check_in: datetime
    check_out: datetime
    codes_status: CodesStatus = Field(
        description="All the stay's codes together: `set` once every one is confirmed on its lock, `failed` if one "
        "failed, `pending` while one is on its way (`access_code.set` and `access_code.failed` webhooks say when)."
    )
    access_codes: list[AccessCodeOut]
    created_at: datetime


class StayIn(Input):
    unit: int
    guest: GuestIn
    check_in: AwareDatetime
    check_out: AwareDatetime
    kind: Literal["hotel", "long_term"] = "hotel"


class StayChange(Input):
    check_in: AwareDatetime | None = None
    check_out: AwareDatetime | None = None
    unit: int | None = Field(default=None, description="Move the stay to this unit: its codes follow.")


# --- pages --------------------------------------------------------------------------------------------------


class Page(Schema):
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")


class PropertyPage(Page):
    items: list[PropertyOut]


class UnitPage(Page):
    items: list[UnitOut]


class LockPage(Page):
    items: list[LockOut]


class StayPage(Page):
    items: list[StayOut]


class AccessCodePage(Page):
    items: list[AccessCodeOut]
