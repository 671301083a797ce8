"""The project's device list (GET /v2.0/cloud/thing/device): outside the smart-lock API list, but how a
cloud project's locks are found. From Tuya's "Query Devices in Project" page
(developer.tuya.com/en/docs/cloud/734e8088a6?id=Kcspwthd1f5tb): page_size at most 20, paged by last_id,
filters product_ids and categories (at most 5 each), camelCase fields in the reply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from locks.simulator import schedule
from locks.simulator.errors import TuyaError
from locks.simulator.kinds import KINDS
from locks.simulator.models import SimDevice

if TYPE_CHECKING:
    from locks.simulator.api import Call


def _csv(query: dict[str, str], name: str) -> list[str]:
    values = [v for v in query.get(name, "").split(",") if v]
    if len(values) > 5:
        raise TuyaError(1101, f"{name}: at most 5")
    return values


def project_devices(call: Call) -> list[dict[str, Any]]:
    size_raw = call.query.get("page_size", "")
    if not size_raw:
        raise TuyaError(1100, "page_size")
    if not size_raw.isdigit() or not 1 <= int(size_raw) <= 20:
        raise TuyaError(1101, "page_size must be 1..20")
    devices = SimDevice.objects.filter(access_id=call.access_id).order_by("id")
    if products := _csv(call.query, "product_ids"):
        devices = devices.filter(product_id__in=products)
    categories = _csv(call.query, "categories")
    if last_id := call.query.get("last_id"):
        devices = devices.filter(id__gt=last_id)
    rows = [d for d in devices if not categories or KINDS[d.kind].category in categories]
    return [_record(device) for device in rows[: int(size_raw)]]


def _record(device: SimDevice) -> dict[str, Any]:
    kind = KINDS[device.kind]
    tz = schedule.parse_time_zone(device.time_zone)
    return {
        "id": device.id,
        "name": device.name,
        "customName": device.name,
        "category": kind.category,
        "productId": device.product_id,
        "productName": kind.product_name,
        "sub": kind.sub,
        "uuid": device.uuid,
        "isOnline": device.online,
        "localKey": device.local_key,
        "ip": device.ip,
        "icon": f"smart/icon/sim_{kind.category}.png",
        "lat": "",
        "lon": "",
        "timeZone": schedule.offset_label(tz, device.updated_at) if tz else "+00:00",
        "activeTime": int(device.created_at.timestamp()),
        "createTime": int(device.created_at.timestamp()),
        "updateTime": int(device.updated_at.timestamp()),
    }


ROUTES = [("GET", "/v2.0/cloud/thing/device", project_devices)]
