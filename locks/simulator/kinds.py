"""Lock kinds and what each supports, from the spec's "Applicable lock types" sections."""

from __future__ import annotations

from dataclasses import dataclass

WIFI = "wifi"
ZIGBEE = "zigbee"
BLE = "ble"
BLE_GATEWAY = "ble_gateway"
ZIGBEE_HOTEL = "zigbee_hotel"
WIFI_KEEPALIVE = "wifi_keepalive"
WIFI_VIDEO = "wifi_video"
ACCESS_CONTROL = "access_control"


@dataclass(frozen=True)
class Kind:
    label: str
    family: str  # "wifi" | "zigbee" | "ble": decides PIN length and the meaning of `phase`
    category: str
    product_name: str
    sub: bool  # reached through a gateway, which retries three times and then reports failure
    slots: int  # temporary-password slots on the lock (delivery_status 5 beyond this)


KINDS: dict[str, Kind] = {
    WIFI: Kind("Wi-Fi lock", "wifi", "ms", "Wi-Fi residential lock", False, 20),
    ZIGBEE: Kind("Zigbee lock", "zigbee", "ms", "Zigbee residential lock", True, 10),
    BLE: Kind("Bluetooth lock", "ble", "ms", "Bluetooth lock", False, 10),
    BLE_GATEWAY: Kind("Bluetooth lock (gateway)", "ble", "ms", "Bluetooth lock with gateway", True, 10),
    ZIGBEE_HOTEL: Kind("Zigbee hotel lock", "zigbee", "gyms", "Zigbee lock for hotel use", True, 10),
    WIFI_KEEPALIVE: Kind("Keepalive Wi-Fi lock", "wifi", "jtmspro", "Keepalive Wi-Fi lock", False, 20),
    WIFI_VIDEO: Kind("Wi-Fi video lock", "wifi", "videolock", "Wi-Fi lock with video talk", False, 20),
    ACCESS_CONTROL: Kind("Wi-Fi access control", "wifi", "mk", "Wi-Fi access control device", False, 50),
}
KIND_CHOICES = [(key, kind.label) for key, kind in KINDS.items()]

ALL = frozenset(KINDS)
_BLUETOOTH = {BLE, BLE_GATEWAY}

# Endpoint name -> kinds whose "Applicable lock types" list it. "Bluetooth lock" covers both Bluetooth kinds
# ("including the Bluetooth lock with gateway features", spec "Applicable categories").
APPLICABLE: dict[str, frozenset[str]] = {
    # Both ticket paths. The spec lists no keepalive / access-control kind for tickets, yet their temp-password
    # calls need one (password_type "ticket" is required): tickets are allowed for every kind.
    "password_ticket": ALL,
    "temp_password_create": ALL,
    "temp_password_create_v2": frozenset({WIFI, ZIGBEE, *_BLUETOOTH, ZIGBEE_HOTEL, WIFI_VIDEO}),
    "issue_password": frozenset({ZIGBEE}),
    "temp_password_get": frozenset({WIFI, ZIGBEE, *_BLUETOOTH, ZIGBEE_HOTEL}),
    "temp_password_list": frozenset({WIFI, ZIGBEE, ZIGBEE_HOTEL, *_BLUETOOTH, WIFI_VIDEO}),
    "stand_by_temp_password_list": frozenset({WIFI_KEEPALIVE, ACCESS_CONTROL}),
    "temp_password_modify": frozenset(
        {WIFI, ZIGBEE, *_BLUETOOTH, ZIGBEE_HOTEL, WIFI_KEEPALIVE, WIFI_VIDEO, ACCESS_CONTROL}
    ),
    "temp_password_freeze": frozenset({ZIGBEE}),
    "temp_password_unfreeze": frozenset({ZIGBEE}),
    "temp_password_delete": ALL,
    "temp_password_clear": frozenset({ZIGBEE_HOTEL}),
}
_RESIDENTIAL = frozenset({WIFI, ZIGBEE, *_BLUETOOTH})  # "Wi-Fi lock, Zigbee lock, Bluetooth lock"
APPLICABLE.update(
    {
        # device users
        "device_user_add": _RESIDENTIAL,
        "device_user_modify": _RESIDENTIAL,
        "device_user_delete": _RESIDENTIAL,
        "device_user_get": _RESIDENTIAL,
        "device_user_list": _RESIDENTIAL,
        "device_user_allocate": _RESIDENTIAL,
        "device_user_role": frozenset({ACCESS_CONTROL}),
        "device_user_get_v11": frozenset({ACCESS_CONTROL}),
        "device_user_list_v11": frozenset({ACCESS_CONTROL}),
        "opmodes_allocate": frozenset({ACCESS_CONTROL, *_BLUETOOTH}),
        "home_user_list": frozenset({WIFI_KEEPALIVE, WIFI_VIDEO}),
        "user_schedule_update": frozenset({WIFI_KEEPALIVE, ACCESS_CONTROL}),
        "absent_user_list": frozenset({WIFI_VIDEO}),
        "absent_user_delete": frozenset({WIFI_VIDEO}),
        # unlock methods
        "assigned_keys": frozenset({*_RESIDENTIAL, WIFI_VIDEO}),
        "unassigned_keys": frozenset({*_RESIDENTIAL, ACCESS_CONTROL}),
        "opmodes_sync": frozenset({BLE_GATEWAY, WIFI_KEEPALIVE, WIFI_VIDEO, ACCESS_CONTROL}),
        "method_entry": frozenset({*_RESIDENTIAL, WIFI_KEEPALIVE, WIFI_VIDEO, ACCESS_CONTROL}),
        "method_entry_cancel": frozenset({*_RESIDENTIAL, WIFI_KEEPALIVE, WIFI_VIDEO, ACCESS_CONTROL}),
        "method_delete": frozenset({*_RESIDENTIAL, WIFI_KEEPALIVE, ACCESS_CONTROL}),
        "method_rename": frozenset({ACCESS_CONTROL}),
        "hijack_set": _RESIDENTIAL,
        "hijack_delete": _RESIDENTIAL,
        "user_opmodes": frozenset({WIFI_VIDEO, ACCESS_CONTROL}),
        "opmode_attr": frozenset({WIFI}),
        # logs and media
        "open_logs": frozenset({WIFI, ZIGBEE_HOTEL, *_BLUETOOTH}),
        "open_logs_v11": frozenset({WIFI, ZIGBEE_HOTEL, *_BLUETOOTH, WIFI_VIDEO}),
        "alarm_logs": frozenset({WIFI, ZIGBEE, ZIGBEE_HOTEL, *_BLUETOOTH}),
        "alarm_logs_v11": frozenset({WIFI, ZIGBEE, ZIGBEE_HOTEL, *_BLUETOOTH, WIFI_VIDEO}),
        "records": frozenset({ACCESS_CONTROL}),
        "record_allocate": frozenset({ACCESS_CONTROL}),
        "latest_media_url": frozenset({WIFI, ZIGBEE_HOTEL, *_BLUETOOTH}),
        "albums_media": frozenset({WIFI_VIDEO}),
        "media_view_times": frozenset({WIFI}),
        "media_view_add": frozenset({WIFI}),
        # offline, dynamic and advanced passwords
        "offline_password_v10": frozenset({WIFI, *_BLUETOOTH}),
        "offline_password_v11": frozenset({WIFI, ZIGBEE, *_BLUETOOTH, WIFI_KEEPALIVE, ACCESS_CONTROL}),
        "offline_password_rename": frozenset({*_BLUETOOTH, WIFI_KEEPALIVE, ACCESS_CONTROL}),
        "dynamic_password": _RESIDENTIAL,
        "advanced_password_set": frozenset({ZIGBEE_HOTEL}),
        "advanced_password_get": frozenset({ZIGBEE_HOTEL}),
        # remote unlocking
        "remote_unlocks": frozenset({ZIGBEE, *_BLUETOOTH}),
        "remote_unlock_config": _RESIDENTIAL,
        "open_door_with_password": frozenset({ZIGBEE}),
        "password_free_open": frozenset({WIFI, ZIGBEE, ZIGBEE_HOTEL, *_BLUETOOTH, WIFI_KEEPALIVE, WIFI_VIDEO}),
        "password_free_open_channel": frozenset({ACCESS_CONTROL}),
        "password_free_cancel": frozenset({WIFI}),
        "door_operate": frozenset({WIFI, ZIGBEE, ZIGBEE_HOTEL, *_BLUETOOTH, WIFI_KEEPALIVE, WIFI_VIDEO}),
    }
)


def pin_length(kind: str) -> int:
    """Seven digits for Wi-Fi locks, six for Zigbee and Bluetooth locks."""
    return 7 if KINDS[kind].family == "wifi" else 6


def overlap_exclusive(kind: str) -> bool:
    """Whether a new password whose window overlaps another's is refused (delivery_status 6).

    The spec reserves status 6 for Zigbee locks without saying which; applying it to every Zigbee lock would
    allow one guest code at a time and break cleaner + tenant schedules, so only the hotel lock enforces it.
    """
    return kind == ZIGBEE_HOTEL
