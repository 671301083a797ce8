"""Offline and dynamic passwords: codes the lock checks by itself, without the cloud reaching it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, IntEnum
from typing import Any

from ._base import (
    Ack,
    ApiGroup,
    Route,
    as_dict,
    endpoint,
    epoch_seconds,
    invalid,
    optional_text,
    require_enum,
    require_id,
    require_text,
    require_window,
    result_of,
    to_opt_int,
    to_str,
)

Timestamp = int | datetime

OFFLINE_CREATE = Route("POST", "/v1.0/devices/{device_id}/door-lock/offline-temp-password")
OFFLINE_CREATE_V11 = Route("POST", "/v1.1/devices/{device_id}/door-lock/offline-temp-password")
OFFLINE_RENAME = Route("PUT", "/v1.0/devices/{device_id}/door-lock/offline-temp-password/{password_id}")
DYNAMIC_PASSWORD = Route("GET", "/v1.0/devices/{device_id}/door-lock/dynamic-password")


class OfflineTypeV10(IntEnum):
    """`type` of the v1.0 offline password: 0 multiple use, 1 one-time, 9 clear all (returns a one-time code)."""

    MULTIPLE = 0
    ONCE = 1
    CLEAR_ALL = 9


class OfflineType(str, Enum):
    """`type` of the v1.1 offline password."""

    MULTIPLE = "multiple"
    ONCE = "once"
    CLEAR_ONE = "clear_one"
    CLEAR_ALL = "clear_all"


class Lang(str, Enum):
    """zh for the service in mainland China, en elsewhere."""

    ZH = "zh"
    EN = "en"


@dataclass(frozen=True)
class OfflinePassword:
    """An offline code (v1.0). The code opens the door: kept out of repr."""

    password: str = field(repr=False)
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class OfflinePasswordV11:
    """An offline code (v1.1) with its id and the hour-rounded validity the cloud chose."""

    password_id: str
    password: str = field(repr=False)
    name: str
    effective_time: int | None
    invalid_time: int | None
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class DynamicPassword:
    """A short-lived dynamic code; kept out of repr."""

    password: str = field(repr=False)
    raw: dict[str, Any] = field(repr=False, compare=False)


# Spec sections "Get an offline temporary password" (v1.0, v1.1), "Update the name of an offline password",
# "Get a dynamic password".
class OfflineApi(ApiGroup):
    """Offline and dynamic passwords."""

    # Every call issues a new code, so it is never repeated automatically.
    @endpoint(OFFLINE_CREATE)
    def create_offline_password(
        self,
        device_id: str,
        *,
        type: OfflineTypeV10 | int,  # noqa: A002 - the spec's parameter name
        effective_time: Timestamp,
        invalid_time: Timestamp,
        lang: Lang | str,
        name: str | None = None,
    ) -> OfflinePassword:
        """Get an offline password."""
        path = {"device_id": require_id(device_id, "device_id")}
        kind = require_enum(OfflineTypeV10, type, "type")
        effective, expires = require_window(effective_time, invalid_time)
        body: dict[str, Any] = {
            "effective_time": effective,
            "invalid_time": expires,
            "type": kind.value,
            "lang": require_enum(Lang, lang, "lang").value,
        }
        if name := optional_text(name, "name"):
            body["name"] = name
        envelope = self._send(OFFLINE_CREATE, path, body=body, idempotent=False)
        data = as_dict(result_of(envelope))
        return OfflinePassword(password=to_str(data.get("offline_temp_password")), raw=envelope)

    @endpoint(OFFLINE_CREATE_V11)
    def create_offline_password_v11(
        self,
        device_id: str,
        *,
        type: OfflineType | str,  # noqa: A002 - the spec's parameter name
        effective_time: Timestamp | None = None,
        invalid_time: Timestamp | None = None,
        name: str | None = None,
        password_id: str | int | None = None,
    ) -> OfflinePasswordV11:
        """Get an offline password v1.1 (also one-time codes and clearing one or all offline passwords)."""
        path = {"device_id": require_id(device_id, "device_id")}
        kind = require_enum(OfflineType, type, "type")
        body: dict[str, Any] = {"type": kind.value}
        if kind is OfflineType.MULTIPLE and (effective_time is None or invalid_time is None):
            raise invalid("effective_time and invalid_time are required for a multiple-use offline password.")
        if effective_time is not None and invalid_time is not None:
            body["effective_time"], body["invalid_time"] = require_window(effective_time, invalid_time)
        elif effective_time is not None:
            body["effective_time"] = epoch_seconds(effective_time, "effective_time")
        elif invalid_time is not None:
            body["invalid_time"] = epoch_seconds(invalid_time, "invalid_time")
        if kind is OfflineType.CLEAR_ONE:
            if password_id is None:
                raise invalid("password_id is required to clear one offline password.")
            body["password_id"] = require_id(password_id, "password_id")
        elif password_id is not None:
            raise invalid("password_id is only used with type clear_one.")
        if name := optional_text(name, "name"):
            body["name"] = name
        envelope = self._send(OFFLINE_CREATE_V11, path, body=body, idempotent=False)
        data = as_dict(result_of(envelope))
        return OfflinePasswordV11(
            password_id=to_str(data.get("offline_temp_password_id")),
            password=to_str(data.get("offline_temp_password")),
            name=to_str(data.get("offline_temp_password_name")),
            effective_time=to_opt_int(data.get("effective_time")),
            invalid_time=to_opt_int(data.get("invalid_time")),
            raw=envelope,
        )

    # Renaming to the same name twice leaves the same name.
    @endpoint(OFFLINE_RENAME)
    def rename_offline_password(self, device_id: str, password_id: int | str, name: str) -> Ack:
        """Update the name of an offline password."""
        path = {
            "device_id": require_id(device_id, "device_id"),
            "password_id": require_id(password_id, "password_id"),
        }
        # The parameter table says password_name; the sample's passwordName is its camelCase spelling.
        body = {"password_name": require_text(name, "name")}
        return Ack.from_envelope(self._send(OFFLINE_RENAME, path, body=body, idempotent=True))

    @endpoint(DYNAMIC_PASSWORD)
    def get_dynamic_password(self, device_id: str) -> DynamicPassword:
        """Get a dynamic password."""
        envelope = self._send(DYNAMIC_PASSWORD, {"device_id": require_id(device_id, "device_id")})
        return DynamicPassword(password=to_str(as_dict(result_of(envelope)).get("dynamic_password")), raw=envelope)
