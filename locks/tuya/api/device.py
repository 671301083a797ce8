"""Device details, including the local key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._base import ApiGroup, Route, as_dict, as_list, endpoint, pick, require_id, result_of, to_bool, to_int, to_str

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
