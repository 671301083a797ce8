"""Device users (not home users), home users and their validity periods, removed users, a user's devices."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any

from ._base import (
    Ack,
    ApiGroup,
    Items,
    Page,
    Role,
    Route,
    ScheduleWindow,
    UnlockDpCode,
    UnlockType,
    as_dict,
    as_list,
    endpoint,
    invalid,
    optional_text,
    page_from,
    pick,
    require_bool,
    require_codes,
    require_enum,
    require_id,
    require_int,
    require_page,
    require_text,
    require_window,
    result_of,
    schedule_windows,
    to_bool,
    to_int,
    to_opt_int,
    to_str,
)
from .device import DeviceDetails

USER_ADD = Route("POST", "/v1.0/devices/{device_id}/user")
USER_MODIFY = Route("PUT", "/v1.0/devices/{device_id}/users/{user_id}")
USER_ROLE = Route("PUT", "/v1.0/smart-lock/devices/{device_id}/users/{user_id}/actions/role")
USER_DELETE = Route("DELETE", "/v1.0/devices/{device_id}/users/{user_id}")
USER_GET = Route("GET", "/v1.0/devices/{device_id}/users/{user_id}")
USER_GET_V11 = Route("GET", "/v1.1/devices/{device_id}/users/{user_id}")
USER_LIST = Route("GET", "/v1.0/devices/{device_id}/users")
USER_LIST_V11 = Route("GET", "/v1.1/devices/{device_id}/users")
USER_ALLOCATE = Route("POST", "/v1.0/devices/{device_id}/device-lock/users/{user_id}/allocate")
HOME_USERS = Route("GET", "/v1.0/smart-lock/devices/{device_id}/users")
USER_SCHEDULE = Route("PUT", "/v1.0/smart-lock/devices/{device_id}/users/{user_id}/schedule")
ABSENT_USERS = Route("GET", "/v1.0/devices/{device_id}/door-lock/absent-users")
DELETE_USERS_ISSUE = Route("POST", "/v1.0/smart-lock/devices/{device_id}/users/{user_ids}/actions/delete-users-issue")
USER_DEVICES = Route("GET", "/v1.0/smart-lock/users/{uid}/devices")

# The unlocking methods the home-user list accepts in `codes` (no remote control there).
_HOME_USER_CODES = frozenset(UnlockDpCode) - {UnlockDpCode.TELECONTROL_KIT}


class Sex(IntEnum):
    MALE = 1
    FEMALE = 2


@dataclass(frozen=True)
class NewDeviceUser:
    user_id: str
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class DeviceUser:
    """A device user (not a home user), v1.0 shape."""

    user_id: str
    device_id: str
    nick_name: str
    sex: int | None
    birthday: int | None
    height: int | None
    weight: int | None
    contact: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any], raw: dict[str, Any] | None = None) -> DeviceUser:
        return cls(
            user_id=to_str(pick(data, "user_id", "id")),
            device_id=to_str(data.get("device_id")),
            nick_name=to_str(data.get("nick_name")),
            sex=to_opt_int(data.get("sex")),
            birthday=to_opt_int(data.get("birthday")),
            height=to_opt_int(data.get("height")),
            weight=to_opt_int(data.get("weight")),
            contact=to_str(data.get("contact")),
            raw=data if raw is None else raw,
        )


@dataclass(frozen=True)
class UserSchedule:
    """A user's validity period (`time_schedule_info`)."""

    permanent: bool
    effective_time: int | None
    expired_time: int | None
    operate: str
    delivery_status: str
    schedule_details: tuple[ScheduleWindow, ...]

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> UserSchedule:
        return cls(
            permanent=to_bool(data.get("permanent")),
            effective_time=to_opt_int(data.get("effective_time")),
            expired_time=to_opt_int(data.get("expired_time")),
            operate=to_str(data.get("operate")),
            delivery_status=to_str(data.get("delivery_status")),
            schedule_details=schedule_windows(data.get("schedule_details")),
        )


@dataclass(frozen=True)
class UnlockListItem:
    """One unlocking method of a home user."""

    unlock_id: str
    unlock_sn: int | None
    unlock_name: str
    unlock_attr: int | None  # 1: duress alarm
    op_mode_id: int | None
    photo_unlock: bool
    admin: bool

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> UnlockListItem:
        return cls(
            unlock_id=to_str(data.get("unlock_id")),
            unlock_sn=to_opt_int(data.get("unlock_sn")),
            unlock_name=to_str(data.get("unlock_name")),
            unlock_attr=to_opt_int(data.get("unlock_attr")),
            op_mode_id=to_opt_int(data.get("op_mode_id")),
            photo_unlock=to_bool(data.get("photo_unlock")),
            admin=to_bool(data.get("admin")),
        )


@dataclass(frozen=True)
class UnlockDetail:
    """A home user's unlocking methods of one kind (`unlock_detail`)."""

    dp_code: str
    count: int
    unlock_list: tuple[UnlockListItem, ...]

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> UnlockDetail:
        return cls(
            dp_code=to_str(data.get("dp_code")),
            count=to_int(data.get("count")),
            unlock_list=tuple(UnlockListItem.from_api(as_dict(item)) for item in as_list(data.get("unlock_list"))),
        )


@dataclass(frozen=True)
class LockUser:
    """A lock user as the v1.1 and smart-lock user APIs describe it (user_type 10 admin, 20 common, 50 owner)."""

    user_id: str
    uid: str
    nick_name: str
    avatar_url: str
    user_contact: str
    user_type: int | None
    lock_user_id: int | None
    back_home_notify_attr: int | None
    effective_flag: int | None
    time_schedule_info: UserSchedule | None
    unlock_detail: tuple[UnlockDetail, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any], raw: dict[str, Any] | None = None) -> LockUser:
        schedule = data.get("time_schedule_info")
        return cls(
            user_id=to_str(data.get("user_id")),
            uid=to_str(data.get("uid")),
            nick_name=to_str(data.get("nick_name")),
            avatar_url=to_str(data.get("avatar_url")),
            user_contact=to_str(data.get("user_contact")),
            user_type=to_opt_int(data.get("user_type")),
            lock_user_id=to_opt_int(data.get("lock_user_id")),
            back_home_notify_attr=to_opt_int(data.get("back_home_notify_attr")),
            effective_flag=to_opt_int(data.get("effective_flag")),
            time_schedule_info=UserSchedule.from_api(schedule) if isinstance(schedule, dict) else None,
            unlock_detail=tuple(UnlockDetail.from_api(as_dict(item)) for item in as_list(data.get("unlock_detail"))),
            raw=data if raw is None else raw,
        )


@dataclass(frozen=True)
class AbsentUser:
    """A removed user (user_type 50 super admin, 10 admin, 20 common, 40 shared, 0 unknown)."""

    user_id: str
    user_type: int | None
    lock_user_id: int | None
    raw: dict[str, Any] = field(repr=False, compare=False)


def _profile(
    nick_name: str, sex: Sex | int, birthday: int | None, height: int | None, weight: int | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "nick_name": require_text(nick_name, "nick_name"),
        "sex": require_enum(Sex, sex, "sex").value,
    }
    if birthday is not None:
        body["birthday"] = require_int(birthday, "birthday")
    if height is not None:
        body["height"] = require_int(height, "height", minimum=1)
    if weight is not None:
        body["weight"] = require_int(weight, "weight", minimum=1)
    return body


# Spec sections "Device user management" and the device-user parts of "Smart lock APIs".
class UsersApi(ApiGroup):
    """Lock users: device users, home users, their roles and validity periods."""

    # Not repeated automatically: a repeat would add a second user.
    @endpoint(USER_ADD)
    def add_device_user(
        self,
        device_id: str,
        *,
        nick_name: str,
        sex: Sex | int,
        birthday: int | None = None,
        height: int | None = None,
        weight: int | None = None,
        contact: str | None = None,
    ) -> NewDeviceUser:
        """Add a device user (not a home user)."""
        path = {"device_id": require_id(device_id, "device_id")}
        body = _profile(nick_name, sex, birthday, height, weight)
        if contact := optional_text(contact, "contact"):
            body["contact"] = contact
        envelope = self._send(USER_ADD, path, body=body, idempotent=False)
        return NewDeviceUser(user_id=to_str(as_dict(result_of(envelope)).get("user_id")), raw=envelope)

    # Modify, role, delete and schedule set absolute values: a repeat leaves the same state.
    @endpoint(USER_MODIFY)
    def modify_device_user(
        self,
        device_id: str,
        user_id: str,
        *,
        nick_name: str,
        sex: Sex | int,
        birthday: int | None = None,
        height: int | None = None,
        weight: int | None = None,
    ) -> Ack:
        """Modify a device user (not a home user)."""
        path = {"device_id": require_id(device_id, "device_id"), "user_id": require_id(user_id, "user_id")}
        body = _profile(nick_name, sex, birthday, height, weight)
        return Ack.from_envelope(self._send(USER_MODIFY, path, body=body, idempotent=True))

    @endpoint(USER_ROLE)
    def set_user_role(self, device_id: str, user_id: str, role: Role | str) -> Ack:
        """Update the role of a device user (admin or normal)."""
        path = {"device_id": require_id(device_id, "device_id"), "user_id": require_id(user_id, "user_id")}
        body = {"role": require_enum(Role, role, "role").value}
        return Ack.from_envelope(self._send(USER_ROLE, path, body=body, idempotent=True))

    @endpoint(USER_DELETE)
    def delete_device_user(self, device_id: str, user_id: str) -> Ack:
        """Delete a device user (not a home user)."""
        path = {"device_id": require_id(device_id, "device_id"), "user_id": require_id(user_id, "user_id")}
        return Ack.from_envelope(self._send(USER_DELETE, path, idempotent=True))

    @endpoint(USER_GET)
    def get_device_user(self, device_id: str, user_id: str) -> DeviceUser:
        """Query the information about a device user (not a home user)."""
        path = {"device_id": require_id(device_id, "device_id"), "user_id": require_id(user_id, "user_id")}
        envelope = self._send(USER_GET, path)
        return DeviceUser.from_api(as_dict(result_of(envelope)), raw=envelope)

    @endpoint(USER_GET_V11)
    def get_device_user_v11(self, device_id: str, user_id: str = "0") -> LockUser:
        """Query the information about a device user (v1.1); user_id "0" is the current user."""
        path = {"device_id": require_id(device_id, "device_id"), "user_id": require_id(user_id, "user_id")}
        envelope = self._send(USER_GET_V11, path)
        return LockUser.from_api(as_dict(result_of(envelope)), raw=envelope)

    @endpoint(USER_LIST)
    def list_device_users(self, device_id: str) -> Items[DeviceUser]:
        """Query a list of users by device ID (not a home user)."""
        envelope = self._send(USER_LIST, {"device_id": require_id(device_id, "device_id")})
        return Items(items=tuple(DeviceUser.from_api(as_dict(i)) for i in as_list(result_of(envelope))), raw=envelope)

    @endpoint(USER_LIST_V11)
    def list_device_users_v11(
        self,
        device_id: str,
        *,
        keyword: str = "",
        role: Role | str | None = None,
        page_no: int = 1,
        page_size: int = 20,
    ) -> Page[LockUser]:
        """Query a list of users by device ID (v1.1), filtered by keyword and role."""
        path = {"device_id": require_id(device_id, "device_id")}
        number, size = require_page(page_no, page_size)
        # keyword and role are required but may be empty strings, which mean "no filter".
        query = {
            "keyword": require_text(keyword, "keyword", allow_empty=True),
            "role": "" if role in (None, "") else require_enum(Role, role, "role").value,
            "page_no": number,
            "page_size": size,
        }
        return page_from(self._send(USER_LIST_V11, path, query=query), "records", LockUser.from_api)

    # Assigning a method to a user sets an absolute link: a repeat changes nothing.
    @endpoint(USER_ALLOCATE)
    def allocate_to_user(self, device_id: str, user_id: str, *, no: str | int, type: UnlockType | str) -> Ack:  # noqa: A002
        """Assign a password (or another unlocking method) to a device user (not a home user)."""
        path = {"device_id": require_id(device_id, "device_id"), "user_id": require_id(user_id, "user_id")}
        body = {"no": require_id(no, "no"), "type": require_enum(UnlockType, type, "type").value}
        return Ack.from_envelope(self._send(USER_ALLOCATE, path, body=body, idempotent=True))

    @endpoint(HOME_USERS)
    def list_home_users(
        self,
        device_id: str,
        *,
        codes: str | Iterable[UnlockDpCode | str],
        page_no: int = 1,
        page_size: int = 20,
    ) -> Page[LockUser]:
        """Get a list of home users and unlocking methods."""
        path = {"device_id": require_id(device_id, "device_id")}
        joined = require_codes(codes, "codes", allowed=UnlockDpCode)
        if any(UnlockDpCode(code) not in _HOME_USER_CODES for code in joined.split(",")):
            raise invalid("codes: unlock_telecontrol_kit is not accepted by the home-user list.")
        number, size = require_page(page_no, page_size)
        query = {"codes": joined, "page_no": number, "page_size": size}
        return page_from(self._send(HOME_USERS, path, query=query), "records", LockUser.from_api)

    @endpoint(USER_SCHEDULE)
    def update_user_schedule(
        self,
        device_id: str,
        user_id: str,
        *,
        permanent: bool,
        effective_time: int | datetime | None = None,
        expired_time: int | datetime | None = None,
        schedule_details: Sequence[ScheduleWindow] = (),
    ) -> Ack:
        """Update the validity period of a home user."""
        path = {"device_id": require_id(device_id, "device_id"), "user_id": require_id(user_id, "user_id")}
        body: dict[str, Any] = {"permanent": require_bool(permanent, "permanent")}
        if effective_time is not None or expired_time is not None or not permanent:
            if effective_time is None or expired_time is None:
                raise invalid("effective_time and expired_time are required unless the user is permanent.")
            body["effective_time"], body["expired_time"] = require_window(
                effective_time, expired_time, ("effective_time", "expired_time")
            )
        if isinstance(schedule_details, ScheduleWindow) or not all(
            isinstance(item, ScheduleWindow) for item in schedule_details
        ):
            raise invalid("schedule_details must be a sequence of ScheduleWindow.")
        if schedule_details:
            body["schedule_details"] = [item.to_api() for item in schedule_details]
        return Ack.from_envelope(self._send(USER_SCHEDULE, path, body=body, idempotent=True))

    @endpoint(ABSENT_USERS)
    def list_absent_users(self, device_id: str) -> Items[AbsentUser]:
        """Get a list of removed users."""
        envelope = self._send(ABSENT_USERS, {"device_id": require_id(device_id, "device_id")})
        items = tuple(
            AbsentUser(
                user_id=to_str(item.get("user_id")),
                user_type=to_opt_int(item.get("user_type")),
                lock_user_id=to_opt_int(item.get("lock_user_id")),
                raw=item,
            )
            for item in map(as_dict, as_list(result_of(envelope)))
        )
        return Items(items=items, raw=envelope)

    # Deleting users that are already gone changes nothing.
    @endpoint(DELETE_USERS_ISSUE)
    def delete_users(self, device_id: str, user_ids: Sequence[str] | str) -> Ack:
        """Delete the information about users (several ids at once)."""
        ids = [user_ids] if isinstance(user_ids, str) else list(user_ids)
        if not ids:
            raise invalid("user_ids needs at least one user id.")
        checked = [require_id(user_id, "user_ids") for user_id in ids]
        if any("," in user_id for user_id in checked):
            raise invalid("user_ids: a user id cannot contain a comma.")
        path = {"device_id": require_id(device_id, "device_id"), "user_ids": ",".join(checked)}
        return Ack.from_envelope(self._send(DELETE_USERS_ISSUE, path, idempotent=True))

    @endpoint(USER_DEVICES)
    def list_user_devices(self, uid: str, *, page_no: int = 1, page_size: int = 20) -> Page[DeviceDetails]:
        """Get the devices linked with a specified user account."""
        number, size = require_page(page_no, page_size)
        envelope = self._send(
            USER_DEVICES, {"uid": require_id(uid, "uid")}, query={"page_no": number, "page_size": size}
        )
        return page_from(envelope, "records", DeviceDetails.from_api)
