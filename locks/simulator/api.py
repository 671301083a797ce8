"""The cloud's endpoints: one handler per (method, path template) of the spec, and the route table."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from locks.simulator import (
    api_logs,
    api_methods,
    api_offline,
    api_project,
    api_remote,
    api_users,
    conf,
    crypto,
    delivery,
    params,
    schedule,
    transport,
)
from locks.simulator.errors import TuyaError
from locks.simulator.kinds import APPLICABLE, BLE, BLE_GATEWAY, KINDS, pin_length
from locks.simulator.models import SimDevice, SimPassword, SimTicket, SimToken

Lifecycle = SimPassword.Lifecycle


@dataclass
class Call:
    """One verified API call."""

    access_id: str
    now: datetime
    query: dict[str, str]
    body: dict[str, Any]
    device: SimDevice | None = None
    args: dict[str, str] = field(default_factory=dict)
    base_url: str = ""  # the simulator's mount as the caller reached it, ending in "/": media URLs start here

    @property
    def dev(self) -> SimDevice:
        assert self.device is not None
        return self.device


# --- tokens -------------------------------------------------------------------------------------------------


def token_grant(call: Call) -> dict[str, Any]:
    grant_type = call.query.get("grant_type", "")
    if not grant_type:
        raise TuyaError(1100, "grant_type")
    if grant_type != "1":
        raise TuyaError(1003)
    # A repeated grant returns the live token with its remaining lifetime (docs/tuya-protocol.md tokens, tinytuya #346).
    token = (
        SimToken.objects.filter(access_id=call.access_id, used=False, expires_at__gt=call.now)
        .order_by("-created_at", "-id")
        .first()
    )
    return transport.token_result(token or transport.issue_token(call.access_id, call.now), call.now)


def token_refresh(call: Call) -> dict[str, Any]:
    old = SimToken.objects.filter(access_id=call.access_id, refresh_token=call.args["refresh_token"], used=False)
    # A refresh token works once; refreshing kills the old access token with it.
    if not old.update(used=True):
        raise TuyaError(1010)
    return transport.token_result(transport.issue_token(call.access_id, call.now), call.now)


# --- device -------------------------------------------------------------------------------------------------


def device_details(call: Call) -> dict[str, Any]:
    device, kind = call.dev, KINDS[call.dev.kind]
    tz = schedule.parse_time_zone(device.time_zone)
    assert tz is not None
    battery_state = "high" if device.battery > 60 else "medium" if device.battery > 20 else "low"
    return {
        "active_time": int(device.created_at.timestamp()),
        "biz_type": 0,
        "category": kind.category,
        "create_time": int(device.created_at.timestamp()),
        "icon": f"smart/icon/sim_{kind.category}.png",
        "id": device.id,
        "ip": device.ip,
        "local_key": device.local_key,
        "name": device.name,
        "online": device.online,
        "owner_id": device.owner_id,
        "product_id": device.product_id,
        "product_name": kind.product_name,
        "status": [
            {"code": "residual_electricity", "value": device.battery},
            {"code": "battery_state", "value": "poweroff" if device.battery == 0 else battery_state},
        ],
        "sub": kind.sub,
        "time_zone": schedule.offset_label(tz, call.now),
        "uid": transport.project_uid(call.access_id),
        "update_time": int(device.updated_at.timestamp()),
        "uuid": device.uuid,
    }


# --- tickets ------------------------------------------------------------------------------------------------


def password_ticket(call: Call) -> dict[str, Any]:
    ttl = conf.ticket_ttl()
    key = crypto.new_ticket_key()
    ticket = SimTicket.objects.create(
        ticket_id="".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(8)),
        key=key,
        access_id=call.access_id,
        device=call.dev,
        expires_at=call.now + timedelta(seconds=ttl),
    )
    secret = transport.project_secret(call.access_id)
    assert secret is not None
    return {"expire_time": ttl, "ticket_id": ticket.ticket_id, "ticket_key": crypto.wrap_ticket_key(secret, key)}


def _decrypt_pin(call: Call) -> str:
    """The PIN the caller encrypted with the ticket's key; refused as Tuya refuses a bad one (1109)."""
    body = call.body
    password_type = params.string(body, "password_type", required=True)
    if password_type != "ticket":
        raise TuyaError(1109, "password_type")
    ticket_id = params.string(body, "ticket_id", required=True)
    password = params.string(body, "password", required=True)
    ticket = SimTicket.objects.filter(ticket_id=ticket_id, access_id=call.access_id, device=call.dev).first()
    if ticket is None:
        raise TuyaError(1109, "ticket_id")
    if ticket.expires_at <= call.now:
        raise TuyaError(1109, "ticket expired")
    pin = crypto.decrypt_pin(ticket.key, password)
    if pin is None:
        raise TuyaError(1109, "password")
    wanted = pin_length(call.dev.kind)
    if not pin.isdigit() or len(pin) != wanted:
        raise TuyaError(1101, f"password must be {wanted} digits for this lock")
    return pin


decrypt_ticket_pin = _decrypt_pin  # open-door and advanced passwords send PINs the same way


def _password_fields(call: Call, *, named: bool) -> dict[str, Any]:
    """Validated fields of a create or modify body, as model field values."""
    body, device = call.body, call.dev
    pin = _decrypt_pin(call)
    effective, invalid = params.timestamp(body, "effective_time"), params.timestamp(body, "invalid_time")
    if effective >= invalid:
        raise TuyaError(1101, "effective_time must be before invalid_time")
    if invalid <= int(call.now.timestamp()):
        raise TuyaError(2318)
    zigbee = KINDS[device.kind].family == "zigbee"
    use_type = params.integer(body, "type", required=zigbee, default=0)
    if use_type not in (0, 1):
        raise TuyaError(1101, "type")
    fields: dict[str, Any] = {
        "pin": pin,
        "effective_time": effective,
        "invalid_time": invalid,
        "type": use_type,
        "phone": params.string(body, "phone"),
        "time_zone": params.time_zone(body, ""),
        "schedule_list": params.schedule_list(body),
    }
    if named:
        fields["name"] = params.string(body, "name", required=True)[:100]
    return fields


def _new_password_id() -> int:
    while True:
        candidate = 1_000_000 + secrets.randbelow(9_000_000)
        if not SimPassword.objects.filter(password_id=candidate).exists():
            return candidate


def _create(call: Call, *, named: bool) -> dict[str, Any]:
    fields = _password_fields(call, named=named)
    pw = SimPassword(
        device=call.dev, password_id=_new_password_id(), created_at=call.now, updated_at=call.now, **fields
    )
    delivery.start_op(pw, "add", call.now)
    pw.save()
    return {"id": pw.password_id}


def temp_password_create(call: Call) -> dict[str, Any]:
    return _create(call, named=True)


def temp_password_create_v2(call: Call) -> dict[str, Any]:
    return _create(call, named=False)


# --- reading passwords --------------------------------------------------------------------------------------


def _password_json(pw: SimPassword, kind: str) -> dict[str, Any]:
    return {
        "id": pw.password_id,
        "name": pw.name,
        "phase": delivery.phase(pw, kind),
        "effective_time": pw.effective_time,
        "invalid_time": pw.invalid_time,
        "phone": pw.phone,
        "time_zone": pw.time_zone,
        "delivery_status": pw.delivery_status,
        "schedule_list": pw.schedule_list,
    }


def _is_valid(pw: SimPassword, now: datetime) -> bool:
    """`valid` filter: still meant to open the door (not deleted, not failed, not used up, not expired)."""
    live = pw.lifecycle in (Lifecycle.ADDING, Lifecycle.ACTIVE) and pw.op != "delete"
    return live and not (pw.type == 1 and pw.used) and pw.invalid_time > int(now.timestamp())


def _password_id(call: Call) -> int:
    raw = call.args["password_id"]
    if not raw.isdigit():
        raise TuyaError(1104, "password_id")
    return int(raw)


def _find(call: Call) -> SimPassword:
    pw = delivery.find_password(call.dev, _password_id(call), call.now)
    if pw is None:
        raise TuyaError(2323)
    return pw


def temp_password_get(call: Call) -> dict[str, Any]:
    return _password_json(_find(call), call.dev.kind)


def temp_password_list(call: Call) -> list[dict[str, Any]]:
    valid = params.boolean_query(call.query, "valid")
    result = []
    for pw in delivery.all_passwords(call.dev, call.now):
        if valid is None or _is_valid(pw, call.now) == valid:
            # The spec's table says `id`, its sample says `password_id`: both are sent.
            result.append({**_password_json(pw, call.dev.kind), "password_id": pw.password_id})
    return result


def _keepalive_record(pw: SimPassword, device: SimDevice, now: datetime) -> dict[str, Any]:
    ts = int(now.timestamp())
    if not _is_valid(pw, now):
        flag = 0
    elif ts < pw.effective_time:
        flag = 2
    else:
        flag = 1
    status = "ONGOING" if pw.op else "SUCCESS" if pw.delivery_status == 2 else "FAILED"
    return {
        "password_id": pw.password_id,
        "name": pw.name,
        "gmt_create": int(pw.created_at.timestamp()),
        "effective_time": pw.effective_time,
        "expired_time": pw.invalid_time,
        "operate": {"add": "ADD", "delete": "DELETE"}.get(pw.last_op, "MODIFY"),
        "delivery_status": status,
        "effective_flag": flag,
        "phone": pw.phone,
        "pwd_type_code": "temp",
        "sn": pw.sn or 0,
        "schedule_details": [
            {
                "start_minute": item["effective_time"],
                "end_minute": item["invalid_time"],
                "working_day": item["working_day"],
                "all_day": False,
                "time_zone_id": pw.time_zone or device.time_zone,
            }
            for item in pw.schedule_list
        ],
    }


def stand_by_temp_password_list(call: Call) -> dict[str, Any]:
    valid = params.boolean_query(call.query, "valid")
    # The spec's table spells these lastRowKey/pageSize and its sample last_row_key/page_size: accept both.
    last = call.query.get("last_row_key") or call.query.get("lastRowKey") or ""
    size_raw = call.query.get("page_size") or call.query.get("pageSize") or "20"
    if not size_raw.isdigit() or (last and not last.isdigit()):
        raise TuyaError(1104, "page_size / last_row_key")
    size = min(max(int(size_raw), 1), 100)
    rows = sorted(delivery.all_passwords(call.dev, call.now), key=lambda p: p.password_id)
    rows = [p for p in rows if (valid is None or _is_valid(p, call.now) == valid)]
    if last:
        rows = [p for p in rows if p.password_id > int(last)]
    page, has_more = rows[:size], len(rows) > size
    return {
        "has_more": has_more,
        "last_row_key": str(page[-1].password_id) if has_more else "",
        "records": [_keepalive_record(p, call.dev, call.now) for p in page],
    }


# --- changing passwords -------------------------------------------------------------------------------------


def _in_flight(pw: SimPassword) -> bool:
    return bool(pw.op) and pw.op_due_at is not None


def temp_password_modify(call: Call) -> bool:
    pw = _find(call)
    if pw.lifecycle != Lifecycle.ACTIVE or _in_flight(pw):
        raise TuyaError(2324)
    fields = _password_fields(call, named=False)
    name = params.string(call.body, "name")
    if name:
        fields["name"] = name[:100]
    if call.dev.kind in (BLE, BLE_GATEWAY) and fields["pin"] != pw.pin:
        raise TuyaError(2306, "Bluetooth locks do not support changing the password")
    delivery.start_op(pw, "modify", call.now, fields)
    pw.save()
    return True


def _freeze(call: Call, *, freeze: bool) -> bool:
    pw = _find(call)
    if pw.lifecycle != Lifecycle.ACTIVE or _in_flight(pw) or pw.frozen == freeze:
        raise TuyaError(2324)
    delivery.start_op(pw, "freeze" if freeze else "unfreeze", call.now)
    pw.save()
    return True


def temp_password_freeze(call: Call) -> bool:
    return _freeze(call, freeze=True)


def temp_password_unfreeze(call: Call) -> bool:
    return _freeze(call, freeze=False)


def _delete(pw: SimPassword, now: datetime) -> None:
    if pw.lifecycle == Lifecycle.DELETED or pw.op == "delete":
        return  # deleting twice is harmless, so a retry after a lost reply succeeds
    if pw.lifecycle == Lifecycle.ACTIVE:
        delivery.start_op(pw, "delete", now)
    else:
        # Never reached the lock: the cloud drops the record at once.
        pw.lifecycle = Lifecycle.DELETED
        pw.op, pw.op_data, pw.op_due_at, pw.last_op = "", {}, None, "delete"
        pw.delivery_status, pw.updated_at = 2, now
    pw.save()


def temp_password_delete(call: Call) -> bool:
    _delete(_find(call), call.now)
    return True


def temp_password_clear(call: Call) -> bool:
    # A deleted password stays deleted; every other record (failed ones too) is dropped or deleted on the lock.
    for pw in delivery.all_passwords(call.dev, call.now):
        _delete(pw, call.now)
    return True


def issue_password(call: Call) -> bool:
    device = call.dev
    password_id = params.integer(call.body, "password_id")
    last = device.last_issue_password_at
    if last is not None and call.now - last < timedelta(seconds=conf.issue_password_interval()):
        raise TuyaError(1113)
    if password_id is not None and not device.passwords.filter(password_id=password_id).exists():
        raise TuyaError(2323)
    delivery.restart_stalled(device, call.now, password_id)
    device.last_issue_password_at = call.now
    device.save(update_fields=["last_issue_password_at"])
    return True


# --- routing ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    name: str
    handler: Callable[[Call], Any]
    pattern: re.Pattern[str]

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}"


def _route(method: str, template: str, handler: Callable[[Call], Any]) -> Route:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return Route(method, template, handler.__name__, handler, re.compile(f"^{regex}$"))


_D = "/v1.0/devices/{device_id}"
_T = f"{_D}/door-lock/temp-passwords/{{password_id}}"
ROUTES: list[Route] = [
    _route("GET", "/v1.0/token", token_grant),
    _route("GET", "/v1.0/token/{refresh_token}", token_refresh),
    _route("GET", _D, device_details),
    _route("POST", f"{_D}/door-lock/password-ticket", password_ticket),
    _route("POST", "/v1.0/smart-lock/devices/{device_id}/password-ticket", password_ticket),
    _route("POST", f"{_D}/door-lock/temp-password", temp_password_create),
    _route("POST", "/v2.0/devices/{device_id}/door-lock/temp-password", temp_password_create_v2),
    _route("POST", f"{_D}/door-lock/issue-password", issue_password),
    _route("GET", f"{_D}/door-lock/temp-password/{{password_id}}", temp_password_get),
    _route("GET", f"{_D}/door-lock/temp-passwords", temp_password_list),
    _route("GET", "/v1.0/smart-lock/devices/{device_id}/stand-by-lock-temp-passwords", stand_by_temp_password_list),
    _route("PUT", f"{_T}/modify-password", temp_password_modify),
    _route("PUT", f"{_T}/freeze-password", temp_password_freeze),
    _route("PUT", f"{_T}/unfreeze-password", temp_password_unfreeze),
    _route("DELETE", _T, temp_password_delete),
    _route("POST", f"{_D}/door-lock/temp-passwords/rest-password", temp_password_clear),
    # The spec's sample request spells it reset-password; accept that spelling too.
    _route("POST", f"{_D}/door-lock/temp-passwords/reset-password", temp_password_clear),
]
# Users, unlock methods, logs, media, offline codes, remote unlocking and the project device list live in
# their own modules.
_GROUPS = (api_users, api_methods, api_logs, api_offline, api_remote, api_project)
ROUTES += [_route(*row) for module in _GROUPS for row in module.ROUTES]


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        if route.method == method:
            found = route.pattern.match(path)
            if found:
                return route, found.groupdict()
    return None


def check_applicable(route: Route, device: SimDevice) -> None:
    kinds = APPLICABLE.get(route.name)
    if kinds is not None and device.kind not in kinds:
        raise TuyaError(2004)
