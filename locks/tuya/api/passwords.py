"""Temporary passwords: tickets, create, sync, query, modify, freeze, delete, clear, advanced passwords."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from .. import crypto
from ..schedule import ScheduleEntry
from ._base import (
    MAX_PAGE_SIZE,
    Ack,
    ApiGroup,
    Items,
    LockKind,
    Page,
    PasswordUse,
    Route,
    ScheduleWindow,
    as_dict,
    as_list,
    endpoint,
    invalid,
    optional_text,
    page_from,
    pick,
    require_bool,
    require_enum,
    require_id,
    require_int,
    require_pin,
    require_text,
    require_window,
    result_of,
    schedule_list,
    schedule_windows,
    to_int,
    to_opt_int,
    to_str,
)

Timestamp = int | datetime

TICKET = Route("POST", "/v1.0/devices/{device_id}/door-lock/password-ticket")
SMART_LOCK_TICKET = Route("POST", "/v1.0/smart-lock/devices/{device_id}/password-ticket")
TEMP_PASSWORD_CREATE = Route("POST", "/v1.0/devices/{device_id}/door-lock/temp-password")
TEMP_PASSWORD_CREATE_V2 = Route("POST", "/v2.0/devices/{device_id}/door-lock/temp-password")
ISSUE_PASSWORD = Route("POST", "/v1.0/devices/{device_id}/door-lock/issue-password")
TEMP_PASSWORD_GET = Route("GET", "/v1.0/devices/{device_id}/door-lock/temp-password/{password_id}")
TEMP_PASSWORD_LIST = Route("GET", "/v1.0/devices/{device_id}/door-lock/temp-passwords")
KEEPALIVE_LIST = Route("GET", "/v1.0/smart-lock/devices/{device_id}/stand-by-lock-temp-passwords")
TEMP_PASSWORD_MODIFY = Route("PUT", "/v1.0/devices/{device_id}/door-lock/temp-passwords/{password_id}/modify-password")
TEMP_PASSWORD_FREEZE = Route("PUT", "/v1.0/devices/{device_id}/door-lock/temp-passwords/{password_id}/freeze-password")
TEMP_PASSWORD_UNFREEZE = Route(
    "PUT", "/v1.0/devices/{device_id}/door-lock/temp-passwords/{password_id}/unfreeze-password"
)
TEMP_PASSWORD_DELETE = Route("DELETE", "/v1.0/devices/{device_id}/door-lock/temp-passwords/{password_id}")
TEMP_PASSWORD_CLEAR = Route("POST", "/v1.0/devices/{device_id}/door-lock/temp-passwords/rest-password")
ADVANCED_PASSWORD_SET = Route("POST", "/v1.0/devices/{device_id}/door-lock/advanced-password")
ADVANCED_PASSWORD_GET = Route("GET", "/v1.0/devices/{device_id}/door-lock/advanced-password")

# Advanced passwords belong to the Zigbee hotel lock; the spec says six digits.
ADVANCED_PIN_LENGTH = 6


class AdvancedType(str, Enum):
    ADMIN = "admin"
    EMERGENCY = "emergency"


@dataclass(frozen=True)
class PasswordTicket:
    """A temporary key for password encryption; `ticket_key` is secret and stays out of repr."""

    ticket_id: str
    ticket_key: str = field(repr=False)
    expire_time: int  # remaining validity, seconds
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any]) -> PasswordTicket:
        data = as_dict(result_of(envelope))
        return cls(
            ticket_id=to_str(data.get("ticket_id")),
            ticket_key=to_str(data.get("ticket_key")),
            expire_time=to_int(data.get("expire_time")),
            raw=envelope,
        )


@dataclass(frozen=True)
class CreatedPassword:
    """The id of a new temporary password; whether it reached the lock is its `delivery_status`."""

    id: int
    ticket_id: str
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class TempPassword:
    """A temporary password as the cloud describes it (never its PIN: the cloud does not return it)."""

    id: int
    name: str
    phase: int | None
    effective_time: int
    invalid_time: int
    phone: str
    time_zone: str
    delivery_status: int | None
    schedule_list: tuple[ScheduleEntry, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any], raw: dict[str, Any] | None = None) -> TempPassword:
        return cls(
            id=to_int(pick(data, "id", "password_id")),  # the list sample says password_id
            name=to_str(pick(data, "name", "Name")),
            phase=to_opt_int(data.get("phase")),
            effective_time=to_int(data.get("effective_time")),
            invalid_time=to_int(data.get("invalid_time")),
            phone=to_str(data.get("phone")),
            time_zone=to_str(data.get("time_zone")),
            delivery_status=to_opt_int(data.get("delivery_status")),
            schedule_list=tuple(ScheduleEntry.from_api(as_dict(item)) for item in as_list(data.get("schedule_list"))),
            raw=data if raw is None else raw,
        )


@dataclass(frozen=True)
class KeepalivePassword:
    """A temporary password of a keepalive lock or access-control device."""

    password_id: int
    name: str
    gmt_create: int
    effective_time: int
    expired_time: int
    operate: str
    delivery_status: str
    effective_flag: int | None
    schedule_details: tuple[ScheduleWindow, ...]
    phone: str
    pwd_type_code: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> KeepalivePassword:
        return cls(
            password_id=to_int(data.get("password_id")),
            name=to_str(pick(data, "name", "Name")),
            gmt_create=to_int(data.get("gmt_create")),
            effective_time=to_int(data.get("effective_time")),
            expired_time=to_int(data.get("expired_time")),
            operate=to_str(data.get("operate")),
            delivery_status=to_str(data.get("delivery_status")),
            effective_flag=to_opt_int(data.get("effective_flag")),
            schedule_details=schedule_windows(pick(data, "schedule_details", "schedule_list")),
            phone=to_str(data.get("phone")),
            pwd_type_code=to_str(data.get("pwd_type_code")),
            raw=data,
        )


@dataclass(frozen=True)
class AdvancedPassword:
    """The configuration status of an advanced password (phase 1 configuring, 2 done, 3 failed)."""

    advanced_type: str
    phase: int | None
    raw: dict[str, Any] = field(repr=False, compare=False)


def _optional_phone(phone: object) -> str | None:
    return optional_text(phone, "phone")


# Spec section "Smart lock APIs": the password-ticket, temp-password, issue-password, advanced-password parts.
class PasswordsApi(ApiGroup):
    """Temporary and advanced passwords. PINs go out only encrypted with a ticket (docs/tuya-protocol.md, tickets)."""

    # A ticket creates nothing lasting (each call just issues a fresh short-lived key), so retrying is safe.
    @endpoint(TICKET)
    def get_ticket(self, device_id: str) -> PasswordTicket:
        """Get a temporary key for password encryption."""
        path = {"device_id": require_id(device_id, "device_id")}
        return PasswordTicket.from_envelope(self._send(TICKET, path, idempotent=True))

    @endpoint(SMART_LOCK_TICKET)
    def get_smart_lock_ticket(self, device_id: str) -> PasswordTicket:
        """Get a temporary key for password encryption (the smart-lock variant, for password-free unlocking)."""
        path = {"device_id": require_id(device_id, "device_id")}
        return PasswordTicket.from_envelope(self._send(SMART_LOCK_TICKET, path, idempotent=True))

    def encrypt_pin(self, device_id: str, pin: str, ticket: PasswordTicket | None = None) -> tuple[str, str]:
        """(ticket_id, encrypted PIN), fetching a ticket unless one is given; callers validate the PIN first."""
        if ticket is None:
            ticket = self.get_ticket(device_id)
        encrypted = crypto.encrypt_pin_for_ticket(
            pin, ticket_key=ticket.ticket_key, access_secret=self._client.access_secret
        )
        return ticket.ticket_id, encrypted

    @staticmethod
    def _check_ticket(ticket: object) -> None:
        if ticket is not None and (not isinstance(ticket, PasswordTicket) or not ticket.ticket_id):
            raise invalid("ticket must be a PasswordTicket from get_ticket().")

    def _password_body(
        self,
        *,
        lock_kind: LockKind | str,
        pin: str,
        effective_time: Timestamp,
        invalid_time: Timestamp,
        use: PasswordUse | int | None,
        phone: str | None,
        time_zone: str | None,
        schedule: Sequence[ScheduleEntry] | None,
        ticket: PasswordTicket | None,
    ) -> dict[str, Any]:
        """The validated body shared by create (v1.0/v2.0) and modify, without the encrypted PIN yet."""
        kind = require_enum(LockKind, lock_kind, "lock_kind")
        require_pin(pin, kind.pin_length, f"a {kind.value} lock")
        effective, expires = require_window(effective_time, invalid_time)
        body: dict[str, Any] = {"effective_time": effective, "invalid_time": expires}
        if use is not None:
            body["type"] = require_enum(PasswordUse, use, "type").value
        elif kind.is_zigbee:
            raise invalid("type (0 multiple use, 1 single use) is required for Zigbee locks.")
        phone_value = _optional_phone(phone)
        if phone_value:
            body["phone"] = phone_value
        entries = schedule_list(schedule)
        zone = optional_text(time_zone, "time_zone")
        if entries is not None:
            if not zone:
                raise invalid("time_zone is required with a schedule_list (periodic password).")
            body["schedule_list"] = entries
        if zone:
            body["time_zone"] = zone
        self._check_ticket(ticket)
        return body

    # Creates are never retried automatically: a repeat would add a second password.
    @endpoint(TEMP_PASSWORD_CREATE)
    def create_temp_password(
        self,
        device_id: str,
        *,
        lock_kind: LockKind | str,
        pin: str,
        name: str,
        effective_time: Timestamp,
        invalid_time: Timestamp,
        type: PasswordUse | int | None = None,  # noqa: A002 - the spec's parameter name
        phone: str | None = None,
        time_zone: str | None = None,
        schedule: Sequence[ScheduleEntry] | None = None,
        ticket: PasswordTicket | None = None,
    ) -> CreatedPassword:
        """Create a temporary password. A periodic password is supported."""
        device = require_id(device_id, "device_id")
        body = self._password_body(
            lock_kind=lock_kind,
            pin=pin,
            effective_time=effective_time,
            invalid_time=invalid_time,
            use=type,
            phone=phone,
            time_zone=time_zone,
            schedule=schedule,
            ticket=ticket,
        )
        body = {"name": require_text(name, "name"), **body}
        return self._create(TEMP_PASSWORD_CREATE, device, pin, ticket, body)

    @endpoint(TEMP_PASSWORD_CREATE_V2)
    def create_unnamed_temp_password(
        self,
        device_id: str,
        *,
        lock_kind: LockKind | str,
        pin: str,
        effective_time: Timestamp,
        invalid_time: Timestamp,
        type: PasswordUse | int | None = None,  # noqa: A002 - the spec's parameter name
        phone: str | None = None,
        time_zone: str | None = None,
        schedule: Sequence[ScheduleEntry] | None = None,
        ticket: PasswordTicket | None = None,
    ) -> CreatedPassword:
        """Create an unnamed temporary password. A periodic password is supported."""
        device = require_id(device_id, "device_id")
        body = self._password_body(
            lock_kind=lock_kind,
            pin=pin,
            effective_time=effective_time,
            invalid_time=invalid_time,
            use=type,
            phone=phone,
            time_zone=time_zone,
            schedule=schedule,
            ticket=ticket,
        )
        return self._create(TEMP_PASSWORD_CREATE_V2, device, pin, ticket, body)

    def _create(
        self, route: Route, device: str, pin: str, ticket: PasswordTicket | None, body: dict[str, Any]
    ) -> CreatedPassword:
        ticket_id, encrypted = self.encrypt_pin(device, pin, ticket)
        body.update(password=encrypted, password_type="ticket", ticket_id=ticket_id)
        envelope = self._send(route, {"device_id": device}, body=body, idempotent=False)
        return CreatedPassword(id=to_int(as_dict(result_of(envelope)).get("id")), ticket_id=ticket_id, raw=envelope)

    # Not retried automatically: the cloud allows one call per device per 60 s, so a retry only hits that limit.
    @endpoint(ISSUE_PASSWORD)
    def sync_passwords(self, device_id: str, password_id: int | None = None) -> Ack:
        """Synchronize passwords (send the ones still configuring to a Zigbee lock; once per 60 s per device)."""
        path = {"device_id": require_id(device_id, "device_id")}
        body: dict[str, Any] = {}
        if password_id is not None:
            body["password_id"] = require_int(password_id, "password_id", minimum=0)
        return Ack.from_envelope(self._send(ISSUE_PASSWORD, path, body=body, idempotent=False))

    @endpoint(TEMP_PASSWORD_GET)
    def get_temp_password(self, device_id: str, password_id: int | str) -> TempPassword:
        """Get the information about a temporary password."""
        path = {
            "device_id": require_id(device_id, "device_id"),
            "password_id": require_id(password_id, "password_id"),
        }
        envelope = self._send(TEMP_PASSWORD_GET, path)
        return TempPassword.from_api(as_dict(result_of(envelope)), raw=envelope)

    @endpoint(TEMP_PASSWORD_LIST)
    def list_temp_passwords(self, device_id: str, *, valid: bool | None = None) -> Items[TempPassword]:
        """Get a list of temporary passwords."""
        path = {"device_id": require_id(device_id, "device_id")}
        query = {} if valid is None else {"valid": require_bool(valid, "valid")}
        envelope = self._send(TEMP_PASSWORD_LIST, path, query=query)
        items = tuple(TempPassword.from_api(as_dict(item)) for item in as_list(result_of(envelope)))
        return Items(items=items, raw=envelope)

    @endpoint(KEEPALIVE_LIST)
    def list_keepalive_temp_passwords(
        self,
        device_id: str,
        *,
        valid: bool | None = None,
        last_row_key: str | None = None,
        page_size: int | None = None,
    ) -> Page[KeepalivePassword]:
        """Get a list of keepalive temporary passwords (paged by last_row_key)."""
        path = {"device_id": require_id(device_id, "device_id")}
        # The spec's table spells these two query parameters in camelCase (its sample uses snake_case).
        query: dict[str, Any] = {}
        if valid is not None:
            query["valid"] = require_bool(valid, "valid")
        if last_row_key:
            query["lastRowKey"] = require_text(last_row_key, "last_row_key")
        if page_size is not None:
            query["pageSize"] = require_int(page_size, "page_size", minimum=1, maximum=MAX_PAGE_SIZE)
        envelope = self._send(KEEPALIVE_LIST, path, query=query)
        # The spec's sample shows the page without the usual `result` wrapper: accept both.
        result = envelope.get("result") if isinstance(envelope.get("result"), dict) else envelope
        return page_from(envelope, "records", KeepalivePassword.from_api, result=result)

    # Not retried automatically: the ticket may be single-use, so a repeat could fail after the first worked.
    @endpoint(TEMP_PASSWORD_MODIFY)
    def modify_temp_password(
        self,
        device_id: str,
        password_id: int | str,
        *,
        lock_kind: LockKind | str,
        pin: str,
        effective_time: Timestamp,
        invalid_time: Timestamp,
        type: PasswordUse | int | None = None,  # noqa: A002 - the spec's parameter name
        phone: str | None = None,
        time_zone: str | None = None,
        schedule: Sequence[ScheduleEntry] | None = None,
        ticket: PasswordTicket | None = None,
    ) -> Ack:
        """Modify a temporary password."""
        # Bluetooth locks can change the window but not the PIN (spec, modify-password): pass the current PIN.
        path = {
            "device_id": require_id(device_id, "device_id"),
            "password_id": require_id(password_id, "password_id"),
        }
        body = self._password_body(
            lock_kind=lock_kind,
            pin=pin,
            effective_time=effective_time,
            invalid_time=invalid_time,
            use=type,
            phone=phone,
            time_zone=time_zone,
            schedule=schedule,
            ticket=ticket,
        )
        ticket_id, encrypted = self.encrypt_pin(path["device_id"], pin, ticket)
        body.update(password=encrypted, password_type="ticket", ticket_id=ticket_id)
        return Ack.from_envelope(self._send(TEMP_PASSWORD_MODIFY, path, body=body, idempotent=False))

    # Freeze, unfreeze and delete set a final state: doing it twice leaves the same state.
    @endpoint(TEMP_PASSWORD_FREEZE)
    def freeze_temp_password(self, device_id: str, password_id: int | str) -> Ack:
        """Freeze a temporary password."""
        return self._state_change(TEMP_PASSWORD_FREEZE, device_id, password_id)

    @endpoint(TEMP_PASSWORD_UNFREEZE)
    def unfreeze_temp_password(self, device_id: str, password_id: int | str) -> Ack:
        """Unfreeze a temporary password."""
        return self._state_change(TEMP_PASSWORD_UNFREEZE, device_id, password_id)

    @endpoint(TEMP_PASSWORD_DELETE)
    def delete_temp_password(self, device_id: str, password_id: int | str) -> Ack:
        """Delete a temporary password."""
        return self._state_change(TEMP_PASSWORD_DELETE, device_id, password_id)

    def _state_change(self, route: Route, device_id: str, password_id: int | str) -> Ack:
        path = {
            "device_id": require_id(device_id, "device_id"),
            "password_id": require_id(password_id, "password_id"),
        }
        return Ack.from_envelope(self._send(route, path, idempotent=True))

    # Clearing twice leaves the lock just as cleared.
    @endpoint(TEMP_PASSWORD_CLEAR)
    def clear_temp_passwords(self, device_id: str) -> Ack:
        """Clear temporary passwords (Zigbee hotel lock)."""
        path = {"device_id": require_id(device_id, "device_id")}
        return Ack.from_envelope(self._send(TEMP_PASSWORD_CLEAR, path, idempotent=True))

    # Not retried automatically: like modify, it spends a ticket.
    @endpoint(ADVANCED_PASSWORD_SET)
    def set_advanced_password(
        self,
        device_id: str,
        *,
        advanced_type: AdvancedType | str,
        pin: str,
        ticket: PasswordTicket | None = None,
    ) -> Ack:
        """Set an advanced password (administrator or emergency; six digits)."""
        device = require_id(device_id, "device_id")
        kind = require_enum(AdvancedType, advanced_type, "advanced_type")
        require_pin(pin, ADVANCED_PIN_LENGTH, "an advanced password")
        self._check_ticket(ticket)
        ticket_id, encrypted = self.encrypt_pin(device, pin, ticket)
        body = {"password_type": "ticket", "password": encrypted, "ticket_id": ticket_id, "advanced_type": kind.value}
        return Ack.from_envelope(self._send(ADVANCED_PASSWORD_SET, {"device_id": device}, body=body, idempotent=False))

    @endpoint(ADVANCED_PASSWORD_GET)
    def get_advanced_password(self, device_id: str, advanced_type: AdvancedType | str) -> AdvancedPassword:
        """Query an advanced password."""
        path = {"device_id": require_id(device_id, "device_id")}
        kind = require_enum(AdvancedType, advanced_type, "advanced_type")
        envelope = self._send(ADVANCED_PASSWORD_GET, path, query={"advanced_type": kind.value})
        data = as_dict(result_of(envelope))
        return AdvancedPassword(
            advanced_type=to_str(data.get("advanced_type")), phase=to_opt_int(data.get("phase")), raw=envelope
        )
