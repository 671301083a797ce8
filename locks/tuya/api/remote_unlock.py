"""Remote unlocking: which methods are on, unlocking with or without a password, revoking, door-operate.

Unlocking moves a real door, so none of these calls is ever repeated automatically; only the
switch configuration and the revocation, which set a final state, are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Any

from ._base import (
    Ack,
    ApiGroup,
    Items,
    Route,
    as_dict,
    as_list,
    endpoint,
    invalid,
    require_bool,
    require_enum,
    require_id,
    require_int,
    require_pin,
    result_of,
    to_bool,
    to_str,
)
from .passwords import PasswordsApi, PasswordTicket

REMOTE_UNLOCKS = Route("GET", "/v1.0/devices/{device_id}/door-lock/remote-unlocks")
REMOTE_UNLOCK_CONFIG = Route("POST", "/v1.0/devices/{device_id}/door-lock/remote-unlock/config")
OPEN_DOOR = Route("POST", "/v1.0/devices/{device_id}/door-lock/open-door")
PASSWORD_FREE_OPEN = Route("POST", "/v1.0/devices/{device_id}/door-lock/password-free/open-door")
PASSWORD_FREE_OPEN_V11 = Route("POST", "/v1.1/devices/{device_id}/door-lock/password-free/open-door")
PASSWORD_FREE_CANCEL = Route("PUT", "/v1.0/devices/{device_id}/door-lock/password-free/open-door/cancel")
DOOR_OPERATE = Route("POST", "/v1.0/smart-lock/devices/{device_id}/password-free/door-operate")

# Unlocking with a password is a Zigbee-lock API and the spec says six digits.
OPEN_DOOR_PIN_LENGTH = 6


class RemoteUnlockType(str, Enum):
    WITHOUT_PASSWORD = "remoteUnlockWithoutPwd"
    WITH_PASSWORD = "remoteUnlockWithPwd"


class CancelReason(IntEnum):
    """Why a password-free unlocking is revoked: 1 reject, 2 cancel."""

    REJECT = 1
    CANCEL = 2


@dataclass(frozen=True)
class RemoteUnlockSetting:
    """Whether one remote unlocking method is switched on."""

    remote_unlock_type: str
    open: bool
    raw: dict[str, Any] = field(repr=False, compare=False)


def _ticket_id(ticket: PasswordTicket | str | None) -> str | None:
    if ticket is None:
        return None
    if isinstance(ticket, PasswordTicket):
        return require_id(ticket.ticket_id, "ticket.ticket_id")
    if isinstance(ticket, str):
        return require_id(ticket, "ticket")
    raise invalid("ticket must be a PasswordTicket or a ticket id.")


# Spec sections "Get the remote unlocking methods ...", "Set a switch ...", "Unlock with a password",
# "Unlock without password" (v1.0, v1.1, door-operate), "Revoke a password-free unlocking".
class RemoteUnlockApi(ApiGroup):
    """Remote unlocking."""

    @endpoint(REMOTE_UNLOCKS)
    def list_remote_unlocks(self, device_id: str) -> Items[RemoteUnlockSetting]:
        """Get the remote unlocking methods supported by a lock."""
        envelope = self._send(REMOTE_UNLOCKS, {"device_id": require_id(device_id, "device_id")})
        # The spec's sample shows one object; a lock with both methods plausibly returns a list: accept both.
        items = tuple(
            RemoteUnlockSetting(
                remote_unlock_type=to_str(item.get("remote_unlock_type")), open=to_bool(item.get("open")), raw=item
            )
            for item in map(as_dict, as_list(result_of(envelope)))
        )
        return Items(items=items, raw=envelope)

    @endpoint(REMOTE_UNLOCK_CONFIG)
    def set_remote_unlock(self, device_id: str, remote_unlock_type: RemoteUnlockType | str, open: bool) -> Ack:  # noqa: A002
        """Set a switch for a remote unlocking method."""
        path = {"device_id": require_id(device_id, "device_id")}
        body = {
            "remote_unlock_type": require_enum(RemoteUnlockType, remote_unlock_type, "remote_unlock_type").value,
            "open": require_bool(open, "open"),
        }
        return Ack.from_envelope(self._send(REMOTE_UNLOCK_CONFIG, path, body=body, idempotent=True))

    @endpoint(OPEN_DOOR)
    def open_door_with_password(self, device_id: str, *, pin: str, ticket: PasswordTicket | None = None) -> Ack:
        """Unlock a door with a password (Zigbee lock; six digits)."""
        device = require_id(device_id, "device_id")
        require_pin(pin, OPEN_DOOR_PIN_LENGTH, "unlocking with a password")
        if ticket is not None and not isinstance(ticket, PasswordTicket):
            raise invalid("ticket must be a PasswordTicket from get_ticket().")
        ticket_id, encrypted = PasswordsApi(self._client).encrypt_pin(device, pin, ticket)
        body = {"password": encrypted, "password_type": "ticket", "ticket_id": ticket_id}
        return Ack.from_envelope(self._send(OPEN_DOOR, {"device_id": device}, body=body, idempotent=False))

    @endpoint(PASSWORD_FREE_OPEN)
    def open_door(self, device_id: str, *, ticket: PasswordTicket | str | None = None) -> Ack:
        """Unlock a door without password (fetches a smart-lock ticket unless one is given)."""
        device = require_id(device_id, "device_id")
        ticket_id = _ticket_id(ticket) or PasswordsApi(self._client).get_smart_lock_ticket(device).ticket_id
        body = {"ticket_id": ticket_id}
        return Ack.from_envelope(self._send(PASSWORD_FREE_OPEN, {"device_id": device}, body=body, idempotent=False))

    @endpoint(PASSWORD_FREE_OPEN_V11)
    def open_door_channel(self, device_id: str, channel_id: int, *, ticket: PasswordTicket | str | None = None) -> Ack:
        """Unlock a door without password (v1.1) through a given channel."""
        device = require_id(device_id, "device_id")
        channel = require_int(channel_id, "channel_id", minimum=0)
        given = _ticket_id(ticket)
        # This section names the door-lock password-ticket endpoint as the source of ticket_id.
        ticket_id = given or PasswordsApi(self._client).get_ticket(device).ticket_id
        body = {"ticket_id": ticket_id, "channel_id": channel}
        return Ack.from_envelope(self._send(PASSWORD_FREE_OPEN_V11, {"device_id": device}, body=body, idempotent=False))

    # Revoking twice leaves the request just as revoked.
    @endpoint(PASSWORD_FREE_CANCEL)
    def cancel_remote_unlock(self, device_id: str, reason: CancelReason | int) -> Ack:
        """Revoke a password-free unlocking (1 reject, 2 cancel)."""
        path = {"device_id": require_id(device_id, "device_id")}
        body = {"type": require_enum(CancelReason, reason, "type").value}
        return Ack.from_envelope(self._send(PASSWORD_FREE_CANCEL, path, body=body, idempotent=True))

    @endpoint(DOOR_OPERATE)
    def door_operate(
        self,
        device_id: str,
        *,
        open: bool | None = None,
        ticket: PasswordTicket | str | None = None,  # noqa: A002
    ) -> Ack:
        """Remote locking and unlocking without password (open true opens, false closes)."""
        device = require_id(device_id, "device_id")
        body: dict[str, Any] = {}
        if open is not None:
            body["open"] = require_bool(open, "open")
        ticket_id = _ticket_id(ticket) or PasswordsApi(self._client).get_smart_lock_ticket(device).ticket_id
        body = {"ticket_id": ticket_id, **body}
        return Ack.from_envelope(self._send(DOOR_OPERATE, {"device_id": device}, body=body, idempotent=False))
