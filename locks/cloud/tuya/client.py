"""The Tuya client of a cloud account (one per account and process, its token shared through Redis), what a
password's status means in our terms (pending, set, frozen, removed, failed) whatever the lock family reports, and
a lock's kind from its device category. Part of the Tuya adapter (locks/cloud/tuya/adapter.py is built on it).

`api_for` is called by `locks.cloud.accounts.cloud_for` only (tests also use it to reach a cloud's raw replies).
"""

from __future__ import annotations

import threading
from functools import lru_cache, partial
from typing import Any

import redis
from django.conf import settings
from django.utils.translation import gettext_noop

from locks.cloud import budget, endpoints, port
from locks.cloud.port import CloudPassword, LockRef, PasswordState
from locks.models import CloudAccount, LockKind
from locks.tuya import RedisTokenStore, TuyaClient, TuyaNotFoundError
from locks.tuya.api import LockApi
from locks.tuya.api.device import DeviceDetails
from locks.tuya.api.passwords import KeepalivePassword, TempPassword
from locks.tuya.client import Urllib3Transport
from locks.tuya.errors import TuyaEndpointRefused
from locks.tuya.tokens import MemoryTokenStore

_clients: dict[tuple[int, str, str, str, bool], LockApi] = {}
_clients_lock = threading.Lock()


_NOWHERE = "http://endpoint-not-allowed.invalid"


class _Refuse:
    """The transport of an account whose endpoint this server may not call."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def send(self, *args: Any, **kwargs: Any) -> Any:
        raise TuyaEndpointRefused(self.reason)


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def api_for(account: CloudAccount) -> LockApi:
    """One client per cloud account and process; the token is shared through Redis by every process.

    The endpoint is checked again on every call (a row stored before the rules, or changed in the admin, gets no
    further than the port's EndpointRefused), and the client reaches private addresses only where they are allowed.
    """
    try:
        base_url = endpoints.check_endpoint(account.endpoint, resolve=False)
    except port.EndpointRefused as refused:
        # Every call fails with the reason, where each caller handles a cloud error: nothing is sent anywhere.
        client = TuyaClient(_NOWHERE, account.access_id or "-", account.access_secret or "-",
                            token_store=MemoryTokenStore(), transport=_Refuse(refused.message))  # fmt: skip
        return LockApi(client)
    embedded = endpoints.is_embedded(account.endpoint)
    allow_private = embedded or bool(settings.TUYA_ALLOW_PRIVATE_ENDPOINTS)
    key = (account.pk, base_url, account.access_id, account.access_secret, allow_private)
    with _clients_lock:
        api = _clients.get(key)
        if api is None:
            project = budget.project_key(base_url, account.access_id)
            client = TuyaClient(
                base_url,
                account.access_id,
                account.access_secret,
                before_send=partial(budget.take, project),
                on_rate_limited=partial(budget.shrink, project),
                token_store=RedisTokenStore(_redis()),
                transport=Urllib3Transport(allow_private=allow_private),
                timeout=(5.0, settings.TUYA_TIMEOUT_SECONDS),
                server_text=embedded
                or endpoints.is_region_url(base_url),  # Tuya's words, or our simulator's; no other's
            )
            api = _clients[key] = LockApi(client)
        return api


UNDELIVERED = 3  # the delivery status "the lock did not accept it": resending through the gateway may help
DELIVERY_FAILURES = {
    3: gettext_noop(
        "The lock did not accept the code (delivery failed). Check that the lock and its gateway are online."
    ),
    4: gettext_noop("The lock already has this PIN. Choose another PIN."),
    5: gettext_noop("The lock has no free code slots. Remove codes it no longer needs."),
    6: gettext_noop("The code's window overlaps another code on this lock."),
}

_KEEPALIVE_KINDS = frozenset({LockKind.WIFI_KEEPALIVE, LockKind.ACCESS_CONTROL})
_GET_ONE_KINDS = frozenset({LockKind.WIFI, LockKind.ZIGBEE, LockKind.BLE, LockKind.BLE_GATEWAY, LockKind.ZIGBEE_HOTEL})
_ZIGBEE_KINDS = frozenset({LockKind.ZIGBEE, LockKind.ZIGBEE_HOTEL})


def _state_of_temp(pw: TempPassword, kind: str) -> CloudPassword:
    """`phase` means different things per lock family (spec, "Get the information about a temporary password")."""
    if pw.delivery_status in DELIVERY_FAILURES:
        undelivered = pw.delivery_status == UNDELIVERED
        return CloudPassword(pw.id, pw.name, "failed", DELIVERY_FAILURES[pw.delivery_status], undelivered)
    if pw.delivery_status == 1:  # "being configured": a create, change, freeze or delete on its way
        return CloudPassword(pw.id, pw.name, "pending")
    phase = pw.phase
    if kind in _ZIGBEE_KINDS:
        states: dict[int, PasswordState] = {1: "pending", 2: "set", 3: "frozen", 4: "removed", 5: "failed"}
    else:  # Wi-Fi and Bluetooth: 0 deleted, 1 to be sent, 2 sent, 3 to be deleted
        states = {0: "removed", 1: "pending", 2: "set", 3: "pending"}
    state = states.get(phase or 0, "pending")
    failed = state == "failed"
    return CloudPassword(pw.id, pw.name, state, DELIVERY_FAILURES[UNDELIVERED] if failed else "", failed)


def _state_of_keepalive(pw: KeepalivePassword) -> CloudPassword:
    status, operate = pw.delivery_status.upper(), pw.operate.upper()
    if status == "FAILED":
        return CloudPassword(pw.password_id, pw.name, "failed", DELIVERY_FAILURES[UNDELIVERED], True)
    if status != "SUCCESS":
        return CloudPassword(pw.password_id, pw.name, "pending")
    return CloudPassword(pw.password_id, pw.name, "removed" if operate == "DELETE" else "set")


def list_passwords(api: LockApi, lock: LockRef) -> list[CloudPassword]:
    """Every temporary password the cloud knows on this lock, whatever endpoint its kind uses."""
    if lock.kind in _KEEPALIVE_KINDS:
        found: list[CloudPassword] = []
        last: str | None = None
        while True:
            page = api.passwords.list_keepalive_temp_passwords(lock.device_id, last_row_key=last, page_size=100)
            found += [_state_of_keepalive(pw) for pw in page]
            if not page.has_more or not page.last_row_key:
                return found
            last = page.last_row_key
    return [_state_of_temp(pw, lock.kind) for pw in api.passwords.list_temp_passwords(lock.device_id)]


def read_password(api: LockApi, lock: LockRef, password_id: int) -> CloudPassword:
    """One password's state; `removed` when the cloud no longer has it."""
    if lock.kind in _GET_ONE_KINDS:
        try:
            return _state_of_temp(api.passwords.get_temp_password(lock.device_id, password_id), lock.kind)
        except TuyaNotFoundError:
            return CloudPassword(password_id, "", "removed")
    for pw in list_passwords(api, lock):
        if pw.password_id == password_id:
            return pw
    return CloudPassword(password_id, "", "removed")


# Tuya product categories of lock kinds other than the residential "ms" locks.
_CATEGORY_KINDS = {
    "jtmspro": LockKind.WIFI_KEEPALIVE,
    "videolock": LockKind.WIFI_VIDEO,
    "mk": LockKind.ACCESS_CONTROL,
    "gyms": LockKind.ZIGBEE_HOTEL,
}


LOCK_CATEGORIES = frozenset({"ms", *_CATEGORY_KINDS})


def is_lock_category(category: str) -> bool:
    """A project may hold lights and plugs too: only locks are imported."""
    return category in LOCK_CATEGORIES


def kind_of(device: DeviceDetails) -> str:
    """Our lock kind from the device's category and product; staff can correct it in the admin."""
    if device.category in _CATEGORY_KINDS:
        return _CATEGORY_KINDS[device.category]
    product = device.product_name.lower()
    if "zigbee" in product:
        return LockKind.ZIGBEE
    if "bluetooth" in product or "ble" in product:
        return LockKind.BLE_GATEWAY if device.sub else LockKind.BLE
    return LockKind.WIFI
