"""Which cloud endpoints this server may call: a Tuya region, the embedded simulator, or (only where allowed) a
URL. Used by the model's and the form's validation and by the client factory in `locks/cloud.py`; it imports no
model, so `locks.models` can use it without importing the client factory.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from locks.tuya import REGIONS
from locks.tuya import resolve_endpoint as tuya_resolve_endpoint
from locks.tuya.client import is_public_address, private_address_refusal
from locks.tuya.errors import TuyaConfigError, TuyaEndpointRefused

EMBEDDED = "embedded"  # the endpoint of a cloud account that uses the simulator mounted in this app


def resolve_endpoint(endpoint: str) -> str:
    return settings.EMBEDDED_SIMULATOR_URL if endpoint == EMBEDDED else endpoint


def check_endpoint(endpoint: str, *, resolve: bool = True) -> str:
    """The base URL a cloud account's endpoint stands for, if this server may call it; TuyaEndpointRefused otherwise.

    A Tuya region always; "embedded" only while the embedded simulator is on; an http(s) URL only with
    TUYA_ALLOW_URL_ENDPOINTS, and one that is a private, loopback or link-local address only with
    TUYA_ALLOW_PRIVATE_ENDPOINTS. With `resolve` a host name is looked up here too (to say so when connecting);
    the client checks the address it actually reaches on every connection all the same (DNS can change).
    """
    value = (endpoint or "").strip()
    if value == EMBEDDED:
        if not settings.EMBEDDED_SIMULATOR:
            raise TuyaEndpointRefused("The embedded simulator is off on this server: use your Tuya project's region.")
        return str(settings.EMBEDDED_SIMULATOR_URL)
    names = ", ".join(REGIONS)
    try:
        base_url = tuya_resolve_endpoint(value)  # a region or an http(s) URL
    except TuyaConfigError as error:
        if settings.TUYA_ALLOW_URL_ENDPOINTS:
            raise TuyaEndpointRefused(error.msg) from None
        raise TuyaEndpointRefused(f"Unknown Tuya endpoint {value!r}: use your project's region ({names}).") from None
    if base_url in REGIONS.values():
        return base_url
    if not settings.TUYA_ALLOW_URL_ENDPOINTS:
        raise TuyaEndpointRefused(f"Use your Tuya project's region ({names}); this server does not take URLs.")
    if not settings.TUYA_ALLOW_PRIVATE_ENDPOINTS:
        host = urlsplit(base_url).hostname or ""
        for address in _addresses(host) if resolve else _literal(host):
            if not is_public_address(address):
                raise TuyaEndpointRefused(f"{private_address_refusal(host)}.")  # the same words as when connecting
    return base_url


def refusal(endpoint: str) -> str | None:
    """Why this server may not call `endpoint`, in words for a form field; None when it may."""
    try:
        check_endpoint(endpoint)
    except TuyaConfigError as error:
        return error.msg
    return None


def _literal(host: str) -> list[str]:
    """The host itself if it is an IP address (checked without DNS), else nothing: the client checks names."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        return []


def _addresses(host: str) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})
    except (OSError, UnicodeError):
        raise TuyaEndpointRefused(f"{host}: no such host name could be found.") from None
