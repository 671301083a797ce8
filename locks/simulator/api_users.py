"""Device users (added through the API) and home users (members of the owner's home, added in the Tuya app,
here through the world API), with their validity periods (spec "Device user management")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from locks.simulator import dpcodes, listing, lockstate, params, schedule, transport
from locks.simulator.errors import TuyaError
from locks.simulator.kinds import ACCESS_CONTROL, KINDS
from locks.simulator.models import SimDevice, SimUnlockMethod, SimUser

if TYPE_CHECKING:
    from locks.simulator.api import Call

ROLES = {"admin": 10, "normal": 20}


# --- device users (Wi-Fi, Zigbee, Bluetooth) ----------------------------------------------------------------


def _profile(body: dict[str, Any]) -> dict[str, Any]:
    nick_name = params.string(body, "nick_name", required=True)
    if len(nick_name) > 100:
        raise TuyaError(1101, "nick_name is at most 100 characters")
    sex = params.required_integer(body, "sex")
    if sex not in (1, 2):
        raise TuyaError(1101, "sex must be 1 or 2")
    fields: dict[str, Any] = {"nick_name": nick_name, "sex": sex}
    for name in ("birthday", "height", "weight"):
        number = params.integer(body, name)
        if number is not None and number < 0:
            raise TuyaError(1101, name)
        fields[name] = number
    return fields


def _device_user(call: Call) -> SimUser:
    user = call.dev.users.filter(user_id=call.args["user_id"], home=False).first()
    if user is None:
        raise TuyaError(2006)
    return user


def device_user_add(call: Call) -> dict[str, str]:
    fields = _profile(call.body)
    fields["contact"] = params.string(call.body, "contact")[:100]
    user = lockstate.create_user(call.dev, call.now, home=False, **fields)
    return {"user_id": user.user_id}


def device_user_modify(call: Call) -> bool:
    user = _device_user(call)
    for name, value in _profile(call.body).items():
        setattr(user, name, value)
    if "contact" in call.body:  # not in the modify table; kept when sent, as Tuya's Java bean would
        user.contact = params.string(call.body, "contact")[:100]
    user.save()
    return True


def device_user_delete(call: Call) -> bool:
    # Its fingerprints and cards stay on the lock, unassigned (unassigned-keys lists them again).
    _device_user(call).delete()
    return True


def _device_user_json(user: SimUser) -> dict[str, Any]:
    return {
        "device_id": user.device_id,
        "user_id": user.user_id,
        "nick_name": user.nick_name,
        "sex": user.sex,
        "birthday": user.birthday,
        "height": user.height,
        "weight": user.weight,
        "contact": user.contact,
    }


def device_user_get(call: Call) -> dict[str, Any]:
    return _device_user_json(_device_user(call))


def device_user_list(call: Call) -> list[dict[str, Any]]:
    return [_device_user_json(u) for u in call.dev.users.filter(home=False)]


def device_user_allocate(call: Call) -> bool:
    user = _device_user(call)
    code = dpcodes.method_code(params.string(call.body, "type", required=True), "type")
    number = params.required_integer(call.body, "no")
    _assign(call.dev, user, code, number)
    return True


def _assign(device: SimDevice, user: SimUser, code: str, unlock_sn: int) -> SimUnlockMethod:
    method = device.methods.filter(dp_code=code, unlock_sn=unlock_sn, in_cloud=True).first()
    if method is None:
        raise TuyaError(1109, f"no {code} {unlock_sn} on this lock")
    if method.user_id not in (None, user.pk):
        raise TuyaError(2306, f"{code} {unlock_sn} belongs to another user")
    method.user, method.ever_allocated = user, True
    method.save(update_fields=["user", "ever_allocated"])
    return method


# --- home users ---------------------------------------------------------------------------------------------


def user_json(user: SimUser, device: SimDevice, call: Call) -> dict[str, Any]:
    return {
        "user_id": user.user_id,
        "avatar_url": user.avatar_url,
        "user_contact": user.contact,
        "user_type": user.user_type,
        "nick_name": user.nick_name,
        "lock_user_id": user.lock_user_id,
        "back_home_notify_attr": 0,
        "effective_flag": lockstate.effective_flag(user, device, call.now),
        "time_schedule_info": lockstate.time_schedule_info(user, device),
        "uid": user.uid,
    }


def _home_users(call: Call) -> list[SimUser]:
    lockstate.owner(call.dev, call.now)
    return list(call.dev.users.filter(home=True, state=SimUser.State.ACTIVE))


def _home_user(call: Call, user_id: str) -> SimUser:
    if user_id == "0":
        return lockstate.owner(call.dev, call.now)
    lockstate.owner(call.dev, call.now)
    user = call.dev.users.filter(user_id=user_id, home=True, state=SimUser.State.ACTIVE).first()
    if user is None:
        raise TuyaError(2006)
    return user


def device_user_get_v11(call: Call) -> dict[str, Any]:
    user = _home_user(call, call.args["user_id"])
    # "You cannot query the administrators": other than the caller (0 = the current user, the owner).
    if user.user_type == 10:
        raise TuyaError(1106, "administrators cannot be queried")
    return user_json(user, call.dev, call)


def device_user_list_v11(call: Call) -> dict[str, Any]:
    for name in ("keyword", "role"):
        if not listing.present(call.query, name):  # required, though an empty value does not filter
            raise TuyaError(1100, name)
    keyword = str(listing.get(call.query, "keyword") or "").lower()
    role = str(listing.get(call.query, "role") or "")
    if role and role not in ROLES:
        raise TuyaError(1109, "role must be admin or normal")
    page_no, page_size = listing.page(call.query)
    users = _home_users(call)
    if keyword:
        users = [u for u in users if keyword in u.nick_name.lower() or keyword in u.contact.lower()]
    if role:
        users = [u for u in users if (u.user_type in (10, 50)) == (role == "admin")]
    chunk, meta = listing.slice_page(users, page_no, page_size)
    return {**meta, "records": [user_json(u, call.dev, call) for u in chunk]}


def device_user_role(call: Call) -> bool:
    role = params.string(call.body, "role", required=True)
    if role not in ROLES:
        raise TuyaError(1109, "role must be admin or normal")
    user = _home_user(call, call.args["user_id"])
    if user.user_type == 50:
        raise TuyaError(2306, "the owner's role cannot change")
    user.user_type = ROLES[role]
    user.save(update_fields=["user_type"])
    return True


def opmodes_allocate(call: Call) -> bool:
    user_id = params.string(call.body, "user_id", required=True)
    user = call.dev.users.filter(user_id=user_id, state=SimUser.State.ACTIVE).first()
    if user is None:
        raise TuyaError(2006)
    unlock_list = call.body.get("unlock_list")
    if not unlock_list:
        raise TuyaError(1100, "unlock_list")
    if not isinstance(unlock_list, list) or not all(isinstance(i, dict) for i in unlock_list):
        raise TuyaError(1104, "unlock_list")
    for item in unlock_list:  # all or nothing: a refusal rolls the whole call back
        code = dpcodes.method_code(params.string(item, "dp_code", required=True), "dp_code")
        _assign(call.dev, user, code, params.required_integer(item, "unlock_sn"))
    return True


def _device_record(device: SimDevice, uid: str) -> dict[str, Any]:
    kind = KINDS[device.kind]
    tz = schedule.parse_time_zone(device.time_zone)
    assert tz is not None
    return {
        "id": device.id,
        "uuid": device.uuid,
        "uid": uid,
        "name": device.name,
        "time_zone": schedule.offset_label(tz, device.updated_at),
        "ip": device.ip,
        "local_key": device.local_key,
        "sub": kind.sub,
        "model": kind.product_name,
        "active_time": int(device.created_at.timestamp()),
        "lon": "",
        "lat": "",
        "owner_id": device.owner_id,
        "product_id": device.product_id,
        "product_name": kind.product_name,
        "category": kind.category,
        "icon": f"smart/icon/sim_{kind.category}.png",
        "online": device.online,
    }


def user_devices(call: Call) -> dict[str, Any]:
    """Access-control devices of the calling project the account can use: all of them for the project's own account."""
    uid = call.args["uid"]
    page_no, page_size = listing.page(call.query)
    devices = SimDevice.objects.filter(kind=ACCESS_CONTROL, access_id=call.access_id).order_by("created_at", "id")
    if uid != transport.project_uid(call.access_id):
        if not SimUser.objects.filter(uid=uid, device__access_id=call.access_id).exists():
            raise TuyaError(2006)
        devices = devices.filter(users__uid=uid, users__state=SimUser.State.ACTIVE).distinct()
    chunk, meta = listing.slice_page(list(devices), page_no, page_size)
    return {**meta, "records": [_device_record(d, uid) for d in chunk]}


def _unlock_detail(user: SimUser, codes: list[str]) -> list[dict[str, Any]]:
    detail = []
    for code in codes:
        methods = [m for m in user.methods.all() if m.dp_code == code and m.in_cloud]
        items = [
            {
                "unlock_id": f"{dpcodes.DP_IDS.get(code, 0)}-{m.unlock_sn}",
                "unlock_sn": m.unlock_sn,
                "unlock_name": m.name,
                "unlock_attr": 1 if m.hijack else 0,
                "op_mode_id": m.opmode_id,
                "photo_unlock": m.photo,
                "admin": user.user_type in (10, 50),
            }
            for m in methods
        ]
        detail.append({"dp_code": code, "count": len(items), "unlock_list": items})
    return detail


def home_user_list(call: Call) -> dict[str, Any]:
    raw = listing.get(call.query, "codes")
    if raw is None:
        raise TuyaError(1100, "codes")
    codes = dpcodes.code_list(str(raw), dpcodes.METHOD_CODES, "codes")
    page_no, page_size = listing.page(call.query)
    chunk, meta = listing.slice_page(_home_users(call), page_no, page_size)
    records = [{**user_json(u, call.dev, call), "unlock_detail": _unlock_detail(u, codes)} for u in chunk]
    return {**meta, "records": records}


def _schedule_fields(call: Call) -> dict[str, Any]:
    # The table nests the fields under "schedule"; the sample sends them at the top level in camelCase.
    nested = call.body.get("schedule")
    data = nested if isinstance(nested, dict) else call.body
    if not data:
        raise TuyaError(1100, "schedule")
    permanent = listing.boolean(data, "permanent")
    effective = listing.integer(data, "effective_time", required=not permanent)
    expired = listing.integer(data, "expired_time", required=not permanent)
    if not permanent:
        for name, value in (("effective_time", effective), ("expired_time", expired)):
            if not 1_000_000_000 <= value <= 9_999_999_999:
                raise TuyaError(1101, f"{name} must be a 10-digit timestamp in seconds")
        if effective >= expired:
            raise TuyaError(1101, "effective_time must be before expired_time")
    raw = listing.get(data, "schedule_details") or []
    if not isinstance(raw, list) or not all(isinstance(i, dict) for i in raw):
        raise TuyaError(1104, "schedule_details")
    details = []
    for item in raw:
        start, end = listing.integer(item, "start_minute"), listing.integer(item, "end_minute")
        days = listing.integer(item, "working_day")
        if not (0 <= start <= schedule.MINUTES_PER_DAY and 0 <= end <= schedule.MINUTES_PER_DAY):
            raise TuyaError(1101, "schedule_details minutes must be 0..1440")
        if not 0 <= days <= 127:
            raise TuyaError(1101, "schedule_details working_day must be 0..127")
        tz = str(listing.get(item, "time_zone_id") or "")
        if tz and schedule.parse_time_zone(tz) is None:
            raise TuyaError(1109, "time_zone_id")
        details.append(
            {
                "start_minute": start,
                "end_minute": end,
                "working_day": days,
                "all_day": listing.boolean(item, "all_day"),
                "time_zone_id": tz,
            }
        )
    return {
        "permanent": permanent,
        "effective_time": None if permanent else effective,
        "expired_time": None if permanent else expired,
        "schedule_details": details,
    }


def user_schedule_update(call: Call) -> bool:
    user = _home_user(call, call.args["user_id"])
    fields = _schedule_fields(call)
    if user.user_type == 50:
        raise TuyaError(2306, "the owner is always permanent")
    for name, value in fields.items():
        setattr(user, name, value)
    user.schedule_operate = "MODIFY"
    user.save()
    return True


def absent_user_list(call: Call) -> list[dict[str, Any]]:
    absent = call.dev.users.filter(state=SimUser.State.ABSENT)
    return [{"user_id": u.user_id, "user_type": u.user_type, "lock_user_id": u.lock_user_id} for u in absent]


def absent_user_delete(call: Call) -> bool:
    ids = [i.strip() for i in call.args["user_ids"].split(",") if i.strip()]
    if not ids:
        raise TuyaError(1100, "user_ids")
    users = list(call.dev.users.filter(user_id__in=ids, state=SimUser.State.ABSENT))
    if len(users) != len(set(ids)):
        raise TuyaError(2006, "only removed users can be deleted from the lock")
    for user in users:
        user.methods.all().delete()  # the lock forgets the user's fingerprints, cards and passwords with it
        user.delete()
    return True


_S = "/v1.0/smart-lock/devices/{device_id}"
ROUTES = [
    ("POST", "/v1.0/devices/{device_id}/user", device_user_add),
    ("PUT", "/v1.0/devices/{device_id}/users/{user_id}", device_user_modify),
    ("PUT", f"{_S}/users/{{user_id}}/actions/role", device_user_role),
    ("DELETE", "/v1.0/devices/{device_id}/users/{user_id}", device_user_delete),
    ("GET", "/v1.0/devices/{device_id}/users/{user_id}", device_user_get),
    ("GET", "/v1.1/devices/{device_id}/users/{user_id}", device_user_get_v11),
    ("GET", "/v1.0/devices/{device_id}/users", device_user_list),
    ("GET", "/v1.1/devices/{device_id}/users", device_user_list_v11),
    ("POST", "/v1.0/devices/{device_id}/device-lock/users/{user_id}/allocate", device_user_allocate),
    ("POST", "/v1.0/devices/{device_id}/door-lock/opmodes/actions/allocate", opmodes_allocate),
    ("GET", "/v1.0/smart-lock/users/{uid}/devices", user_devices),
    ("GET", f"{_S}/users", home_user_list),
    ("PUT", f"{_S}/users/{{user_id}}/schedule", user_schedule_update),
    ("GET", "/v1.0/devices/{device_id}/door-lock/absent-users", absent_user_list),
    ("POST", f"{_S}/users/{{user_ids}}/actions/delete-users-issue", absent_user_delete),
]
