"""Unlocking methods: enrollment in steps, assignment, deletion, names, duress and photo attributes
(spec "Unlocking method APIs")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from locks.simulator import dpcodes, listing, lockstate, params
from locks.simulator.errors import TuyaError
from locks.simulator.kinds import BLE, BLE_GATEWAY, WIFI_KEEPALIVE, WIFI_VIDEO
from locks.simulator.models import SimEnrollment, SimUnlockMethod, SimUser

if TYPE_CHECKING:
    from locks.simulator.api import Call

# "(home user only)" in the spec's applicable-kinds lists.
HOME_USER_ONLY = frozenset({WIFI_KEEPALIVE, WIFI_VIDEO})


def _user(call: Call, user_type_raw: Any, user_id: str) -> SimUser:
    """The user named by (user_type, user_id): 1 a home user, 2 a device user ("not a home user")."""
    if isinstance(user_type_raw, bool) or str(user_type_raw).strip() not in ("1", "2"):
        if user_type_raw in (None, ""):
            raise TuyaError(1100, "user_type")
        raise TuyaError(1109, "user_type must be 1 or 2")
    home = str(user_type_raw).strip() == "1"
    if not home and call.dev.kind in HOME_USER_ONLY:
        raise TuyaError(1109, "this lock takes home users only (user_type 1)")
    if home:
        lockstate.owner(call.dev, call.now)
    user = call.dev.users.filter(user_id=user_id, home=home, state=SimUser.State.ACTIVE).first()
    if user is None:
        raise TuyaError(2006)
    return user


def _method(call: Call, code: str, unlock_sn: str | int, **filters: Any) -> SimUnlockMethod:
    if not str(unlock_sn).isdigit():
        raise TuyaError(1104, "unlock number")
    method = call.dev.methods.filter(dp_code=code, unlock_sn=int(unlock_sn), in_cloud=True, **filters).first()
    if method is None:
        raise TuyaError(1109, f"no {code} {unlock_sn} on this lock")
    return method


def _type_filter(call: Call) -> str:
    raw = str(listing.get(call.query, "unlock_type") or "")
    return dpcodes.method_code(raw) if raw else ""


def assigned_keys(call: Call) -> dict[str, Any]:
    user = _user(call, call.args["user_type"], call.args["user_id"])
    code = _type_filter(call)
    methods = user.methods.filter(in_cloud=True)
    if code:
        methods = methods.filter(dp_code=code)
    keys = [
        {"unlock_no": m.unlock_sn, "unlock_type": dpcodes.SHORT_NAMES[m.dp_code], "hijack": m.hijack} for m in methods
    ]
    return {"unlock_keys": keys}


def unassigned_keys(call: Call) -> dict[str, Any]:
    code = _type_filter(call)
    methods = call.dev.methods.filter(user__isnull=True, in_cloud=True)
    if code:
        methods = methods.filter(dp_code=code)
    return {"unlock_keys": [{"unlock_no": m.unlock_sn, "unlock_type": dpcodes.SHORT_NAMES[m.dp_code]} for m in methods]}


def opmodes_sync(call: Call) -> bool:
    # The table puts codes in the URL, the sample in the body: either is read.
    raw = listing.get(call.query, "codes") or listing.get(call.body, "codes")
    if raw is None:
        raise TuyaError(1100, "codes")
    codes = dpcodes.code_list(str(raw), dpcodes.METHOD_CODES, "codes")
    if not call.dev.online:
        raise TuyaError(2001)
    # Methods enrolled at the lock itself become known to the cloud.
    call.dev.methods.filter(dp_code__in=codes, in_cloud=False).update(in_cloud=True)
    return True


def method_entry(call: Call) -> bool:
    body, device = call.body, call.dev
    user = _user(call, body.get("user_type"), params.string(body, "user_id", required=True))
    code = dpcodes.method_code(params.string(body, "unlock_type", required=True))
    if not device.online:
        raise TuyaError(2001)
    if lockstate.active_enrollment(device) is not None:
        raise TuyaError(2328)
    total = lockstate.ENROLL_STEPS.get(code, 1)
    enrollment = SimEnrollment(
        device=device, user=user, dp_code=code, total=total, remaining=total, created_at=call.now, updated_at=call.now
    )
    enrollment.messages = [lockstate.enrollment_message(enrollment)]
    if device.kind in (BLE, BLE_GATEWAY) and code == "unlock_password" and body.get("password"):
        # A Bluetooth lock takes the password from the call itself (ticket-encrypted): no keypad steps.
        from locks.simulator import api  # api imports this module; the ticket check lives there

        pin = api._decrypt_pin(call)
        enrollment.method = lockstate.add_method(device, code, call.now, user=user, pin=pin)
        enrollment.remaining, enrollment.state = 0, SimEnrollment.State.DONE
        enrollment.messages.append(lockstate.enrollment_message(enrollment, finish=True))
    enrollment.save()
    return True


def method_entry_cancel(call: Call) -> bool:
    code = dpcodes.method_code(call.args["unlock_type"])
    enrollment = lockstate.active_enrollment(call.dev)
    # Nothing to cancel answers true as well, so a retry after a lost reply succeeds.
    if enrollment is not None and enrollment.dp_code == code:
        enrollment.state, enrollment.updated_at = SimEnrollment.State.CANCELLED, call.now
        enrollment.messages = [*enrollment.messages, lockstate.enrollment_message(enrollment, operate=2, finish=True)]
        enrollment.save()
    return True


def method_delete(call: Call) -> bool:
    user = _user(call, call.args["user_type"], call.args["user_id"])
    code = dpcodes.method_code(call.args["unlock_type"])
    _method(call, code, call.args["unlock_no"], user=user).delete()
    return True


def method_rename(call: Call) -> bool:
    code = dpcodes.method_code(params.string(call.body, "dp_code", required=True), "dp_code")
    name = params.string(call.body, "unlock_name", required=True)
    if len(name) > 100:
        raise TuyaError(1101, "unlock_name is at most 100 characters")
    method = _method(call, code, call.args["unlock_sn"])
    method.name = name
    method.save(update_fields=["name"])
    return True


def _set_hijack(call: Call, code: str, number: str, hijack: bool) -> bool:
    method = _method(call, code, number)
    method.hijack = hijack
    method.save(update_fields=["hijack"])
    return True


def hijack_set(call: Call) -> bool:
    return _set_hijack(call, dpcodes.method_code(call.args["unlock_type"]), call.args["unlock_no"], True)


def hijack_delete(call: Call) -> bool:
    return _set_hijack(call, dpcodes.method_code(call.args["unlock_type"]), call.args["unlock_sn"], False)


def user_opmodes(call: Call) -> list[dict[str, Any]]:
    user = call.dev.users.filter(user_id=call.args["user_id"], state=SimUser.State.ACTIVE).first()
    if user is None:
        raise TuyaError(2006)
    for name in ("codes", "unlock_name"):
        if not listing.present(call.query, name):  # required, though the value may be empty
            raise TuyaError(1100, name)
    codes = dpcodes.code_list(str(listing.get(call.query, "codes") or ""), dpcodes.METHOD_CODES, "codes")
    wanted_name = str(listing.get(call.query, "unlock_name") or "").lower()
    page_no, page_size = listing.page(call.query)
    methods = [
        m
        for m in user.methods.filter(in_cloud=True)
        if (not codes or m.dp_code in codes) and wanted_name in m.name.lower()
    ]
    chunk, _ = listing.slice_page(methods, page_no, page_size)
    # The sample's result is the bare list of the page.
    return [
        {
            "phase": 1,
            "dp_code": m.dp_code,
            "unlock_attr": 1 if m.hijack else 0,
            "unlock_name": m.name,
            "user_name": user.nick_name,
            "user_id": user.user_id,
            "unlock_sn": m.unlock_sn,
            "uid": user.uid,
            "unlock_id": f"{dpcodes.DP_IDS.get(m.dp_code, 0)}-{m.unlock_sn}",
            "operate": "CREATE",
            "lock_user_id": user.lock_user_id,
            "opmode_id": str(m.opmode_id),
            "voice_attr": 1 if m.voice else 0,
            "user_type": user.user_type,
            "delivery_status": "SUCCESS",
            "allocate_flag": 0 if m.ever_allocated else 1,
            "notify_info": {"app_send": 1},
        }
        for m in chunk
    ]


def opmode_attr(call: Call) -> bool:
    opmode_id, attribute = call.args["opmode_id"], call.args["attribute"]
    if not opmode_id.isdigit() or not attribute.isdigit():
        raise TuyaError(1104, "opmode_id / attribute")
    if int(attribute) not in (1, 2):
        raise TuyaError(1101, "attribute must be 1 (voice) or 2 (photo capturing)")
    if "enabled" not in call.body:
        raise TuyaError(1100, "enabled")
    enabled = call.body["enabled"]
    if not isinstance(enabled, bool):
        raise TuyaError(1104, "enabled")
    method = call.dev.methods.filter(opmode_id=int(opmode_id), in_cloud=True).first()
    if method is None:
        raise TuyaError(1109, "opmode_id")
    if int(attribute) == 1:
        method.voice = enabled
    else:
        method.photo = enabled
    method.save(update_fields=["voice", "photo"])
    return True


_D = "/v1.0/devices/{device_id}/door-lock"
_S = "/v1.0/smart-lock/devices/{device_id}"
_U = f"{_D}/user-types/{{user_type}}/users/{{user_id}}"
ROUTES = [
    ("GET", f"{_U}/assigned-keys", assigned_keys),
    ("GET", f"{_D}/unassigned-keys", unassigned_keys),
    ("POST", f"{_S}/opmodes/actions/sync", opmodes_sync),
    # The sync sample is sent with PUT although the API list says POST.
    ("PUT", f"{_S}/opmodes/actions/sync", opmodes_sync),
    ("PUT", f"{_D}/actions/entry", method_entry),
    ("DELETE", f"{_U}/unlock-types/{{unlock_type}}/keys/{{unlock_no}}", method_delete),
    ("PUT", f"{_D}/unlock-types/{{unlock_type}}/actions/cancel", method_entry_cancel),
    ("PUT", f"{_D}/opmodes/{{unlock_sn}}", method_rename),
    ("PUT", f"{_D}/unlock-types/{{unlock_type}}/keys/{{unlock_no}}/hijack", hijack_set),
    ("DELETE", f"{_S}/unlock-types/{{unlock_type}}/keys/{{unlock_sn}}/hijack", hijack_delete),
    ("GET", f"{_S}/opmodes/{{user_id}}", user_opmodes),
    ("POST", f"{_S}/opmodes/{{opmode_id}}/attribute/{{attribute}}/opmode-attr", opmode_attr),
]
