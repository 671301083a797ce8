"""Remote unlocking: the switches, unlocking with and without a password, revoking, locking remotely.

Battery Wi-Fi locks sleep: the cloud can only open one while it is awake because someone at the door rang (the
doorbell is the remote-unlock request; the lock stays awake for its `unlock_request` countdown). Always-connected
locks (keepalive Wi-Fi, and Zigbee or Bluetooth behind a gateway) can be opened whenever they are online.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from locks.simulator import delivery, lockstate, offline, params
from locks.simulator.errors import TuyaError
from locks.simulator.kinds import WIFI, WIFI_VIDEO
from locks.simulator.models import SimDevice, SimRemoteRequest, SimTicket

if TYPE_CHECKING:
    from locks.simulator.api import Call


def _decrypt_ticket_pin(call: Call) -> str:
    from locks.simulator import api  # api imports this module for its routes

    return api.decrypt_ticket_pin(call)


WITH_PASSWORD = "remoteUnlockWithPwd"
WITHOUT_PASSWORD = "remoteUnlockWithoutPwd"
SLEEPING_KINDS = frozenset({WIFI, WIFI_VIDEO})
REQUEST_SECONDS = 60  # how long the lock stays awake waiting for an answer


def pending_request(device: SimDevice, now: datetime) -> SimRemoteRequest | None:
    """The open request at the door, if any; an unanswered one lapses when its countdown ends."""
    SimRemoteRequest.objects.filter(device=device, status="pending", expires_at__lte=now).update(status="expired")
    return SimRemoteRequest.objects.filter(device=device, status="pending").order_by("-created_at").first()


def open_request(device: SimDevice, now: datetime) -> SimRemoteRequest:
    """Someone at the door asks to be let in (the world side)."""
    SimRemoteRequest.objects.filter(device=device, status="pending").update(status="expired")
    return SimRemoteRequest.objects.create(
        device=device, created_at=now, expires_at=now + timedelta(seconds=REQUEST_SECONDS), status="pending"
    )


def _check_ticket(call: Call) -> None:
    ticket_id = params.string(call.body, "ticket_id", required=True)
    ticket = SimTicket.objects.filter(ticket_id=ticket_id, access_id=call.access_id, device=call.dev).first()
    if ticket is None or ticket.expires_at <= call.now:
        raise TuyaError(1109, "ticket_id")


def _reachable(call: Call) -> SimRemoteRequest | None:
    device = call.dev
    if not device.online:
        raise TuyaError(2001)
    request = pending_request(device, call.now)
    if device.kind in SLEEPING_KINDS and request is None:
        # Asleep: nothing reaches it until someone at the door wakes it with a request.
        raise TuyaError(2001)
    return request


def _unlock(call: Call, *, value: str = "") -> bool:
    """The door opens on the cloud's word; an open request at the door is answered by it."""
    request = _reachable(call)
    if request is not None:
        request.status, request.decided_at = "approved", call.now
        request.save(update_fields=["status", "decided_at"])
    lockstate.record(call.dev, "unlock_app", call.now, value=value)
    return True


def _password_free(call: Call) -> None:
    _check_ticket(call)
    if not call.dev.remote_unlock_without_pwd:
        raise TuyaError(2306, "remote unlocking without a password is switched off")


def remote_unlocks(call: Call) -> list[dict[str, Any]]:
    device = call.dev
    return [
        {"remote_unlock_type": WITHOUT_PASSWORD, "open": device.remote_unlock_without_pwd},
        {"remote_unlock_type": WITH_PASSWORD, "open": device.remote_unlock_with_pwd},
    ]


def remote_unlock_config(call: Call) -> bool:
    unlock_type = params.string(call.body, "remote_unlock_type", required=True)
    if unlock_type not in (WITH_PASSWORD, WITHOUT_PASSWORD):
        raise TuyaError(1101, "remote_unlock_type")
    enabled = call.body.get("open")
    if not isinstance(enabled, bool):
        raise TuyaError(1104 if enabled is not None else 1100, "open")
    field = "remote_unlock_with_pwd" if unlock_type == WITH_PASSWORD else "remote_unlock_without_pwd"
    setattr(call.dev, field, enabled)
    call.dev.save(update_fields=[field])
    return True


def open_door_with_password(call: Call) -> bool:
    pin = _decrypt_ticket_pin(call)
    if not call.dev.remote_unlock_with_pwd:
        raise TuyaError(2306, "remote unlocking with a password is switched off")
    _reachable(call)
    if not _pin_opens(call.dev, pin, call.now):
        raise TuyaError(2314)
    return _unlock(call, value="password")


def password_free_open(call: Call) -> bool:
    _password_free(call)
    return _unlock(call)


def password_free_open_channel(call: Call) -> bool:
    _password_free(call)
    channel = params.required_integer(call.body, "channel_id")
    if channel < 0:
        raise TuyaError(1101, "channel_id")
    return _unlock(call, value=f"channel {channel}")


def password_free_cancel(call: Call) -> bool:
    reason = params.required_integer(call.body, "type")
    if reason not in (1, 2):
        raise TuyaError(1101, "type must be 1 (reject) or 2 (cancel)")
    request = pending_request(call.dev, call.now)
    if request is not None:
        request.status, request.decided_at = ("rejected" if reason == 1 else "cancelled"), call.now
        request.save(update_fields=["status", "decided_at"])
    return True


def door_operate(call: Call) -> bool:
    _password_free(call)
    open_it = call.body.get("open", True)
    if not isinstance(open_it, bool):
        raise TuyaError(1104, "open")
    if open_it:
        return _unlock(call)
    _reachable(call)  # locking writes no unlock record
    return True


def _pin_opens(device: SimDevice, pin: str, now: datetime) -> bool:
    if delivery.pin_would_open(device, pin, now):
        return True
    if device.methods.filter(dp_code="unlock_password", pin=pin).exists():
        return True
    for advanced in device.advanced_passwords.filter(pin=pin):
        offline.settle_advanced(device, advanced, now)
        if advanced.phase == 2:
            return True
    return False


_D = "/v1.0/devices/{device_id}/door-lock"
ROUTES = [
    ("GET", f"{_D}/remote-unlocks", remote_unlocks),
    ("POST", f"{_D}/remote-unlock/config", remote_unlock_config),
    ("POST", f"{_D}/open-door", open_door_with_password),
    ("POST", f"{_D}/password-free/open-door", password_free_open),
    ("POST", "/v1.1/devices/{device_id}/door-lock/password-free/open-door", password_free_open_channel),
    ("PUT", f"{_D}/password-free/open-door/cancel", password_free_cancel),
    ("POST", "/v1.0/smart-lock/devices/{device_id}/password-free/door-operate", door_operate),
]
