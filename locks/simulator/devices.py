"""Creating simulated locks (the "world" side) and the demo seed."""

from __future__ import annotations

import secrets
import string

from django.db import transaction

from locks.simulator import clock, conf, schedule
from locks.simulator.kinds import KINDS
from locks.simulator.models import SimDevice

DEMO_DEVICES = [
    ("wifi", "Front door (Wi-Fi)"),
    ("zigbee", "Flat 2 (Zigbee)"),
    ("ble", "Shed (Bluetooth)"),
    ("ble_gateway", "Garage (Bluetooth + gateway)"),
    ("zigbee_hotel", "Room 101 (Zigbee hotel)"),
    ("wifi_keepalive", "Office (keepalive Wi-Fi)"),
    ("wifi_video", "Main entrance (Wi-Fi video)"),
    ("access_control", "Staff gate (access control)"),
]


def _digits(n: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(n))


def _alnum(n: int) -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(n))


def new_device_id() -> str:
    while True:
        device_id = "vdevo" + _digits(15)  # shaped like Tuya's virtual device ids
        if not SimDevice.objects.filter(pk=device_id).exists():
            return device_id


def create_device(
    *,
    kind: str,
    name: str,
    online: bool = True,
    battery: int = 100,
    time_zone: str = "Europe/Amsterdam",
    access_id: str = "",
) -> SimDevice:
    """A new lock, linked to the cloud project `access_id` (the configured project when empty)."""
    access_id = access_id.strip() or conf.access_id()
    if len(access_id) > 64:
        raise ValueError("access_id must be at most 64 characters")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    if schedule.parse_time_zone(time_zone) is None:
        raise ValueError("time_zone must be an IANA name or an offset like +01:00")
    if not 0 <= battery <= 100:
        raise ValueError("battery must be 0..100")
    now = clock.now()
    device = SimDevice(
        id=new_device_id(),
        access_id=access_id,
        kind=kind,
        name=name or KINDS[kind].label,
        online=online,
        battery=battery,
        local_key=secrets.token_hex(8),
        time_zone=time_zone,
        product_id=_alnum(16),
        uuid=_alnum(16),
        owner_id=_digits(8),
        ip=f"10.0.{secrets.randbelow(255)}.{secrets.randbelow(254) + 1}",
        created_at=now,
        updated_at=now,
    )
    device.save(force_insert=True)
    return device


@transaction.atomic
def seed_demo() -> list[SimDevice]:
    """One lock of each kind, once: nothing happens when any device exists already."""
    if SimDevice.objects.exists():
        return []
    return [create_device(kind=kind, name=name) for kind, name in DEMO_DEVICES]


def world_json(device: SimDevice) -> dict[str, object]:
    """The device as the control API shows it (includes what only the physical lock knows)."""
    kind = KINDS[device.kind]
    return {
        "id": device.id,
        "access_id": device.access_id,
        "kind": device.kind,
        "kind_label": kind.label,
        "name": device.name,
        "online": device.online,
        "battery": device.battery,
        "time_zone": device.time_zone,
        "local_key": device.local_key,
        "category": kind.category,
        "product_id": device.product_id,
        "sub": kind.sub,
    }
