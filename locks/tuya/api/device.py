"""Device details, including the local key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._base import (
    ApiGroup,
    Route,
    as_dict,
    as_list,
    endpoint,
    invalid,
    pick,
    require_id,
    result_of,
    to_bool,
    to_int,
    to_str,
)

DEVICE_GET = Route("GET", "/v1.0/devices/{device_id}")


@dataclass(frozen=True)
class DeviceStatus:
    """The latest value of one data point."""

    code: str
    value: Any
    type: str = ""


@dataclass(frozen=True)
class DeviceDetails:
    """A device as the cloud describes it. `local_key` encrypts the lock's traffic: kept out of repr."""

    id: str
    name: str
    uid: str
    local_key: str = field(repr=False)
    category: str
    product_id: str
    product_name: str
    sub: bool
    uuid: str
    owner_id: str
    online: bool
    status: tuple[DeviceStatus, ...]
    active_time: int
    biz_type: int
    icon: str
    ip: str
    time_zone: str
    model: str
    lon: str
    lat: str
    create_time: int
    update_time: int
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any], raw: dict[str, Any] | None = None) -> DeviceDetails:
        return cls(
            id=to_str(data.get("id")),
            name=to_str(pick(data, "name", "Name")),
            uid=to_str(data.get("uid")),
            local_key=to_str(data.get("local_key")),
            category=to_str(data.get("category")),
            product_id=to_str(data.get("product_id")),
            product_name=to_str(data.get("product_name")),
            sub=to_bool(data.get("sub")),
            uuid=to_str(data.get("uuid")),
            owner_id=to_str(data.get("owner_id")),
            online=to_bool(data.get("online")),
            status=tuple(
                DeviceStatus(code=to_str(item.get("code")), value=item.get("value"), type=to_str(item.get("type")))
                for item in map(as_dict, as_list(data.get("status")))
            ),
            active_time=to_int(data.get("active_time")),
            biz_type=to_int(data.get("biz_type")),
            icon=to_str(data.get("icon")),
            ip=to_str(data.get("ip")),
            time_zone=to_str(data.get("time_zone")),
            model=to_str(data.get("model")),
            lon=to_str(data.get("lon")),
            lat=to_str(data.get("lat")),
            create_time=to_int(data.get("create_time")),
            update_time=to_int(data.get("update_time")),
            raw=data if raw is None else raw,
        )


# Spec section "Get device details".
class DeviceApi(ApiGroup):
    """The device itself."""

    @endpoint(DEVICE_GET)
    def get_device(self, device_id: str) -> DeviceDetails:
        """Get the information about a specified device, including the local key."""
        envelope = self._send(DEVICE_GET, {"device_id": require_id(device_id, "device_id")})
        return DeviceDetails.from_api(as_dict(result_of(envelope)), raw=envelope)

    def list_project_devices(
        self, *, last_id: str | None = None, page_size: int = 20, categories: Sequence[str] = ()
    ) -> ProjectDevicePage:
        """Query devices in the cloud project (GET /v2.0/cloud/thing/device, page_size at most 20).

        Not in the smart-lock API list: from Tuya's "Query Devices in Project" page
        (developer.tuya.com/en/docs/cloud/734e8088a6?id=Kcspwthd1f5tb). Importing a project's locks needs it.
        """
        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 20:
            raise invalid("page_size is 1 to 20 for the project device list.")
        if len(categories) > 5:
            raise invalid("At most 5 categories can be filtered at once.")
        query: dict[str, Any] = {"page_size": page_size}
        if last_id:
            query["last_id"] = require_id(last_id, "last_id")
        if categories:
            query["categories"] = ",".join(require_id(c, "category") for c in categories)
        envelope = self._client.request("GET", PROJECT_DEVICES_PATH, query=query)
        items = tuple(ProjectDevice.from_api(as_dict(item)) for item in as_list(result_of(envelope)))
        return ProjectDevicePage(items=items, page_size=page_size, raw=envelope)


PROJECT_DEVICES_PATH = "/v2.0/cloud/thing/device"


@dataclass(frozen=True)
class ProjectDevice:
    """One device of the project as the project listing shows it (camelCase fields in the reply)."""

    id: str
    name: str
    category: str
    product_id: str
    product_name: str
    sub: bool
    online: bool
    time_zone: str
    local_key: str = field(repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ProjectDevice:
        return cls(
            id=to_str(data.get("id")),
            name=to_str(pick(data, "customName", "name")),
            category=to_str(data.get("category")),
            product_id=to_str(pick(data, "productId", "product_id")),
            product_name=to_str(pick(data, "productName", "product_name")),
            sub=to_bool(data.get("sub")),
            online=to_bool(pick(data, "isOnline", "online")),
            time_zone=to_str(pick(data, "timeZone", "time_zone")),
            local_key=to_str(pick(data, "localKey", "local_key")),
        )


@dataclass(frozen=True)
class ProjectDevicePage:
    items: tuple[ProjectDevice, ...]
    page_size: int
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __iter__(self) -> Any:
        return iter(self.items)

    @property
    def next_last_id(self) -> str | None:
        """A full page may have more after it; the next page starts after its last device."""
        return self.items[-1].id if len(self.items) == self.page_size else None
