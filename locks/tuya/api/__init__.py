"""One method for every row of the smart-lock spec's API list, grouped as the spec groups them.

    api = LockApi(client)
    ticket = api.passwords.get_ticket(device_id)
    created = api.passwords.create_temp_password(device_id, lock_kind=LockKind.WIFI, pin="1234567", ...)

Parameters are validated before anything is sent (TuyaValidationError); results are frozen dataclasses
carrying the whole envelope in `raw`. `ROUTES` maps each (method, path template) to its implementation.
"""

from __future__ import annotations

from ..client import TuyaClient
from ._base import (
    MAX_PAGE_SIZE,
    ROUTES,
    Ack,
    ApiGroup,
    Items,
    KeyUserType,
    LockKind,
    MediaInfo,
    Page,
    PasswordUse,
    Role,
    Route,
    ScheduleWindow,
    StatusItem,
    UnlockDpCode,
    UnlockType,
)
from .device import DeviceApi, DeviceDetails, DeviceStatus
from .offline import DynamicPassword, Lang, OfflineApi, OfflinePassword, OfflinePasswordV11, OfflineType, OfflineTypeV10
from .passwords import (
    AdvancedPassword,
    AdvancedType,
    CreatedPassword,
    KeepalivePassword,
    PasswordsApi,
    PasswordTicket,
    TempPassword,
)
from .records import (
    AlarmLog,
    AlbumList,
    AlbumMedia,
    LatestMedia,
    LockRecord,
    MediaFileType,
    OpenLog,
    RecordsApi,
    UnionUnlock,
    ViewCount,
)
from .remote_unlock import CancelReason, RemoteUnlockApi, RemoteUnlockSetting, RemoteUnlockType
from .unlock_methods import NotifyInfo, OpmodeAttribute, UnlockKey, UnlockMethodsApi, UnlockRef, UserUnlockMethod
from .users import (
    AbsentUser,
    DeviceUser,
    LockUser,
    NewDeviceUser,
    Sex,
    UnlockDetail,
    UnlockListItem,
    UsersApi,
    UserSchedule,
)

# Paged results by the names callers look for.
OpenLogPage = Page[OpenLog]
AlarmLogPage = Page[AlarmLog]
RecordPage = Page[LockRecord]
LockUserPage = Page[LockUser]
KeepalivePasswordPage = Page[KeepalivePassword]
DevicePage = Page[DeviceDetails]

# Attribute name on LockApi -> group class, in the spec's order.
GROUP_CLASSES: dict[str, type[ApiGroup]] = {
    "passwords": PasswordsApi,
    "offline": OfflineApi,
    "users": UsersApi,
    "unlock_methods": UnlockMethodsApi,
    "records": RecordsApi,
    "remote_unlock": RemoteUnlockApi,
    "device": DeviceApi,
}
GROUPS = tuple(GROUP_CLASSES)


class LockApi:
    """The smart-lock Open API over one TuyaClient, one attribute per group of the spec."""

    def __init__(self, client: TuyaClient) -> None:
        self.client = client
        self.passwords = PasswordsApi(client)
        self.offline = OfflineApi(client)
        self.users = UsersApi(client)
        self.unlock_methods = UnlockMethodsApi(client)
        self.records = RecordsApi(client)
        self.remote_unlock = RemoteUnlockApi(client)
        self.device = DeviceApi(client)

    def __repr__(self) -> str:
        return f"LockApi({self.client!r})"


def route_table() -> dict[tuple[str, str], str]:
    """(method, path template) -> "group.method", the name it has on a LockApi."""
    table: dict[tuple[str, str], str] = {}
    for key, fn in ROUTES.items():
        for group, cls in GROUP_CLASSES.items():
            if getattr(cls, fn.__name__, None) is fn:
                table[key] = f"{group}.{fn.__name__}"
    return table


__all__ = [
    "GROUPS",
    "GROUP_CLASSES",
    "MAX_PAGE_SIZE",
    "ROUTES",
    "AbsentUser",
    "Ack",
    "AdvancedPassword",
    "AdvancedType",
    "AlarmLog",
    "AlarmLogPage",
    "AlbumList",
    "AlbumMedia",
    "ApiGroup",
    "CancelReason",
    "CreatedPassword",
    "DeviceApi",
    "DeviceDetails",
    "DevicePage",
    "DeviceStatus",
    "DeviceUser",
    "DynamicPassword",
    "Items",
    "KeepalivePassword",
    "KeepalivePasswordPage",
    "KeyUserType",
    "Lang",
    "LatestMedia",
    "LockApi",
    "LockKind",
    "LockRecord",
    "LockUser",
    "LockUserPage",
    "MediaFileType",
    "MediaInfo",
    "NewDeviceUser",
    "NotifyInfo",
    "OfflineApi",
    "OfflinePassword",
    "OfflinePasswordV11",
    "OfflineType",
    "OfflineTypeV10",
    "OpenLog",
    "OpenLogPage",
    "OpmodeAttribute",
    "Page",
    "PasswordTicket",
    "PasswordUse",
    "PasswordsApi",
    "RecordPage",
    "RecordsApi",
    "RemoteUnlockApi",
    "RemoteUnlockSetting",
    "RemoteUnlockType",
    "Role",
    "Route",
    "ScheduleWindow",
    "Sex",
    "StatusItem",
    "TempPassword",
    "UnionUnlock",
    "UnlockDetail",
    "UnlockDpCode",
    "UnlockKey",
    "UnlockListItem",
    "UnlockMethodsApi",
    "UnlockRef",
    "UnlockType",
    "UserSchedule",
    "UserUnlockMethod",
    "UsersApi",
    "ViewCount",
    "route_table",
]
