"""Offline, dynamic and advanced passwords: codes the lock checks by itself (see offline.py)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from locks.simulator import offline, params
from locks.simulator.errors import TuyaError
from locks.simulator.models import SimAdvancedPassword, SimOfflinePassword

if TYPE_CHECKING:
    from locks.simulator.api import Call


def _decrypt_ticket_pin(call: Call) -> str:
    from locks.simulator import api  # api imports this module for its routes

    return api.decrypt_ticket_pin(call)


ADVANCED_TYPES = ("admin", "emergency")


def _new_offline_id() -> int:
    while True:
        candidate = 2_000_000 + secrets.randbelow(8_000_000)
        if not SimOfflinePassword.objects.filter(password_id=candidate).exists():
            return candidate


def _issue(
    call: Call, kind: str, effective: int | None, invalid: int | None, name: str, target: int | None
) -> SimOfflinePassword:
    now = int(call.now.timestamp())
    if kind == "multiple" and (effective is None or invalid is None):
        raise TuyaError(1100, "effective_time and invalid_time are required for a multiple-use password")
    start, end = offline.offline_window(kind, now, effective, invalid)
    if start >= end:
        raise TuyaError(1101, "effective_time must be at least an hour before invalid_time (both round down)")
    if end <= now:
        raise TuyaError(2318)
    password_id = _new_offline_id()
    return SimOfflinePassword.objects.create(
        device=call.dev,
        password_id=password_id,
        name=name[:100],
        kind=kind,
        code=offline.offline_code(call.dev, password_id, kind, start, end),
        effective_time=start,
        invalid_time=end,
        target_password_id=target,
        created_at=call.now,
    )


def offline_password_v10(call: Call) -> dict[str, Any]:
    body = call.body
    kind = offline.V10_TYPES.get(params.required_integer(body, "type"))
    if kind is None:
        raise TuyaError(1101, "type must be 0, 1 or 9")
    if params.string(body, "lang", required=True) not in ("zh", "en"):
        raise TuyaError(1101, "lang must be zh or en")
    effective, invalid = params.timestamp(body, "effective_time"), params.timestamp(body, "invalid_time")
    issued = _issue(call, kind, effective, invalid, params.string(body, "name"), None)
    return {"offline_temp_password": issued.code}


def offline_password_v11(call: Call) -> dict[str, Any]:
    # The table names one body object `offline_pwd_add_request`; a flat body is accepted as well.
    body = call.body.get("offline_pwd_add_request", call.body)
    if not isinstance(body, dict):
        raise TuyaError(1104, "offline_pwd_add_request")
    kind = params.string(body, "type", default="multiple")
    if kind not in offline.TYPES:
        raise TuyaError(1101, "type must be multiple, once, clear_one or clear_all")
    effective = params.integer(body, "effective_time")
    invalid = params.integer(body, "invalid_time")
    for value in (effective, invalid):
        if value is not None and not 1_000_000_000 <= value <= 9_999_999_999:
            raise TuyaError(1101, "times are 10-digit timestamps in seconds")
    target: int | None = None
    if kind == "clear_one":
        target = params.required_integer(body, "password_id")
        if not SimOfflinePassword.objects.filter(device=call.dev, password_id=target, kind="multiple").exists():
            raise TuyaError(2323)
    issued = _issue(call, kind, effective, invalid, params.string(body, "name") or params.string(body, "Name"), target)
    return {
        "effective_time": issued.effective_time,
        "offline_temp_password_id": str(issued.password_id),
        "offline_temp_password": issued.code,
        "invalid_time": issued.invalid_time,
        "offline_temp_password_name": issued.name,
    }


def offline_password_rename(call: Call) -> bool:
    raw = call.args["password_id"]
    if not raw.isdigit():
        raise TuyaError(1104, "password_id")
    # The table says password_name; the sample sends passwordName.
    name = params.string(call.body, "password_name") or params.string(call.body, "passwordName", required=True)
    if not SimOfflinePassword.objects.filter(device=call.dev, password_id=int(raw)).update(name=name[:100]):
        raise TuyaError(2323)
    return True


def dynamic_password(call: Call) -> dict[str, Any]:
    return {"dynamic_password": offline.dynamic_code(call.dev, call.now)}


# --- advanced passwords (Zigbee hotel locks) ---------------------------------------------------------------


def advanced_password_set(call: Call) -> bool:
    advanced_type = params.string(call.body, "advanced_type", required=True)
    if advanced_type not in ADVANCED_TYPES:
        raise TuyaError(1101, "advanced_type must be admin or emergency")
    pin = _decrypt_ticket_pin(call)
    SimAdvancedPassword.objects.update_or_create(
        device=call.dev, advanced_type=advanced_type, defaults={"pin": pin, "phase": 1, "set_at": call.now}
    )
    return True


def advanced_password_get(call: Call) -> dict[str, Any]:
    advanced_type = params.string(call.query, "advanced_type", required=True)
    if advanced_type not in ADVANCED_TYPES:
        raise TuyaError(1101, "advanced_type must be admin or emergency")
    pw = SimAdvancedPassword.objects.filter(device=call.dev, advanced_type=advanced_type).first()
    if pw is None:
        raise TuyaError(2323)
    offline.settle_advanced(call.dev, pw, call.now)
    return {"advanced_type": advanced_type, "phase": pw.phase}


_D = "/v1.0/devices/{device_id}/door-lock"
ROUTES = [
    ("POST", f"{_D}/offline-temp-password", offline_password_v10),
    ("POST", "/v1.1/devices/{device_id}/door-lock/offline-temp-password", offline_password_v11),
    ("PUT", f"{_D}/offline-temp-password/{{password_id}}", offline_password_rename),
    ("GET", f"{_D}/dynamic-password", dynamic_password),
    ("POST", f"{_D}/advanced-password", advanced_password_set),
    ("GET", f"{_D}/advanced-password", advanced_password_get),
]
