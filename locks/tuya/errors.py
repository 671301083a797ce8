"""Typed errors for the Tuya Open API.

Every error carries Tuya's `code` and `msg` where there is one, and never a secret: no token,
no access secret, no ticket key, no request headers. Codes: docs/tuya-protocol.md, errors.
"""

from __future__ import annotations

from typing import Any


def gettext_noop(message: str) -> str:
    """Marks a hint for the app's translation catalogues (makemessages finds the call by its name) while this client
    stays free of Django: the app stores the English hint and reads it in each reader's language."""
    return message


class TuyaError(Exception):
    """Base class: something went wrong talking to the Tuya cloud."""

    hint = gettext_noop("Check the Tuya cloud project and try again.")

    def __init__(
        self,
        msg: str,
        *,
        code: int | None = None,
        tid: str | None = None,
        path: str | None = None,
        envelope: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.tid = tid
        self.path = path
        self.envelope = envelope

    def __str__(self) -> str:
        prefix = f"Tuya error {self.code}: " if self.code is not None else ""
        where = f" (on {self.path})" if self.path else ""
        return f"{prefix}{self.msg}{where}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, msg={self.msg!r}, path={self.path!r})"


class TuyaValidationError(TuyaError, ValueError):
    """A parameter was refused before anything was sent."""

    hint = gettext_noop("Correct the value and try again; nothing was sent to the cloud.")


class TuyaConfigError(TuyaError):
    """The client is not set up correctly (unknown region, missing credentials)."""

    hint = gettext_noop("Check TUYA_ENDPOINT, TUYA_ACCESS_ID and TUYA_ACCESS_SECRET.")


class TuyaEndpointRefused(TuyaConfigError):
    """This server may not call that endpoint (a URL, a private address): nothing was sent."""

    hint = gettext_noop("Use the project's Tuya region, or ask this server's administrator to allow the endpoint.")


class TuyaNetworkError(TuyaError):
    """No usable reply: connection refused, reset, DNS failure."""

    hint = gettext_noop("Check that the endpoint is reachable from this machine.")


class TuyaTimeoutError(TuyaNetworkError):
    """The cloud did not answer in time; the call may or may not have taken effect."""

    hint = gettext_noop(
        "The cloud did not answer in time; the operation may still have happened. Check its status before retrying."
    )


class TuyaProtocolError(TuyaError):
    """The reply was not a Tuya envelope (HTTP error page, not JSON, wrong shape)."""

    hint = gettext_noop("The endpoint did not answer like a Tuya cloud: check TUYA_ENDPOINT.")


class TuyaAuthError(TuyaError):
    """Credentials refused: unknown client id, bad secret, grant refused."""

    hint = gettext_noop("Check the access id and access secret of the cloud project.")


class TuyaTokenError(TuyaAuthError):
    """The access or refresh token is expired or invalid (1010, 1011, 1012)."""


class TuyaSignatureError(TuyaAuthError):
    """The cloud refused the signature (1004) or the request time (1013)."""

    hint = gettext_noop("Check the access secret, and that this machine's clock is right.")


class TuyaPermissionError(TuyaError):
    """The project may not call this API, or its subscription or quota ran out."""

    hint = gettext_noop("Authorise this API for the cloud project (or renew its subscription) in the Tuya console.")


class TuyaUnsupportedError(TuyaError):
    """This device or lock kind does not support the operation."""

    hint = gettext_noop("This lock does not support that operation.")


class TuyaRateLimitedError(TuyaError):
    """Too many requests (1110, 1111, 1199); the call was not carried out."""

    hint = gettext_noop("The cloud is limiting requests; wait a little and retry.")


class TuyaDeviceOfflineError(TuyaError):
    """The device (or its gateway) is offline (2001, 2312)."""

    hint = gettext_noop("The lock is offline: check its power and connection, or issue an offline password.")


class TuyaParameterError(TuyaError):
    """The cloud refused a parameter (1100–1109 except 1106)."""

    hint = gettext_noop("A value sent to the cloud was refused; correct it and try again.")


class TuyaNotFoundError(TuyaError):
    """The device, password or record does not exist."""

    hint = gettext_noop("It no longer exists in the cloud; refresh and try again.")


class TuyaServerError(TuyaError):
    """The cloud failed internally (500)."""

    hint = gettext_noop(
        "The Tuya cloud failed; the operation may or may not have happened. Check its status before retrying."
    )


class TuyaLockError(TuyaError):
    """A smart-lock business error (2301–2328)."""


class TuyaMediaError(TuyaError):
    """A media file could not be decrypted: truncated, corrupt or the wrong key."""

    hint = gettext_noop("Check the file key, and download the file again if it may be truncated.")


TOKEN_CODES = frozenset({1010, 1011, 1012, 1400})
RATE_LIMIT_CODES = frozenset({1110, 1111, 1199})

_BY_CODE: dict[int, type[TuyaError]] = {
    500: TuyaServerError,
    1000: TuyaNotFoundError,
    1001: TuyaAuthError,
    1002: TuyaTokenError,
    1003: TuyaAuthError,
    1004: TuyaSignatureError,
    1005: TuyaAuthError,
    1008: TuyaPermissionError,
    1013: TuyaSignatureError,
    1106: TuyaPermissionError,
    2001: TuyaDeviceOfflineError,
    2006: TuyaNotFoundError,  # user not exist
    2003: TuyaUnsupportedError,
    2004: TuyaUnsupportedError,
    2008: TuyaUnsupportedError,
    2009: TuyaUnsupportedError,
    2010: TuyaNotFoundError,
    2012: TuyaUnsupportedError,
    2015: TuyaUnsupportedError,
    2310: TuyaNotFoundError,
    2312: TuyaDeviceOfflineError,
    2321: TuyaNotFoundError,
    2323: TuyaNotFoundError,
    28841001: TuyaPermissionError,
    28841002: TuyaPermissionError,
    28841004: TuyaPermissionError,
    28841105: TuyaPermissionError,
}
_BY_CODE.update(dict.fromkeys(TOKEN_CODES, TuyaTokenError))
_BY_CODE.update(dict.fromkeys(RATE_LIMIT_CODES, TuyaRateLimitedError))


def error_class_for(code: int) -> type[TuyaError]:
    """Map a Tuya error code to the most specific error class."""
    if code in _BY_CODE:
        return _BY_CODE[code]
    if 1100 <= code <= 1109:
        return TuyaParameterError
    if 2301 <= code <= 2399:
        return TuyaLockError
    return TuyaError


def error_from_envelope(envelope: dict[str, Any], *, path: str | None = None) -> TuyaError:
    code = envelope.get("code")
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    msg = str(envelope.get("msg") or "unknown error")
    cls = error_class_for(code) if code is not None else TuyaError
    return cls(msg, code=code, tid=envelope.get("tid"), path=path, envelope=envelope)
