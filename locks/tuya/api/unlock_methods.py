"""Unlocking methods (fingerprints, cards, passwords, ...): assignment, enrollment, names, duress, attributes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from ._base import (
    Ack,
    ApiGroup,
    Items,
    KeyUserType,
    LockKind,
    Route,
    UnlockDpCode,
    UnlockType,
    as_dict,
    as_list,
    endpoint,
    invalid,
    require_bool,
    require_codes,
    require_enum,
    require_id,
    require_int,
    require_page,
    require_pin,
    require_text,
    result_of,
    to_bool,
    to_int,
    to_opt_int,
    to_str,
)
from .passwords import PasswordsApi, PasswordTicket

OPMODES_ALLOCATE = Route("POST", "/v1.0/devices/{device_id}/door-lock/opmodes/actions/allocate")
ASSIGNED_KEYS = Route("GET", "/v1.0/devices/{device_id}/door-lock/user-types/{user_type}/users/{user_id}/assigned-keys")
UNASSIGNED_KEYS = Route("GET", "/v1.0/devices/{device_id}/door-lock/unassigned-keys")
OPMODES_SYNC = Route("POST", "/v1.0/smart-lock/devices/{device_id}/opmodes/actions/sync")
ENTRY = Route("PUT", "/v1.0/devices/{device_id}/door-lock/actions/entry")
KEY_DELETE = Route(
    "DELETE",
    "/v1.0/devices/{device_id}/door-lock/user-types/{user_type}/users/{user_id}/unlock-types/{unlock_type}/keys/{unlock_no}",
)
ENTRY_CANCEL = Route("PUT", "/v1.0/devices/{device_id}/door-lock/unlock-types/{unlock_type}/actions/cancel")
OPMODE_RENAME = Route("PUT", "/v1.0/devices/{device_id}/door-lock/opmodes/{unlock_sn}")
HIJACK_SET = Route("PUT", "/v1.0/devices/{device_id}/door-lock/unlock-types/{unlock_type}/keys/{unlock_no}/hijack")
HIJACK_DELETE = Route(
    "DELETE", "/v1.0/smart-lock/devices/{device_id}/unlock-types/{unlock_type}/keys/{unlock_sn}/hijack"
)
USER_OPMODES = Route("GET", "/v1.0/smart-lock/devices/{device_id}/opmodes/{user_id}")
OPMODE_ATTR = Route(
    "POST", "/v1.0/smart-lock/devices/{device_id}/opmodes/{opmode_id}/attribute/{attribute}/opmode-attr"
)

# The DP codes each endpoint lists as valid values.
_RENAME_CODES = frozenset(
    {
        UnlockDpCode.PASSWORD,
        UnlockDpCode.FINGERPRINT,
        UnlockDpCode.CARD,
        UnlockDpCode.FACE,
        UnlockDpCode.TELECONTROL_KIT,
    }
)
_HIJACK_DELETE_CODES = frozenset({UnlockDpCode.FINGERPRINT, UnlockDpCode.CARD, UnlockDpCode.PASSWORD})


class OpmodeAttribute(IntEnum):
    VOICE = 1
    PHOTO = 2


@dataclass(frozen=True)
class UnlockRef:
    """One unlocking method to assign: its standard DP code and its serial number on the lock."""

    dp_code: UnlockDpCode | str
    unlock_sn: int

    def to_api(self) -> dict[str, Any]:
        return {
            "dp_code": require_enum(UnlockDpCode, self.dp_code, "dp_code").value,
            "unlock_sn": require_int(self.unlock_sn, "unlock_sn", minimum=0),
        }


@dataclass(frozen=True)
class UnlockKey:
    """An unlocking method by number and type; `hijack` only on the assigned-keys list."""

    unlock_no: int
    unlock_type: str
    hijack: bool
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> UnlockKey:
        return cls(
            unlock_no=to_int(data.get("unlock_no")),
            unlock_type=to_str(data.get("unlock_type")),
            hijack=to_bool(data.get("hijack")),
            raw=data,
        )


@dataclass(frozen=True)
class NotifyInfo:
    app_send: int | None
    msg_phone: str
    voice_phone: str


@dataclass(frozen=True)
class UserUnlockMethod:
    """An unlocking method applicable to a user (phase 1 confirmed ... 10 to be created)."""

    opmode_id: str
    dp_code: str
    unlock_sn: int | None
    unlock_name: str
    unlock_id: str
    phase: int | None
    unlock_attr: int | None
    user_id: str
    user_name: str
    user_type: int | None
    lock_user_id: int | None
    allocate_flag: bool
    delivery_status: str
    notify_info: NotifyInfo
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> UserUnlockMethod:
        notify = data.get("notify_info")
        if isinstance(notify, str):  # the spec calls it "a String in JSON format"
            try:
                notify = json.loads(notify)
            except ValueError:
                notify = {}
        info = as_dict(notify)
        return cls(
            opmode_id=to_str(data.get("opmode_id")),
            dp_code=to_str(data.get("dp_code")),
            unlock_sn=to_opt_int(data.get("unlock_sn")),
            unlock_name=to_str(data.get("unlock_name")),
            unlock_id=to_str(data.get("unlock_id")),
            phase=to_opt_int(data.get("phase")),
            unlock_attr=to_opt_int(data.get("unlock_attr")),
            user_id=to_str(data.get("user_id")),
            user_name=to_str(data.get("user_name")),
            user_type=to_opt_int(data.get("user_type")),
            lock_user_id=to_opt_int(data.get("lock_user_id")),
            allocate_flag=to_bool(data.get("allocate_flag")),
            delivery_status=to_str(data.get("delivery_status")),
            notify_info=NotifyInfo(
                app_send=to_opt_int(info.get("app_send")),
                msg_phone=to_str(info.get("msg_phone")),
                voice_phone=to_str(info.get("voice_phone")),
            ),
            raw=data,
        )


def _keys(envelope: dict[str, Any]) -> Items[UnlockKey]:
    data = as_dict(result_of(envelope))
    return Items(items=tuple(UnlockKey.from_api(as_dict(i)) for i in as_list(data.get("unlock_keys"))), raw=envelope)


def _unlock_type_query(unlock_type: UnlockType | str | None) -> dict[str, str]:
    return {} if unlock_type is None else {"unlock_type": require_enum(UnlockType, unlock_type, "unlock_type").value}


# Spec section "Unlocking method APIs" plus the opmode rows of the API list.
class UnlockMethodsApi(ApiGroup):
    """Unlocking methods: which user owns which fingerprint, card or password slot, and their settings."""

    # Assignment, rename, duress, attribute, delete, cancel and sync set absolute states: a repeat is harmless.
    @endpoint(OPMODES_ALLOCATE)
    def allocate_unlock_methods(self, device_id: str, user_id: str, unlock_list: Sequence[UnlockRef]) -> Ack:
        """Assign multiple unlocking methods to a user."""
        path = {"device_id": require_id(device_id, "device_id")}
        if isinstance(unlock_list, UnlockRef) or not unlock_list:
            raise invalid("unlock_list needs at least one UnlockRef.")
        if not all(isinstance(item, UnlockRef) for item in unlock_list):
            raise invalid("unlock_list must be a sequence of UnlockRef.")
        body = {"user_id": require_id(user_id, "user_id"), "unlock_list": [item.to_api() for item in unlock_list]}
        return Ack.from_envelope(self._send(OPMODES_ALLOCATE, path, body=body, idempotent=True))

    @endpoint(ASSIGNED_KEYS)
    def list_assigned_keys(
        self,
        device_id: str,
        user_type: KeyUserType | int,
        user_id: str,
        *,
        unlock_type: UnlockType | str | None = None,
    ) -> Items[UnlockKey]:
        """Get a list of unlocking methods linked with a specified user."""
        path = {
            "device_id": require_id(device_id, "device_id"),
            "user_type": str(require_enum(KeyUserType, user_type, "user_type").value),
            "user_id": require_id(user_id, "user_id"),
        }
        query = (
            {} if unlock_type is None else {"unlock_type": require_enum(UnlockType, unlock_type, "unlock_type").value}
        )
        return _keys(self._send(ASSIGNED_KEYS, path, query=query))

    @endpoint(UNASSIGNED_KEYS)
    def list_unassigned_keys(self, device_id: str, *, unlock_type: UnlockType | str | None = None) -> Items[UnlockKey]:
        """Get a list of unlocking methods that are not linked with users."""
        path = {"device_id": require_id(device_id, "device_id")}
        query = (
            {} if unlock_type is None else {"unlock_type": require_enum(UnlockType, unlock_type, "unlock_type").value}
        )
        return _keys(self._send(UNASSIGNED_KEYS, path, query=query))

    @endpoint(OPMODES_SYNC)
    def sync_unlock_methods(self, device_id: str, codes: str | Iterable[UnlockDpCode | str]) -> Ack:
        """Sync unlocking methods by the cloud."""
        path = {"device_id": require_id(device_id, "device_id")}
        # The parameter table puts `codes` in the URL (its sample shows a body): we follow the table.
        query = {"codes": require_codes(codes, "codes", allowed=UnlockDpCode)}
        return Ack.from_envelope(self._send(OPMODES_SYNC, path, query=query, idempotent=True))

    # Not repeated automatically: it starts an enrollment session on the lock, and a second one is refused.
    @endpoint(ENTRY)
    def enroll_unlock_method(
        self,
        device_id: str,
        *,
        user_id: str,
        user_type: KeyUserType | int,
        unlock_type: UnlockType | str,
        pin: str | None = None,
        ticket: PasswordTicket | None = None,
    ) -> Ack:
        """Enroll an unlocking method; a PIN is only sent for Bluetooth locks enrolling a password."""
        device = require_id(device_id, "device_id")
        kind = require_enum(UnlockType, unlock_type, "unlock_type")
        body: dict[str, Any] = {
            "user_id": require_id(user_id, "user_id"),
            "user_type": require_enum(KeyUserType, user_type, "user_type").value,
            "unlock_type": kind.value,
        }
        if pin is None:
            if ticket is not None:
                raise invalid("ticket is only used together with a PIN.")
            return Ack.from_envelope(self._send(ENTRY, {"device_id": device}, body=body, idempotent=False))
        if kind is not UnlockType.PASSWORD:
            raise invalid("A PIN can only be enrolled with unlock_type password.")
        require_pin(pin, LockKind.BLE.pin_length, "a Bluetooth lock")
        if ticket is not None and not isinstance(ticket, PasswordTicket):
            raise invalid("ticket must be a PasswordTicket from get_ticket().")
        ticket_id, encrypted = PasswordsApi(self._client).encrypt_pin(device, pin, ticket)
        body.update(password_type="ticket", ticket_id=ticket_id, password=encrypted)
        return Ack.from_envelope(self._send(ENTRY, {"device_id": device}, body=body, idempotent=False))

    @endpoint(KEY_DELETE)
    def delete_unlock_key(
        self,
        device_id: str,
        *,
        user_type: KeyUserType | int,
        user_id: str,
        unlock_type: UnlockType | str,
        unlock_no: int,
    ) -> Ack:
        """Delete an unlocking method."""
        path = {
            "device_id": require_id(device_id, "device_id"),
            "user_type": str(require_enum(KeyUserType, user_type, "user_type").value),
            "user_id": require_id(user_id, "user_id"),
            "unlock_type": require_enum(UnlockType, unlock_type, "unlock_type").value,
            "unlock_no": str(require_int(unlock_no, "unlock_no", minimum=0)),
        }
        return Ack.from_envelope(self._send(KEY_DELETE, path, idempotent=True))

    @endpoint(ENTRY_CANCEL)
    def cancel_enrollment(self, device_id: str, unlock_type: UnlockType | str) -> Ack:
        """Cancel unlocking method enrollment."""
        path = {
            "device_id": require_id(device_id, "device_id"),
            "unlock_type": require_enum(UnlockType, unlock_type, "unlock_type").value,
        }
        return Ack.from_envelope(self._send(ENTRY_CANCEL, path, idempotent=True))

    @endpoint(OPMODE_RENAME)
    def rename_unlock_method(
        self, device_id: str, unlock_sn: int, *, dp_code: UnlockDpCode | str, unlock_name: str
    ) -> Ack:
        """Update the name of an unlocking method."""
        path = {
            "device_id": require_id(device_id, "device_id"),
            "unlock_sn": str(require_int(unlock_sn, "unlock_sn", minimum=0)),
        }
        code = require_enum(UnlockDpCode, dp_code, "dp_code")
        if code not in _RENAME_CODES:
            raise invalid(f"dp_code {code.value} cannot be renamed by this API.")
        body = {"dp_code": code.value, "unlock_name": require_text(unlock_name, "unlock_name")}
        return Ack.from_envelope(self._send(OPMODE_RENAME, path, body=body, idempotent=True))

    @endpoint(HIJACK_SET)
    def set_duress(self, device_id: str, unlock_type: UnlockType | str, unlock_no: int) -> Ack:
        """Set an unlocking method to trigger a duress alarm."""
        path = {
            "device_id": require_id(device_id, "device_id"),
            "unlock_type": require_enum(UnlockType, unlock_type, "unlock_type").value,
            "unlock_no": str(require_int(unlock_no, "unlock_no", minimum=0)),
        }
        return Ack.from_envelope(self._send(HIJACK_SET, path, idempotent=True))

    @endpoint(HIJACK_DELETE)
    def delete_duress(self, device_id: str, unlock_type: UnlockDpCode | str, unlock_sn: int) -> Ack:
        """Delete the duress alarm of an unlocking method."""
        code = require_enum(UnlockDpCode, unlock_type, "unlock_type")
        if code not in _HIJACK_DELETE_CODES:
            raise invalid("unlock_type must be unlock_fingerprint, unlock_card or unlock_password.")
        path = {
            "device_id": require_id(device_id, "device_id"),
            "unlock_type": code.value,
            "unlock_sn": str(require_int(unlock_sn, "unlock_sn", minimum=0)),
        }
        return Ack.from_envelope(self._send(HIJACK_DELETE, path, idempotent=True))

    @endpoint(USER_OPMODES)
    def list_user_unlock_methods(
        self,
        device_id: str,
        user_id: str,
        *,
        codes: str | Iterable[UnlockDpCode | str] = "",
        unlock_name: str = "",
        page_no: int = 1,
        page_size: int = 20,
    ) -> Items[UserUnlockMethod]:
        """Get a list of unlocking methods applicable to a specified user."""
        path = {"device_id": require_id(device_id, "device_id"), "user_id": require_id(user_id, "user_id")}
        number, size = require_page(page_no, page_size)
        # codes and unlock_name are required parameters whose value may be empty.
        query = {
            "codes": require_codes(codes, "codes", allowed=UnlockDpCode, required=False),
            "unlock_name": require_text(unlock_name, "unlock_name", allow_empty=True),
            "page_no": number,
            "page_size": size,
        }
        envelope = self._send(USER_OPMODES, path, query=query)
        result = result_of(envelope)
        rows = as_dict(result).get("records") if isinstance(result, dict) else result
        return Items(items=tuple(UserUnlockMethod.from_api(as_dict(i)) for i in as_list(rows)), raw=envelope)

    @endpoint(OPMODE_ATTR)
    def set_opmode_attribute(
        self, device_id: str, opmode_id: int | str, attribute: OpmodeAttribute | int, enabled: bool
    ) -> Ack:
        """Enable or disable a special attribute (voice, photo capturing) of an unlocking method."""
        path = {
            "device_id": require_id(device_id, "device_id"),
            "opmode_id": require_id(opmode_id, "opmode_id"),
            "attribute": str(require_enum(OpmodeAttribute, attribute, "attribute").value),
        }
        body = {"enabled": require_bool(enabled, "enabled")}
        return Ack.from_envelope(self._send(OPMODE_ATTR, path, body=body, idempotent=True))
