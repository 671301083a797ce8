"""Which cloud endpoints this server may call: a region of the cloud, the embedded simulator, or (only where allowed)
a URL; and the address guard every call to a cloud (and every photo download) goes through.

Used by the model's and the form's validation, the push consumer, the photo downloads and the client of each
account; the vendor's facts (its regions, how a name becomes a URL, the guard) come from its adapter. It imports no
model, so `locks.models` can use it.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.utils.translation import gettext_noop

from locks.cloud import port
from locks.cloud.tuya import endpoints as vendor

EMBEDDED = "embedded"  # the endpoint of a cloud account that uses the simulator mounted in this app


def region_names() -> list[str]:
    """The regions an account's endpoint may name (the set-up page lists them)."""
    return vendor.region_names()


def resolve_endpoint(endpoint: str) -> str:
    return settings.EMBEDDED_SIMULATOR_URL if endpoint == EMBEDDED else endpoint


def is_embedded(endpoint: str) -> bool:
    return endpoint.strip() == EMBEDDED


def is_region_url(url: str) -> bool:
    """A base URL that is one of the cloud's own regions (whose words the app may show)."""
    return vendor.is_region_url(url)


def check_endpoint(endpoint: str, *, resolve: bool = True) -> str:
    """The base URL a cloud account's endpoint stands for, if this server may call it; EndpointRefused otherwise.

    A region always; "embedded" only while the embedded simulator is on; an http(s) URL only with
    TUYA_ALLOW_URL_ENDPOINTS, and one that is a private, loopback or link-local address only with
    TUYA_ALLOW_PRIVATE_ENDPOINTS. With `resolve` a host name is looked up here too (to say so when connecting);
    the client checks the address it actually reaches on every connection all the same (DNS can change).
    """
    value = (endpoint or "").strip()
    if value == EMBEDDED:
        if not settings.EMBEDDED_SIMULATOR:
            raise _refused("The embedded simulator is off on this server: use your Tuya project's region.")
        return str(settings.EMBEDDED_SIMULATOR_URL)
    names = ", ".join(vendor.region_names())
    try:
        base_url = vendor.base_url(value)  # a region or an http(s) URL
    except port.Misconfigured as error:
        if settings.TUYA_ALLOW_URL_ENDPOINTS:
            raise _refused(error.message) from None
        raise _refused(f"Unknown Tuya endpoint {value!r}: use your project's region ({names}).") from None
    if vendor.is_region_url(base_url):
        return base_url
    if not settings.TUYA_ALLOW_URL_ENDPOINTS:
        raise _refused(f"Use your Tuya project's region ({names}); this server does not take URLs.")
    if not settings.TUYA_ALLOW_PRIVATE_ENDPOINTS:
        host = urlsplit(base_url).hostname or ""
        for address in _addresses(host) if resolve else _literal(host):
            if not vendor.is_public(address):
                raise _refused(f"{vendor.private_refusal(host)}.")  # the same words as when connecting
    return base_url


def refusal(endpoint: str) -> str | None:
    """Why this server may not call `endpoint`, in words for a form field; None when it may."""
    try:
        check_endpoint(endpoint)
    except port.EndpointRefused as error:
        return error.message
    return None


def private_host_refusal(host: str) -> str | None:
    """Why a server that calls public addresses only may not call `host` (it is, or resolves to, a private, loopback
    or link-local address, or resolves to nothing), in words for a form field; None when it may. The webhooks'
    registration uses it; `public_only` checks the address each connection reaches all the same."""
    try:
        addresses = _addresses(host)
    except port.EndpointRefused as error:
        return error.message
    if not addresses or not all(vendor.is_public(address) for address in addresses):
        return f"{vendor.private_refusal(host)}."
    return None


def public_only(pool: urllib3.PoolManager) -> urllib3.PoolManager:
    """Make a pool manager connect to public addresses only, checked on the address each connection reached."""
    return vendor.guard(pool)


def refused_private(reason: Any) -> bool:
    """Whether a connection failed because `public_only` refused a private or local address."""
    return vendor.refused_private(reason)


def _refused(reason: str) -> port.EndpointRefused:
    return port.EndpointRefused(reason, vendor=vendor.VENDOR, hint=ENDPOINT_HINT)


ENDPOINT_HINT = gettext_noop("Use the project's Tuya region, or ask this server's administrator to allow the endpoint.")


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
        raise _refused(f"{host}: no such host name could be found.") from None
