"""Where webhooks may be sent: an https URL on a public address, unless WEBHOOK_ALLOW_PRIVATE_URLS (development,
tests) also allows http and private, loopback or link-local hosts.

Checked when an endpoint is saved (the host resolved, so the owner is told at once) and again on every connection,
on the address it reached (locks/cloud/endpoints.py's `public_only` pool: DNS can change between the two, and a
redirect is never followed).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from locks.cloud import endpoints

MAX_URL_LENGTH = 500


def private_allowed() -> bool:
    return bool(settings.WEBHOOK_ALLOW_PRIVATE_URLS)


def url_refusal(url: str, *, resolve: bool = True) -> str | None:
    """Why this server will not POST to `url`, in words for the form field; None when it will."""
    if len(url) > MAX_URL_LENGTH:
        return f"Use a URL of at most {MAX_URL_LENGTH} characters."
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return "Enter a full http(s) URL, such as https://example.com/webhooks/doors."
    parts = urlsplit(url)
    if parts.username or parts.password:
        return "Leave user names and passwords out of the URL: verify the webhook-signature header instead."
    if private_allowed():
        return None
    if parts.scheme != "https":
        return "Use an https URL: webhooks carry guests' names and door events, which must not travel in clear."
    if resolve:
        return endpoints.private_host_refusal(parts.hostname or "")
    return None


def check_url(url: str) -> str:
    """The URL, stripped, if webhooks may be sent to it; ValidationError on the `url` field otherwise."""
    url = (url or "").strip()
    refusal = url_refusal(url)
    if refusal:
        raise ValidationError({"url": refusal})
    return url


def pool(*, allow_private: bool | None = None) -> urllib3.PoolManager:
    """The connection pool of this worker process for the current setting (public addresses only, unless allowed).
    `allow_private`: another caller's own setting (calendar feeds read FEED_ALLOW_PRIVATE_URLS) instead of ours."""
    allowed = private_allowed() if allow_private is None else allow_private
    return _ANYWHERE if allowed else _PUBLIC


def _pool() -> urllib3.PoolManager:
    return urllib3.PoolManager(num_pools=100, maxsize=2, block=False, retries=False)


# One pool each per worker process: connections to a receiver stay open between deliveries.
_ANYWHERE = _pool()
_PUBLIC = endpoints.public_only(_pool())


def connection_trouble(error: HTTPError, host: str, *, connect_seconds: float, read_seconds: float) -> str | None:
    """What went wrong on the way to `host`, in words, for the failures every outgoing request shares (name, connect,
    timeouts, a broken connection); None for the rest, which each caller words for its own reader (webhook deliveries,
    calendar feeds)."""
    if isinstance(error, NameResolutionError):
        return f"{host}: no such host name could be found."
    if isinstance(error, NewConnectionError):  # before ConnectTimeoutError, of which urllib3 makes it a kind
        return f"Could not connect to {host} (refused or unreachable)."
    if isinstance(error, ConnectTimeoutError):
        return f"No connection to {host} within {connect_seconds:g} s."
    if isinstance(error, ReadTimeoutError):
        return f"No answer from {host} within {read_seconds:g} s."
    if isinstance(error, ProtocolError):
        return f"The connection to {host} broke off."
    return None
