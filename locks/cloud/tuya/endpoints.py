"""Tuya's side of where a cloud account may point: its regions, how an endpoint name becomes a base URL, and the
address guard its client connects through (also used for the photo downloads). The policy itself (what this
server allows) is locks/cloud/endpoints.py.
"""

from __future__ import annotations

from typing import Any

import urllib3

from locks.cloud import port
from locks.tuya import REGIONS
from locks.tuya import resolve_endpoint as tuya_resolve_endpoint
from locks.tuya.client import PrivateAddressError, is_public_address, private_address_refusal, public_only
from locks.tuya.errors import TuyaConfigError

VENDOR = "Tuya"
REGION_URLS = frozenset(REGIONS.values())


def region_names() -> list[str]:
    return [*REGIONS]


def base_url(endpoint: str) -> str:
    """A region's URL, or an http(s) URL as it is; `Misconfigured` (with the client's words) for anything else."""
    try:
        return tuya_resolve_endpoint(endpoint)
    except TuyaConfigError as error:
        raise port.Misconfigured(error.msg, vendor=VENDOR, hint=error.hint) from None


def is_region_url(url: str) -> bool:
    return url in REGION_URLS


def is_public(address: str) -> bool:
    return is_public_address(address)


def private_refusal(host: str) -> str:
    """The one reason given for a host that is (or resolves to) a non-public address, whatever the address."""
    return private_address_refusal(host)


def guard(pool: urllib3.PoolManager) -> urllib3.PoolManager:
    """Make a pool manager connect to public addresses only, checked on each connection (redirects included)."""
    return public_only(pool)


def refused_private(reason: Any) -> bool:
    """Whether a connection failed because the guard refused a private address."""
    return isinstance(reason, PrivateAddressError)
