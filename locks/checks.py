"""Deployment checks for where the cloud accounts may send this server (`manage.py check --deploy`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def endpoint_rules_in_production(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Both settings follow DEBUG; on in production they let whoever may connect a cloud project choose where the
    workers send requests (and, for private addresses, reach this server's own network)."""
    if settings.DEBUG:
        return []
    found: list[CheckMessage] = []
    if settings.TUYA_ALLOW_URL_ENDPOINTS:
        found.append(
            Warning(
                "TUYA_ALLOW_URL_ENDPOINTS is on while DEBUG is off: a cloud account's endpoint may be any http(s) URL, "
                "so whoever may connect a cloud project chooses where this server's workers send requests.",
                hint="Unset it (it follows DEBUG) unless this server talks to a private Tuya cloud or a simulator.",
                id="locks.W001",
            )
        )
    if settings.TUYA_ALLOW_PRIVATE_ENDPOINTS:
        found.append(
            Warning(
                "TUYA_ALLOW_PRIVATE_ENDPOINTS is on while DEBUG is off: cloud endpoints and the photo URLs in their "
                "replies may be private, loopback or link-local addresses (this machine, its network, the cloud "
                "metadata service at 169.254.169.254).",
                hint="Unset it (it follows DEBUG) unless the cloud this server calls is on a private network.",
                id="locks.W002",
            )
        )
    return found
