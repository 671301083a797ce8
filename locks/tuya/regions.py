"""Tuya's data-centre base URLs by region name (docs/tuya-protocol.md, tokens and regions)."""

from __future__ import annotations

from urllib.parse import urlsplit

from .errors import TuyaConfigError

REGIONS: dict[str, str] = {
    "cn": "https://openapi.tuyacn.com",
    "us": "https://openapi.tuyaus.com",
    "us-east": "https://openapi-ueaz.tuyaus.com",
    "eu": "https://openapi.tuyaeu.com",
    "eu-west": "https://openapi-weaz.tuyaeu.com",
    "in": "https://openapi.tuyain.com",
}


def resolve_endpoint(endpoint: str) -> str:
    """A region name (`eu`, `us-east`, ...) or an http(s) URL → the base URL, without a trailing slash."""
    value = (endpoint or "").strip()
    if value.lower() in REGIONS:
        return REGIONS[value.lower()]
    parts = urlsplit(value)
    if parts.scheme in {"http", "https"} and parts.netloc:
        return value.rstrip("/")
    names = ", ".join(REGIONS)
    raise TuyaConfigError(f"Unknown Tuya endpoint {value!r}: use a region name ({names}) or an http(s) URL.")
