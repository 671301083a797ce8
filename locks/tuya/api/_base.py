"""What every endpoint group shares: the route registry, validation before sending, tolerant parsing.

Validation raises TuyaValidationError and happens before anything is sent (a ticket fetch included).
Messages name the parameter and the rule, never a PIN or a key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, IntEnum
from typing import Any, Generic, TypeVar

from ..client import TuyaClient
from ..errors import TuyaValidationError
from ..schedule import ScheduleEntry, validate_minutes, validate_working_day

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
E = TypeVar("E", bound=Enum)

# The spec gives no upper bound for any page size; its samples go up to 100, so that is our ceiling.
MAX_PAGE_SIZE = 100
_SECONDS_MIN, _SECONDS_MAX = 10**9, 10**10 - 1  # 10 digits: 2001-09-09 .. 2286-11-20
_MILLIS_MIN, _MILLIS_MAX = 10**12, 10**13 - 1
# Path parameters are pasted into the URL: anything that would change its structure is refused.
_PATH_UNSAFE = frozenset("/?#%\\")


# --- Routes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One row of the spec's API list: HTTP method and path template."""

    method: str
    template: str

    def path(self, **params: str) -> str:
        return self.template.format(**params)


# (method, path template) -> the method implementing it; filled by @endpoint at import time.
ROUTES: dict[tuple[str, str], Callable[..., Any]] = {}


def endpoint(route: Route) -> Callable[[F], F]:
    """Declare that the decorated method implements `route` (checked against the spec by a test)."""

    def decorate(fn: F) -> F:
        key = (route.method, route.template)
        if key in ROUTES:
            raise RuntimeError(f"Two methods claim {route.method} {route.template}")
        ROUTES[key] = fn
        fn.__tuya_route__ = route  # type: ignore[attr-defined]
        return fn

    return decorate


class ApiGroup:
    """One group of the spec's endpoints, sending through a shared TuyaClient."""

    def __init__(self, client: TuyaClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._client!r})"

    def _send(
        self,
        route: Route,
        path: Mapping[str, str],
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
    ) -> dict[str, Any]:
        return self._client.request(
            route.method, route.path(**path), query=query or None, body=body, idempotent=idempotent
        )


# --- Lock kinds and the spec's enumerations ---------------------------------------------------------


class LockKind(str, Enum):
    """The lock kinds the spec's "Applicable lock types" sections name."""

    WIFI = "wifi"
    ZIGBEE = "zigbee"
    BLE = "ble"
    BLE_GATEWAY = "ble_gateway"
    ZIGBEE_HOTEL = "zigbee_hotel"
    WIFI_KEEPALIVE = "wifi_keepalive"
    WIFI_VIDEO = "wifi_video"
    ACCESS_CONTROL = "access_control"

    @property
    def pin_length(self) -> int:
        """Seven digits for Wi-Fi locks, six for Zigbee and Bluetooth locks (temp-password section)."""
        return 7 if self in _WIFI_KINDS else 6

    @property
    def is_zigbee(self) -> bool:
        return self in (LockKind.ZIGBEE, LockKind.ZIGBEE_HOTEL)

    @property
    def is_bluetooth(self) -> bool:
        return self in (LockKind.BLE, LockKind.BLE_GATEWAY)


_WIFI_KINDS = frozenset({LockKind.WIFI, LockKind.WIFI_KEEPALIVE, LockKind.WIFI_VIDEO, LockKind.ACCESS_CONTROL})


class PasswordUse(IntEnum):
    """`type` of a temporary password."""

    MULTIPLE = 0
    ONCE = 1


class UnlockType(str, Enum):
    """Unlocking types in door-lock paths and bodies (the enrollment section lists them)."""

    FINGERPRINT = "fingerprint"
    PASSWORD = "password"
    CARD = "card"
    FACE = "face"
    REMOTE_CONTROL = "remoteControl"


class UnlockDpCode(str, Enum):
    """Standard DP codes of unlocking methods (union of the lists in the smart-lock sections)."""

    FINGERPRINT = "unlock_fingerprint"
    PASSWORD = "unlock_password"
    CARD = "unlock_card"
    FACE = "unlock_face"
    HAND = "unlock_hand"
    FINGER_VEIN = "unlock_finger_vein"
    TELECONTROL_KIT = "unlock_telecontrol_kit"


class KeyUserType(IntEnum):
    """`user_type` in the unlocking-method paths: 1 home user, 2 not a home user."""

    HOME = 1
    NOT_HOME = 2


class Role(str, Enum):
    ADMIN = "admin"
    NORMAL = "normal"


# --- Validation ---------------------------------------------------------------------------------------


def invalid(message: str) -> TuyaValidationError:
    return TuyaValidationError(message)


def require_id(value: object, name: str) -> str:
    """A non-empty id that can sit in a URL path (ints are accepted for the spec's Long ids)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise invalid(f"{name} must not be negative.")
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{name} is required and must be a non-empty string.")
    if value != value.strip() or any(ch in _PATH_UNSAFE or ch.isspace() or not ch.isprintable() for ch in value):
        raise invalid(f"{name} contains characters an id cannot have.")
    return value


def require_text(value: object, name: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise invalid(f"{name} must be a string.")
    if not allow_empty and not value.strip():
        raise invalid(f"{name} is required and must not be empty.")
    return value


def optional_text(value: object, name: str) -> str | None:
    return None if value is None else require_text(value, name, allow_empty=True)


def require_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise invalid(f"{name} must be true or false.")
    return value


def require_int(value: object, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{name} must be an integer.")
    if minimum is not None and value < minimum:
        raise invalid(f"{name} must be at least {minimum}.")
    if maximum is not None and value > maximum:
        raise invalid(f"{name} must be at most {maximum}.")
    return value


def require_enum(enum_cls: type[E], value: object, name: str) -> E:
    """A member of `enum_cls`, given as the member or its raw value (bools are never ints here)."""
    if isinstance(value, enum_cls):
        return value
    if not isinstance(value, bool):
        for member in enum_cls:
            if member.value == value and type(member.value) is type(value):
                return member
    allowed = ", ".join(repr(member.value) for member in enum_cls)
    raise invalid(f"{name} must be one of {allowed}, not {value!r}.")


def require_page(page_no: object, page_size: object) -> tuple[int, int]:
    return (
        require_int(page_no, "page_no", minimum=1),
        require_int(page_size, "page_size", minimum=1, maximum=MAX_PAGE_SIZE),
    )


def epoch_seconds(value: object, name: str) -> int:
    """A 10-digit Unix time in seconds, from an int or an aware datetime."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise invalid(f"{name} is a naive datetime: give it a time zone.")
        value = int(value.timestamp())
    elif isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{name} must be a Unix time in seconds or an aware datetime.")
    if _MILLIS_MIN <= value <= _MILLIS_MAX:
        raise invalid(f"{name} looks like milliseconds: the API wants a 10-digit time in seconds.")
    if not _SECONDS_MIN <= value <= _SECONDS_MAX:
        raise invalid(f"{name} must be a 10-digit Unix time in seconds.")
    return value


def epoch_millis(value: object, name: str) -> int:
    """A 13-digit Unix time in milliseconds, from an int or an aware datetime."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise invalid(f"{name} is a naive datetime: give it a time zone.")
        value = int(value.timestamp() * 1000)
    elif isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{name} must be a Unix time in milliseconds or an aware datetime.")
    if _SECONDS_MIN <= value <= _SECONDS_MAX:
        raise invalid(f"{name} looks like seconds: this API wants a 13-digit time in milliseconds.")
    if not _MILLIS_MIN <= value <= _MILLIS_MAX:
        raise invalid(f"{name} must be a 13-digit Unix time in milliseconds.")
    return value


def require_window(
    start: object,
    end: object,
    names: tuple[str, str] = ("effective_time", "invalid_time"),
    convert: Callable[[object, str], int] = epoch_seconds,
) -> tuple[int, int]:
    first, second = convert(start, names[0]), convert(end, names[1])
    if first >= second:
        raise invalid(f"{names[0]} must be before {names[1]}.")
    return first, second


def require_pin(pin: object, length: int, what: str) -> str:
    """Digits only and exactly `length` of them; the PIN itself never appears in the message."""
    if not isinstance(pin, str):
        raise invalid("The PIN must be given as a string of digits (an int would lose leading zeros).")
    if not pin.isascii() or not pin.isdigit():
        raise invalid("The PIN must contain digits only.")
    if len(pin) != length:
        raise invalid(f"The PIN must be {length} digits for {what}, not {len(pin)}.")
    return pin


def require_codes(
    codes: str | Iterable[str | Enum],
    name: str,
    *,
    allowed: type[Enum] | None = None,
    required: bool = True,
) -> str:
    """Comma-separated codes, from a string or a sequence; each checked against `allowed` when given."""
    if isinstance(codes, str):
        items: list[object] = [part.strip() for part in codes.split(",") if part.strip()]
    else:
        items = list(codes)
    values: list[str] = []
    for item in items:
        if allowed is not None:
            values.append(str(require_enum(allowed, item, name).value))
        else:
            text = item.value if isinstance(item, Enum) else item
            if not isinstance(text, str) or not text.strip() or "," in text:
                raise invalid(f"{name} holds codes: non-empty strings without commas.")
            values.append(text)
    if required and not values:
        raise invalid(f"{name} needs at least one code.")
    return ",".join(values)


def schedule_list(entries: Sequence[ScheduleEntry] | None) -> list[dict[str, int]] | None:
    """`schedule_list` for temp passwords; entries are re-checked (ScheduleEntry.from_api skips checks)."""
    if entries is None:
        return None
    if isinstance(entries, ScheduleEntry) or not all(isinstance(entry, ScheduleEntry) for entry in entries):
        raise invalid("schedule_list must be a sequence of ScheduleEntry.")
    if not entries:
        raise invalid("schedule_list must not be empty when given.")
    for entry in entries:
        validate_working_day(entry.working_day)
        validate_minutes(entry.start_minute, "effective_time")
        validate_minutes(entry.end_minute, "invalid_time")
        if entry.start_minute >= entry.end_minute:
            raise invalid("A schedule's start time must be before its end time on the same day.")
    return [entry.to_api() for entry in entries]


# --- Tolerant parsing ------------------------------------------------------------------------------


def result_of(envelope: Mapping[str, Any]) -> Any:
    return envelope.get("result")


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, dict) else []


def pick(data: Mapping[str, Any], *keys: str) -> Any:
    """The first present key: the spec spells many fields both snake_case and camelCase."""
    for key in keys:
        if key in data and data[key] is not None:
            return data[key]
    return None


def to_int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def to_opt_int(value: Any) -> int | None:
    return None if value is None or value == "" else to_int(value)


def to_str(value: Any) -> str:
    return "" if value is None else str(value)


def to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


# --- Results shared by several groups ------------------------------------------------------------------


@dataclass(frozen=True)
class Ack:
    """A call whose result is only true/false (or nothing); truthy when the cloud said true."""

    ok: bool
    raw: dict[str, Any] = field(repr=False, compare=False)

    def __bool__(self) -> bool:
        return self.ok

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any]) -> Ack:
        result = envelope.get("result")
        # A success envelope without a result (the role update) or with an object counts as done.
        ok = True if result is None or isinstance(result, dict) else to_bool(result)
        return cls(ok=ok, raw=envelope)


@dataclass(frozen=True)
class Items(Generic[T]):
    """A plain (unpaged) list result."""

    items: tuple[T, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a paged list; fields the endpoint does not return stay None."""

    items: tuple[T, ...]
    total: int | None = None
    has_more: bool | None = None
    total_pages: int | None = None
    last_row_key: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]


def page_from(
    envelope: dict[str, Any], items_key: str, parse: Callable[[dict[str, Any]], T], result: Any = None
) -> Page[T]:
    data = as_dict(result_of(envelope) if result is None else result)
    return Page(
        items=tuple(parse(as_dict(item)) for item in as_list(data.get(items_key))),
        total=to_opt_int(data.get("total")),
        has_more=None if data.get("has_more") is None else to_bool(data.get("has_more")),
        total_pages=to_opt_int(data.get("total_pages")),
        last_row_key=None if data.get("last_row_key") is None else to_str(data.get("last_row_key")),
        raw=envelope,
    )


@dataclass(frozen=True)
class StatusItem:
    """One `{code, value}` of a record's status."""

    code: str
    value: Any

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> StatusItem:
        return cls(code=to_str(data.get("code")), value=data.get("value"))


def status_items(value: Any) -> tuple[StatusItem, ...]:
    """The spec shows `status` both as one object and as a list of them."""
    return tuple(StatusItem.from_api(as_dict(item)) for item in as_list(value))


@dataclass(frozen=True)
class MediaInfo:
    """A photo or video of a record; the keys decrypt the files, so they stay out of repr."""

    file_url: str = ""
    file_key: str = field(default="", repr=False)
    media_url: str = ""
    media_key: str = field(default="", repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> MediaInfo:
        return cls(
            file_url=to_str(pick(data, "file_url", "fileUrl")),
            file_key=to_str(pick(data, "file_key", "fileKey")),
            media_url=to_str(pick(data, "media_url", "mediaUrl")),
            media_key=to_str(pick(data, "media_key", "mediaKey")),
        )


def media_infos(value: Any) -> tuple[MediaInfo, ...]:
    return tuple(MediaInfo.from_api(as_dict(item)) for item in as_list(value))


@dataclass(frozen=True)
class ScheduleWindow:
    """One `schedule_details` row of a keepalive password or a user's validity period."""

    working_day: int
    start_minute: int
    end_minute: int
    all_day: bool = False
    time_zone_id: str = ""

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ScheduleWindow:
        """As the cloud returned it (its samples show end_minute 2359 and working_day 101)."""
        return cls(
            working_day=to_int(pick(data, "working_day", "workingDay")),
            start_minute=to_int(pick(data, "start_minute", "startMinute")),
            end_minute=to_int(pick(data, "end_minute", "endMinute")),
            all_day=to_bool(pick(data, "all_day", "allDay")),
            time_zone_id=to_str(pick(data, "time_zone_id", "timeZoneId")),
        )

    def to_api(self) -> dict[str, Any]:
        validate_working_day(self.working_day)
        validate_minutes(self.start_minute, "start_minute")
        validate_minutes(self.end_minute, "end_minute")
        if not self.all_day and self.start_minute >= self.end_minute:
            raise invalid("start_minute must be before end_minute on the same day.")
        data: dict[str, Any] = {
            "start_minute": self.start_minute,
            "end_minute": self.end_minute,
            "working_day": self.working_day,
            "all_day": require_bool(self.all_day, "all_day"),
        }
        if self.time_zone_id:
            data["time_zone_id"] = require_text(self.time_zone_id, "time_zone_id")
        return data


def schedule_windows(value: Any) -> tuple[ScheduleWindow, ...]:
    return tuple(ScheduleWindow.from_api(as_dict(item)) for item in as_list(value))
