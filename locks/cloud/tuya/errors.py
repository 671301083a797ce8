"""Tuya's errors in the port's terms (locks/cloud/port.py): every distinction the app makes, none of Tuya's names.

The message, code and hint travel as they are, and `str()` of the port's error is the client's own line, so what a
person or a log reads does not change. Codes: docs/tuya-protocol.md, errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

from locks.cloud import port
from locks.tuya import errors as tuya

VENDOR = "Tuya"

# Most specific first: the first class the error is an instance of decides.
_CLASSES: tuple[tuple[type[tuya.TuyaError], type[port.CloudError]], ...] = (
    (tuya.TuyaValidationError, port.InvalidRequest),
    (tuya.TuyaEndpointRefused, port.EndpointRefused),
    (tuya.TuyaConfigError, port.Misconfigured),
    (tuya.TuyaTokenError, port.TokenRefused),
    (tuya.TuyaAuthError, port.AccountRefused),  # signature errors too
    (tuya.TuyaPermissionError, port.AccountRefused),
    (tuya.TuyaRateLimitedError, port.RateLimited),
    (tuya.TuyaNetworkError, port.NoAnswer),  # timeouts too
    (tuya.TuyaServerError, port.NoAnswer),
    (tuya.TuyaProtocolError, port.BadReply),
    (tuya.TuyaDeviceOfflineError, port.LockOffline),
    (tuya.TuyaUnsupportedError, port.Unsupported),
    (tuya.TuyaMediaError, port.MediaUnreadable),
)
_BY_CODE: dict[int, type[port.CloudError]] = {
    2006: port.PersonNotFound,  # "user not exist"
    1113: port.TooSoon,  # "do not repeat the operation in a short time"
    2306: port.LockRefused,  # "illegal operation"
    2328: port.LockBusy,  # "operation in progress"
}


def translate(error: tuya.TuyaError) -> port.CloudError:
    """The port's error for a client error (the client's error is kept as its cause)."""
    cls: type[port.CloudError] = port.CloudError
    if error.code is not None and error.code in _BY_CODE:
        cls = _BY_CODE[error.code]
    elif isinstance(error, tuya.TuyaNotFoundError):
        cls = port.NotFound
    else:
        cls = next((ours for theirs, ours in _CLASSES if isinstance(error, theirs)), port.CloudError)
    translated = cls(error.msg, code=error.code, vendor=VENDOR, hint=error.hint, text=str(error))
    translated.__cause__ = error
    return translated


@contextmanager
def translated() -> Iterator[None]:
    """Raise the port's error for any client error inside the block."""
    try:
        yield
    except tuya.TuyaError as error:
        raise translate(error) from error


P = ParamSpec("P")
T = TypeVar("T")


def translating(method: Callable[P, T]) -> Callable[P, T]:
    """A method of the adapter whose client errors come out as the port's."""

    @wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with translated():
            return method(*args, **kwargs)

    return wrapper
