"""Tuya error codes and their messages, as the cloud answers them (docs/tuya-protocol.md, errors)."""

from __future__ import annotations

MESSAGES: dict[int, str] = {
    500: "system error, please contact the admin",
    1002: "access_token is null",
    1003: "grant type invalid",
    1004: "sign invalid",
    1005: "clientId invalid",
    1010: "token invalid",
    1011: "token invalid",
    1013: "request time is invalid",
    1100: "param is empty",
    1101: "params range invalid",
    1102: "param is null",
    1104: "type is incorrect",
    1105: "missing the header",
    1106: "permission deny",
    1108: "uri path invalid",
    1109: "param is illegal, please check it",
    1113: "do not repeat the operation in a short time",
    1199: "your requests are too frequent",
    2001: "device is offline",
    2004: "not support the lock type",
    2006: "user not exist",
    2009: "not support this device",
    2010: "device not exist",
    2302: "password encryption error",
    2306: "illegal operation",
    2318: "effective time or invalid time is earlier than now",
    2323: "password record does not exist",
    2324: "password status does not allow operation",
    2328: "operation in progress",
}


class TuyaError(Exception):
    """A refusal the simulated cloud answers with `success: false`."""

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        base = MESSAGES.get(code, "system error, please contact the admin")
        # Tuya's own messages are terse; the detail names the offending field for whoever reads the log.
        self.msg = f"{base}: {detail}" if detail else base
        super().__init__(f"{code} {self.msg}")
