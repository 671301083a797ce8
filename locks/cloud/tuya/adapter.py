"""The Tuya adapter: `LockCloud` (locks/cloud/port.py) on the Tuya Open API client (`locks.tuya`).

Which of Tuya's calls serves which lock kind follows the spec's "Applicable lock types"; Tuya's encodings (the
working_day bitmask, DP codes of unlock methods, user types, phases, media file types) stay in here. Every client
error comes out as the port's (locks/cloud/tuya/errors.py).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

from locks.cloud import port
from locks.cloud.port import (
    AlbumPhoto,
    CloudLock,
    CloudMethod,
    CloudPassword,
    CloudPerson,
    EventPage,
    LockRef,
    MediaRef,
    OfflineCode,
    OfflineKind,
    PasswordSpec,
    PersonRole,
    SpecialPassword,
    SpecialPasswordState,
    WeeklyHours,
)
from locks.cloud.tuya import client, records
from locks.cloud.tuya.errors import translating
from locks.tuya import crypto
from locks.tuya.api import (
    CancelReason,
    KeyUserType,
    LockApi,
    MediaFileType,
    PasswordUse,
    RemoteUnlockType,
    Role,
    ScheduleWindow,
    UnlockDpCode,
    UnlockRef,
)
from locks.tuya.api import LockUser as TuyaLockUser
from locks.tuya.errors import TuyaMediaError
from locks.tuya.schedule import ScheduleEntry, weekdays_to_working_day, working_day_to_weekdays

# Lock kinds by the calls that serve them (values of locks.models.LockKind).
RESIDENTIAL = frozenset({"wifi", "zigbee", "ble", "ble_gateway"})
HOME_USER_KINDS = frozenset({"wifi_keepalive", "wifi_video", "access_control"})
ACCESS_CONTROL = "access_control"
VIDEO = "wifi_video"

TYPE_TO_DP = {
    "fingerprint": UnlockDpCode.FINGERPRINT,
    "password": UnlockDpCode.PASSWORD,
    "card": UnlockDpCode.CARD,
    "face": UnlockDpCode.FACE,
    "remoteControl": UnlockDpCode.TELECONTROL_KIT,
    "hand": UnlockDpCode.HAND,
    "finger_vein": UnlockDpCode.FINGER_VEIN,
}
DP_TO_TYPE = {dp.value: short for short, dp in TYPE_TO_DP.items()}
_HOME_LIST_CODES = [dp for dp in UnlockDpCode if dp is not UnlockDpCode.TELECONTROL_KIT]
ROLE_NAMES = {10: "admin", 20: "normal", 40: "shared", 50: "owner"}
_SPECIAL_STATES: dict[int, SpecialPasswordState] = {1: "pending", 2: "set", 3: "failed"}  # the spec's phases

# The album's event types in words (spec "Get a list of albums").
ALBUM_EVENT_WORDS = {
    0: "pry",
    1: "remote unlocking request",
    2: "wrong fingerprint",
    3: "wrong code",
    4: "wrong card",
    5: "wrong face",
    6: "wrong palm",
    7: "wrong finger vein",
    8: "fingerprint",
    9: "password",
    10: "card",
    11: "face",
    12: "palm",
    13: "finger vein",
    14: "temporary code",
    15: "dynamic code",
    16: "remote",
    17: "temporary code (reported)",
    18: "doorbell",
    19: "duress",
    20: "low battery",
    21: "mechanical key",
    22: "too hot",
    23: "doorbell and remote unlocking",
    24: "loitering",
    25: "tampering",
    26: "special fingerprint",
    27: "unlocking while armed",
    28: "remote control",
}


def method_type(dp_code_or_type: str) -> str:
    """Our unlock type name ("fingerprint") from a DP code ("unlock_fingerprint") or a type name."""
    return DP_TO_TYPE.get(dp_code_or_type, dp_code_or_type)


def weekly_of(window: ScheduleWindow) -> WeeklyHours:
    """A schedule row as the cloud returned it; a working_day outside 1..127 (its samples show 0) is no day."""
    days = working_day_to_weekdays(window.working_day) if 1 <= window.working_day <= 127 else frozenset[int]()
    return WeeklyHours(days, window.start_minute, window.end_minute)


def battery_of(status: Sequence[Any]) -> int | None:
    """The battery level (percent) in a device's status, if it reports one."""
    for item in status:
        if item.code == "residual_electricity" and isinstance(item.value, int) and not isinstance(item.value, bool):
            return max(0, min(100, item.value))
    return None


def _from_epoch(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=dt_timezone.utc) if value else None


def _home_person(user: TuyaLockUser, *, with_methods: bool) -> CloudPerson:
    info = user.time_schedule_info
    methods = None
    if with_methods:  # the home-user list carries each person's methods; the v1.1 list does not
        methods = tuple(
            CloudMethod(method_type(detail.dp_code), item.unlock_sn, item.unlock_name, item.unlock_attr == 1)
            for detail in user.unlock_detail
            for item in detail.unlock_list
            if item.unlock_sn is not None
        )
    window = None if info is None or info.permanent else info  # None: permanent
    return CloudPerson(
        user_id=user.user_id,
        name=user.nick_name,
        role=ROLE_NAMES.get(user.user_type or 0, ""),
        valid_from=None if window is None else _from_epoch(window.effective_time),
        valid_until=None if window is None else _from_epoch(window.expired_time),
        hours=tuple(weekly_of(w) for w in (info.schedule_details if info else ())),
        methods=methods,
    )


class TuyaCloud:
    """One cloud account's locks through Tuya's Open API (implements `port.LockCloud`)."""

    def __init__(self, api: LockApi) -> None:
        self.api = api

    def __repr__(self) -> str:
        return f"TuyaCloud({self.api.client!r})"

    @staticmethod
    def _user_type(lock: LockRef) -> KeyUserType:
        """Home users of keepalive, video and access-control devices; device users otherwise."""
        return KeyUserType.HOME if lock.kind in HOME_USER_KINDS else KeyUserType.NOT_HOME

    # --- the account and its locks ----------------------------------------------------------------------------

    @translating
    def account_user(self) -> str:
        return self.api.client.tokens.current().uid

    @translating
    def lock_ids(self) -> list[str]:
        found: list[str] = []
        last_id = None
        while True:
            page = self.api.device.list_project_devices(last_id=last_id, page_size=20)
            found += [device.id for device in page if client.is_lock_category(device.category)]
            last_id = page.next_last_id
            if last_id is None:
                return found

    @translating
    def lock(self, device_id: str) -> CloudLock:
        details = self.api.device.get_device(device_id)
        return CloudLock(
            device_id=details.id,
            name=details.name,
            kind=client.kind_of(details),
            online=details.online,
            local_key=details.local_key,
            battery=battery_of(details.status),
        )

    # --- temporary passwords -----------------------------------------------------------------------------------

    @staticmethod
    def _schedule(spec: PasswordSpec) -> list[ScheduleEntry] | None:
        weekly = spec.weekly
        if weekly is None:
            return None
        return [ScheduleEntry(weekdays_to_working_day(weekly.days), weekly.start_minute, weekly.end_minute)]

    @translating
    def create_password(self, lock: LockRef, spec: PasswordSpec) -> int:
        return self.api.passwords.create_temp_password(
            lock.device_id,
            lock_kind=lock.kind,
            pin=spec.pin,
            name=spec.name,
            effective_time=spec.starts_at,
            invalid_time=spec.ends_at,
            type=PasswordUse.ONCE if spec.once else PasswordUse.MULTIPLE,
            time_zone=spec.time_zone,
            schedule=self._schedule(spec),
        ).id

    @translating
    def modify_password(self, lock: LockRef, password_id: int, spec: PasswordSpec) -> None:
        self.api.passwords.modify_temp_password(
            lock.device_id,
            password_id,
            lock_kind=lock.kind,
            pin=spec.pin,
            effective_time=spec.starts_at,
            invalid_time=spec.ends_at,
            type=PasswordUse.ONCE if spec.once else PasswordUse.MULTIPLE,
            time_zone=spec.time_zone,
            schedule=self._schedule(spec),
        )

    @translating
    def freeze_password(self, lock: LockRef, password_id: int) -> None:
        self.api.passwords.freeze_temp_password(lock.device_id, password_id)

    @translating
    def unfreeze_password(self, lock: LockRef, password_id: int) -> None:
        self.api.passwords.unfreeze_temp_password(lock.device_id, password_id)

    @translating
    def delete_password(self, lock: LockRef, password_id: int) -> None:
        self.api.passwords.delete_temp_password(lock.device_id, password_id)

    @translating
    def read_password(self, lock: LockRef, password_id: int) -> CloudPassword:
        return client.read_password(self.api, lock, password_id)

    @translating
    def list_passwords(self, lock: LockRef) -> list[CloudPassword]:
        return client.list_passwords(self.api, lock)

    @translating
    def resend_passwords(self, lock: LockRef, password_id: int | None = None) -> None:
        self.api.passwords.sync_passwords(lock.device_id, password_id)

    @translating
    def clear_passwords(self, lock: LockRef) -> None:
        self.api.passwords.clear_temp_passwords(lock.device_id)

    # --- one-off operations ----------------------------------------------------------------------------------------

    @translating
    def offline_code(
        self,
        lock: LockRef,
        kind: OfflineKind,
        *,
        valid_from: int | None = None,
        valid_until: int | None = None,
        name: str | None = None,
        clears: str | None = None,
    ) -> OfflineCode:
        issued = self.api.offline.create_offline_password_v11(
            lock.device_id,
            type=kind,
            effective_time=valid_from,
            invalid_time=valid_until,
            name=name,
            password_id=clears,
        )
        return OfflineCode(issued.password, issued.password_id, issued.effective_time, issued.invalid_time)

    @translating
    def dynamic_code(self, lock: LockRef) -> str:
        return self.api.offline.get_dynamic_password(lock.device_id).password

    @translating
    def set_special_password(self, lock: LockRef, which: SpecialPassword, pin: str) -> None:
        self.api.passwords.set_advanced_password(lock.device_id, advanced_type=which, pin=pin)

    @translating
    def special_password_state(self, lock: LockRef, which: SpecialPassword) -> SpecialPasswordState:
        phase = self.api.passwords.get_advanced_password(lock.device_id, which).phase or 1
        return _SPECIAL_STATES.get(phase, "pending")

    # --- people and unlock methods ---------------------------------------------------------------------------------

    @translating
    def people(self, lock: LockRef) -> list[CloudPerson]:
        device = lock.device_id
        if lock.kind in RESIDENTIAL:
            return [CloudPerson(u.user_id, u.nick_name) for u in self.api.users.list_device_users(device)]
        found: list[CloudPerson] = []
        page_no = 1
        while True:
            if lock.kind == ACCESS_CONTROL:
                page = self.api.users.list_device_users_v11(device, page_no=page_no, page_size=100)
            else:
                page = self.api.users.list_home_users(device, codes=_HOME_LIST_CODES, page_no=page_no, page_size=100)
            found += [_home_person(u, with_methods=lock.kind != ACCESS_CONTROL) for u in page]
            if not page.has_more or not len(page):
                return found
            page_no += 1

    @translating
    def methods_of(self, lock: LockRef, user_id: str) -> list[CloudMethod]:
        methods = self.api.unlock_methods
        if lock.kind == ACCESS_CONTROL:
            rows = methods.list_user_unlock_methods(lock.device_id, user_id, page_size=100)
            return [
                CloudMethod(method_type(m.dp_code), m.unlock_sn, m.unlock_name, m.unlock_attr == 1)
                for m in rows
                if m.unlock_sn is not None
            ]
        if lock.kind in RESIDENTIAL or lock.kind == VIDEO:
            keys = methods.list_assigned_keys(lock.device_id, self._user_type(lock), user_id)
            return [CloudMethod(method_type(k.unlock_type), k.unlock_no, "", k.hijack) for k in keys]
        # A keepalive lock lists methods only with its home users: read them again.
        for person in self.people(lock):
            if person.user_id == user_id:
                return list(person.methods or ())
        return []

    @translating
    def unassigned_methods(self, lock: LockRef) -> list[CloudMethod]:
        keys = self.api.unlock_methods.list_unassigned_keys(lock.device_id)
        return [CloudMethod(method_type(k.unlock_type), k.unlock_no) for k in keys]

    @translating
    def absent_people(self, lock: LockRef) -> set[str]:
        if lock.kind != VIDEO:
            return set()
        return {a.user_id for a in self.api.users.list_absent_users(lock.device_id)}

    @translating
    def refresh_methods(self, lock: LockRef) -> None:
        self.api.unlock_methods.sync_unlock_methods(lock.device_id, list(UnlockDpCode))

    @translating
    def add_person(self, lock: LockRef, name: str, sex: int) -> str:
        return self.api.users.add_device_user(lock.device_id, nick_name=name, sex=sex).user_id

    @translating
    def rename_person(self, lock: LockRef, user_id: str, name: str, sex: int) -> None:
        self.api.users.modify_device_user(lock.device_id, user_id, nick_name=name, sex=sex)

    @translating
    def set_role(self, lock: LockRef, user_id: str, role: PersonRole) -> None:
        self.api.users.set_user_role(lock.device_id, user_id, Role(role))

    @translating
    def set_validity(
        self,
        lock: LockRef,
        user_id: str,
        *,
        valid_from: datetime | None,
        valid_until: datetime | None,
        hours: Sequence[WeeklyHours],
        time_zone: str,
    ) -> None:
        windows = [
            ScheduleWindow(_working_day(h.days), h.start_minute, h.end_minute, time_zone_id=time_zone) for h in hours
        ]
        self.api.users.update_user_schedule(
            lock.device_id,
            user_id,
            permanent=valid_from is None,
            effective_time=valid_from,
            expired_time=valid_until,
            schedule_details=windows,
        )

    @translating
    def remove_person(self, lock: LockRef, user_id: str) -> None:
        if lock.kind == VIDEO:
            self.api.users.delete_users(lock.device_id, [user_id])
        else:
            self.api.users.delete_device_user(lock.device_id, user_id)

    @translating
    def start_enrollment(self, lock: LockRef, user_id: str, unlock_type: str) -> None:
        self.api.unlock_methods.enroll_unlock_method(
            lock.device_id, user_id=user_id, user_type=self._user_type(lock), unlock_type=unlock_type
        )

    @translating
    def cancel_enrollment(self, lock: LockRef, unlock_type: str) -> None:
        self.api.unlock_methods.cancel_enrollment(lock.device_id, unlock_type)

    @translating
    def rename_method(self, lock: LockRef, unlock_type: str, number: int, name: str) -> None:
        self.api.unlock_methods.rename_unlock_method(
            lock.device_id, number, dp_code=TYPE_TO_DP[unlock_type], unlock_name=name
        )

    @translating
    def set_duress(self, lock: LockRef, unlock_type: str, number: int, duress: bool) -> None:
        if duress:
            self.api.unlock_methods.set_duress(lock.device_id, unlock_type, number)
        else:
            self.api.unlock_methods.delete_duress(lock.device_id, TYPE_TO_DP[unlock_type], number)

    @translating
    def assign_method(self, lock: LockRef, user_id: str, unlock_type: str, number: int) -> None:
        if lock.kind in RESIDENTIAL:
            self.api.users.allocate_to_user(lock.device_id, user_id, no=number, type=unlock_type)
        else:
            ref = UnlockRef(TYPE_TO_DP[unlock_type], number)
            self.api.unlock_methods.allocate_unlock_methods(lock.device_id, user_id, [ref])

    @translating
    def delete_method(self, lock: LockRef, user_id: str, unlock_type: str, number: int) -> None:
        self.api.unlock_methods.delete_unlock_key(
            lock.device_id,
            user_type=self._user_type(lock),
            user_id=user_id,
            unlock_type=unlock_type,
            unlock_no=number,
        )

    # --- history ------------------------------------------------------------------------------------------------

    @translating
    def unlock_page(
        self, lock: LockRef, *, since: datetime, until: datetime, page_no: int, page_size: int, compat: bool = False
    ) -> EventPage:
        logs = self.api.records
        if compat:
            page = logs.list_open_logs(
                lock.device_id, start_time=since, end_time=until, page_no=page_no, page_size=page_size
            )
        else:
            page = logs.list_open_logs_v11(
                lock.device_id,
                start_time=since,
                end_time=until,
                page_no=page_no,
                page_size=page_size,
                show_media_info=True,
            )
        return records.event_page(page, records.open_log_event)

    @translating
    def alert_page(self, lock: LockRef, *, page_no: int, page_size: int, compat: bool = False) -> EventPage:
        logs = self.api.records
        if compat:
            page = logs.list_alarm_logs(lock.device_id, page_no=page_no, page_size=page_size)
        else:
            page = logs.list_alarm_logs_v11(lock.device_id, page_no=page_no, page_size=page_size, show_media_info=True)
        return records.event_page(page, records.alarm_log_event)

    @translating
    def access_record_page(
        self, lock: LockRef, *, codes: Sequence[str], since: datetime, until: datetime, page_no: int, page_size: int
    ) -> EventPage:
        page = self.api.records.list_records(
            lock.device_id, dp_codes=list(codes), start_time=since, end_time=until, page_no=page_no, page_size=page_size
        )
        return records.event_page(page, records.access_record_event)

    # --- photos ---------------------------------------------------------------------------------------------------

    @translating
    def latest_photo(self, lock: LockRef, *, alert: bool = False) -> MediaRef | None:
        file_type = MediaFileType.ALERT if alert else MediaFileType.REMOTE_UNLOCK
        found = self.api.records.get_latest_media(lock.device_id, file_type)
        return MediaRef(found.file_url, found.file_key) if found.file_url else None

    @translating
    def album(self, lock: LockRef) -> list[AlbumPhoto]:
        return [
            AlbumPhoto(
                item.file_url,
                item.file_key,
                ALBUM_EVENT_WORDS.get(item.event_type if item.event_type is not None else -1, "event"),
                datetime.fromtimestamp(item.upload_time, tz=dt_timezone.utc) if item.upload_time else None,
            )
            for item in self.api.records.list_albums(lock.device_id).items
            if item.file_url
        ]

    @translating
    def media_views(self, lock: LockRef) -> int:
        return self.api.records.get_media_view_times(lock.device_id).count

    @translating
    def add_media_view(self, lock: LockRef) -> int:
        return self.api.records.add_media_view(lock.device_id).count

    def decrypt_media(self, encrypted: bytes, file_key: str) -> bytes:
        return decrypt_media(encrypted, file_key)

    # --- remote unlocking ---------------------------------------------------------------------------------------

    @translating
    def remote_unlock_allowed(self, lock: LockRef) -> bool:
        for setting in self.api.remote_unlock.list_remote_unlocks(lock.device_id):
            if setting.remote_unlock_type == RemoteUnlockType.WITHOUT_PASSWORD.value:
                return bool(setting.open)
        return True

    @translating
    def open_door(self, lock: LockRef) -> bool:
        if lock.kind == ACCESS_CONTROL:
            # Access-control devices have the v1.1 call with a channel; their first channel is the door.
            return bool(self.api.remote_unlock.open_door_channel(lock.device_id, 1))
        return bool(self.api.remote_unlock.open_door(lock.device_id))  # a smart-lock ticket, then open-door with it

    @translating
    def refuse_remote_unlock(self, lock: LockRef) -> None:
        self.api.remote_unlock.cancel_remote_unlock(lock.device_id, CancelReason.REJECT)


def _working_day(days: frozenset[int]) -> int:
    """Every day (127) for no days given, as the app stored schedules before the port."""
    return weekdays_to_working_day(days) if days else 127


def decrypt_media(encrypted: bytes, file_key: str) -> bytes:
    """A photo file as Tuya stores it (AES-CBC with the spec's header layout), decrypted; MediaUnreadable otherwise."""
    plain = io.BytesIO()
    try:
        crypto.decrypt_media_stream(io.BytesIO(encrypted), plain, file_key)
    except TuyaMediaError as error:
        raise port.MediaUnreadable(error.msg, hint=error.hint, text=str(error)) from None
    return plain.getvalue()
