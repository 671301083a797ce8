"""Reading a calendar feed's URL: a conditional GET, at most FEED_MAX_BYTES, a few redirects, every failure in words.

Whoever adds a feed chooses where this server sends requests, so, unless FEED_ALLOW_PRIVATE_URLS, a feed may only
reach public addresses: its host is checked when it is saved (`url_refusal`), and every connection, redirects
included, goes through the webhooks' guarded pool (webhooks/targets.py), which checks the address it reached.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_noop
from urllib3.exceptions import (
    HTTPError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from bookings.ical import FeedError
from locks.cloud import endpoints
from locks.words import Words
from webhooks import targets

MAX_URL_LENGTH = 2000
MAX_REDIRECTS = 3
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024
DRAIN_BYTES = 64 * 1024  # what is read of an answer that is not the calendar, to reuse its connection
USER_AGENT = "Doors calendar sync"


@dataclass(frozen=True)
class Fetched:
    not_modified: bool  # a 304: the calendar is as it was last time (body empty)
    body: bytes
    etag: str = ""
    last_modified: str = ""


def private_allowed() -> bool:
    return bool(settings.FEED_ALLOW_PRIVATE_URLS)


def url_refusal(url: str, *, resolve: bool = True) -> Words | None:
    """Why this server will not read a calendar at `url`, in words for the form field; None when it will."""
    url = (url or "").strip()
    if not url:
        return Words(gettext_noop("Paste the calendar's export (.ics) link."))
    if len(url) > MAX_URL_LENGTH:
        return Words(gettext_noop("Use a URL of at most %(max)s characters."), {"max": MAX_URL_LENGTH})
    if url.lower().startswith("webcal://"):
        return Words(gettext_noop("Use the https:// form of this link (replace webcal:// with https://)."))
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return Words(gettext_noop("Enter a full http(s) URL, such as https://www.airbnb.com/calendar/ical/123.ics?s=…"))
    parts = urlsplit(url)
    if parts.username or parts.password:
        return Words(gettext_noop("Leave user names and passwords out of the URL."))
    if private_allowed() or not resolve:
        return None  # without resolving, the guarded pool checks the address each connection reaches
    refusal = endpoints.private_host_refusal(parts.hostname or "")
    return Words(refusal) if refusal else None  # worded in English where the cloud's addresses are checked


def fetch_feed(url: str, *, etag: str = "", last_modified: str = "") -> Fetched:
    """GET the calendar (If-None-Match / If-Modified-Since when given); FeedError in words for anything but a
    calendar body or a 304."""
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, text/plain;q=0.9, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    timeout = float(settings.FEED_FETCH_TIMEOUT_SECONDS)
    deadline = time.monotonic() + timeout
    pool = targets.pool(allow_private=private_allowed())
    for _hop in range(MAX_REDIRECTS + 1):
        refusal = url_refusal(url, resolve=False)  # the setting may have changed; a redirect may point anywhere
        if refusal:
            raise FeedError(refusal)
        try:
            response = pool.request(
                "GET",
                url,
                headers=headers,
                timeout=urllib3.Timeout(connect=timeout, read=timeout),
                redirect=False,
                retries=False,
                preload_content=False,
            )
        except HTTPError as error:
            raise FeedError(_network_error(error, url, timeout)) from None
        try:
            status = int(response.status)
            if status in REDIRECTS:
                location = response.headers.get("Location", "")
                if not location:
                    nowhere = gettext_noop("The calendar server answered %(status)s without saying where to.")
                    raise FeedError(Words(nowhere, {"status": _status(status)}))
                url = urljoin(url, location)
                continue
            if status == 304:
                # A 304 may leave its validators out: they stay what they were.
                return Fetched(
                    True, b"", response.headers.get("ETag", etag), response.headers.get("Last-Modified", last_modified)
                )
            if not 200 <= status < 300:
                raise FeedError(
                    Words(gettext_noop("The calendar server answered %(status)s."), {"status": _status(status)})
                )
            body = _read(response, url, deadline, timeout)
            return Fetched(False, body, response.headers.get("ETag", ""), response.headers.get("Last-Modified", ""))
        finally:
            _let_go(response)
    too_many = gettext_noop("The calendar server redirected more than %(count)s times: give its final address.")
    raise FeedError(Words(too_many, {"count": MAX_REDIRECTS}))


def _read(response: urllib3.BaseHTTPResponse, url: str, deadline: float, timeout: float) -> bytes:
    """The body, read in pieces and given up past the size limit or the time limit (a slow drip counts too)."""
    limit = int(settings.FEED_MAX_BYTES)
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise FeedError(_too_large(limit))
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            chunk = response.read(CHUNK)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:
                response.close()
                raise FeedError(_too_large(limit))
            if time.monotonic() > deadline:
                response.close()
                slow = gettext_noop("The calendar did not finish downloading within %(seconds)s s.")
                raise FeedError(Words(slow, {"seconds": f"{timeout:g}"}))
            chunks.append(chunk)
    except ReadTimeoutError:
        response.close()
        silent = gettext_noop("No answer from %(host)s within %(seconds)s s.")
        raise FeedError(Words(silent, {"host": _host(url), "seconds": f"{timeout:g}"})) from None
    except (ProtocolError, HTTPError):
        response.close()
        broke = gettext_noop("The connection to %(host)s broke off before the calendar was complete.")
        raise FeedError(Words(broke, {"host": _host(url)})) from None


def _let_go(response: urllib3.BaseHTTPResponse) -> None:
    """Give the connection back for the next request once its answer is read to the end (a redirect's or an
    error's few words are read here); an answer left unfinished closes it instead."""
    try:
        finished = not response.read(DRAIN_BYTES) or not response.read(1)
    except (HTTPError, OSError):
        finished = False
    if not finished:
        response.close()
    response.release_conn()


def _too_large(limit: int) -> Words:
    too_large = gettext_noop("The calendar is larger than %(size)s MB; this server reads no more than that.")
    return Words(too_large, {"size": f"{limit / (1024 * 1024):g}"})


def _status(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _network_error(error: HTTPError, url: str, timeout: float) -> Words:
    host = _host(url)
    if endpoints.refused_private(error):
        private = gettext_noop("%(host)s is a private or local address; this server does not read calendars there.")
        return Words(private, {"host": host})
    if isinstance(error, SSLError):
        return Words(gettext_noop("The secure connection to %(host)s failed: check the address."), {"host": host})
    trouble = targets.connection_trouble(error, host, connect_seconds=timeout, read_seconds=timeout)
    if trouble:
        return Words(trouble)  # worded in English where every outgoing connection is (webhooks too)
    unreadable = gettext_noop("Could not read the calendar at %(host)s (%(error)s).")
    return Words(unreadable, {"host": host, "error": type(error).__name__})
