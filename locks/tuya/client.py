"""The Tuya Open API transport: signed calls, shared tokens, timeouts, careful retries.

Built on urllib3 (the connection pool under requests) directly: a signed call is a hot path for
workers, and requests' per-call session merging costs more than everything else we do. The
endpoint methods grouped like the spec live in `locks.tuya.api` and call `TuyaClient.request`.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import random
import re
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NameResolutionError, NewConnectionError, ReadTimeoutError
from urllib3.util.connection import allowed_gai_family

from . import signing
from .errors import (
    TOKEN_CODES,
    TuyaConfigError,
    TuyaEndpointRefused,
    TuyaError,
    TuyaNetworkError,
    TuyaProtocolError,
    TuyaRateLimitedError,
    TuyaServerError,
    TuyaTimeoutError,
    TuyaTokenError,
    error_from_envelope,
)
from .regions import resolve_endpoint
from .tokens import MemoryTokenStore, TokenManager, TokenStore

logger = logging.getLogger("locks.tuya")

USER_AGENT = "doors-tuya-client/1.0"
UNKNOWN_SERVER_REFUSAL = "The endpoint refused the request"  # in place of the words of a server that is not Tuya's
_REFRESH_PATH = re.compile(r"^/v1\.0/token/.+")


def loggable_path(path: str) -> str:
    """The path as it may appear in logs and errors: the refresh call carries a secret in it."""
    return "/v1.0/token/***" if _REFRESH_PATH.match(path) else path


@dataclass(frozen=True)
class RawResponse:
    status: int
    body: bytes


class Transport(Protocol):
    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: tuple[float, float]
    ) -> RawResponse: ...


class _NotSent(TuyaNetworkError):
    """The request never left this machine: repeating it is harmless whatever the method.

    A network error itself, so a caller outside `TuyaClient.request`'s retries (a token grant) gets a TuyaError.
    """


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _reason(exc: Exception) -> str:
    """Why a connection failed, in a few words (urllib3's own text carries object reprs)."""
    if isinstance(exc, NameResolutionError):
        return "its host name is not known"
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror.lower()
    return type(exc).__name__


# IPv6 prefixes whose last 32 bits are an IPv4 address that a translator or the host itself reaches: NAT64's
# well-known prefix and its local-use one (RFC 6052, 8215; /96 layout) and the deprecated IPv4-compatible ::/96.
_IPV4_IN_LOW_BITS = tuple(ipaddress.IPv6Network(prefix) for prefix in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96"))


def _ipv4_inside(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: mapped, 6to4, Teredo (server and client), NAT64, compatible."""
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    if any(ip in prefix for prefix in _IPV4_IN_LOW_BITS):
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return []


def is_public_address(address: str) -> bool:
    """An address on the internet: not private, loopback, link-local, shared, reserved or unspecified, and not an
    IPv6 address that wraps such an IPv4 address (Python's is_global judges the IPv6 prefix, not what is inside)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 link-local address may carry its zone
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # the IPv4 address itself, whatever the ::ffff:0:0/96 prefix is called
    reached: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        reached += _ipv4_inside(ip)
    return all(each.is_global and not each.is_multicast for each in reached)


def private_address_refusal(host: str) -> str:
    """The one reason given for every host that is, or resolves to, a non-public address: the same words whatever
    the address and whether anything listens there, so the refusal tells nothing about a private network."""
    return f"{host} is a private or local address; this server does not call those"


class PrivateAddressError(NewConnectionError):
    """The host is (or resolves only to) private, loopback or link-local addresses, and those are not allowed."""

    def __init__(self, conn: Any, host: str) -> None:
        self.reason = private_address_refusal(host)
        super().__init__(conn, self.reason)


class _PublicOnly:
    """Resolves the host itself, drops every address that is not public, and connects to a checked address (not to
    the name, which a second lookup could point elsewhere). A host with no public address is refused before any
    connection is tried, so a closed port and an open one are refused alike. TLS still names the host (SNI and the
    certificate check read `host`, not the address connected to)."""

    host: str
    port: int
    _dns_host: str

    def _new_conn(self) -> Any:
        try:
            found = socket.getaddrinfo(self._dns_host, self.port, allowed_gai_family(), socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        public = [address for address in dict.fromkeys(str(info[4][0]) for info in found) if is_public_address(address)]
        if not public:
            raise PrivateAddressError(self, self.host)
        name = self._dns_host
        try:
            for address in public[:-1]:
                self._dns_host = address
                try:
                    return super()._new_conn()  # type: ignore[misc]
                except ConnectTimeoutError:  # NewConnectionError too, its subclass: try the next address
                    continue
            self._dns_host = public[-1]
            return super()._new_conn()  # type: ignore[misc]
        finally:
            self._dns_host = name


class _PublicHTTPConnection(_PublicOnly, HTTPConnection):
    pass


class _PublicHTTPSConnection(_PublicOnly, HTTPSConnection):
    pass


class _PublicHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


def public_only(pool: urllib3.PoolManager) -> urllib3.PoolManager:
    """Make a pool manager connect to public addresses only (see `_PublicOnly`)."""
    pool.pool_classes_by_scheme = {"http": _PublicHTTPConnectionPool, "https": _PublicHTTPSConnectionPool}
    return pool


class Urllib3Transport:
    """Keeps connections open between calls (one pool per host, thread-safe).

    Never follows a redirect; with `allow_private=False` it connects to public addresses only.
    """

    def __init__(self, pool_maxsize: int = 10, *, allow_private: bool = True) -> None:
        self._pool = urllib3.PoolManager(maxsize=pool_maxsize, block=False, retries=False)
        if not allow_private:
            public_only(self._pool)

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: tuple[float, float]
    ) -> RawResponse:
        try:
            response = self._pool.request(
                method,
                url,
                body=body,
                headers=dict(headers),
                timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]),
                redirect=False,
                retries=False,
            )
        except PrivateAddressError as exc:
            raise TuyaEndpointRefused(exc.reason) from None
        except NewConnectionError as exc:
            raise _NotSent(f"Could not connect to {_origin(url)} ({_reason(exc)})") from None
        except ConnectTimeoutError:  # after NewConnectionError, its subclass
            raise _NotSent(f"Could not connect to {_origin(url)} (no connection within {timeout[0]:g} s)") from None
        except ReadTimeoutError:
            raise TuyaTimeoutError(f"No answer within {timeout[1]:g} s") from None
        except HTTPError as exc:
            raise TuyaNetworkError(f"Connection failed: {type(exc).__name__}") from None
        return RawResponse(response.status, response.data)


class TuyaClient:
    """One Tuya cloud project: endpoint, access id and secret. Thread-safe; share one per project."""

    def __init__(
        self,
        endpoint: str,
        access_id: str,
        access_secret: str,
        *,
        token_store: TokenStore | None = None,
        transport: Transport | None = None,
        timeout: tuple[float, float] = (5.0, 15.0),
        max_retries: int = 3,
        backoff_seconds: float = 0.5,
        use_nonce: bool = True,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        server_text: bool = True,
        before_send: Callable[[str, str], None] | None = None,
        on_rate_limited: Callable[[str, str], None] | None = None,
    ) -> None:
        if not access_id or not access_secret:
            raise TuyaConfigError("The Tuya access id and access secret are both required.")
        self.base_url = resolve_endpoint(endpoint)
        # Whether an error's `msg` may be the server's own words; without, they are replaced (a server that is not
        # Tuya's could say anything, and people may read it on a page). The code is kept either way.
        self.server_text = server_text
        self.access_id = access_id
        self._secret = access_secret
        self._transport = transport or Urllib3Transport()
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        # The app's shared call budget (locks/cloud/budget.py): asked before every attempt (it may wait, or raise to
        # defer the call), and told when the cloud says "too frequent"; both get the method and path, since the
        # cloud limits each API on its own. The client itself knows nothing of the budget.
        self.before_send, self.on_rate_limited = before_send, on_rate_limited
        self.use_nonce = use_nonce
        self._clock = clock
        self._sleep = sleep
        self.tokens = TokenManager(
            client_id=access_id,
            secret=access_secret,
            endpoint=self.base_url,
            store=token_store or MemoryTokenStore(),
            grant=lambda: self._call("GET", "/v1.0/token", {"grant_type": 1}, None, access_token="")["result"],
            refresh=lambda token: self._call("GET", f"/v1.0/token/{token}", None, None, access_token="")["result"],
            clock=clock,
        )

    def __repr__(self) -> str:
        return f"TuyaClient(base_url={self.base_url!r}, access_id={self.access_id!r})"

    @property
    def access_secret(self) -> str:
        """Needed by the ticket crypto (docs/tuya-protocol.md, password tickets); never logged."""
        return self._secret

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
    ) -> dict[str, Any]:
        """Make one signed call and return the whole success envelope; raise a TuyaError otherwise.

        Retries only what is safe to repeat: a request that never left, a rate-limited one (the
        cloud refused it before doing anything), a refused token (once, after a refresh), and for
        idempotent calls (GET unless told otherwise) timeouts and server errors.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method == "GET"
        token_retried = False
        attempt = 0
        while True:
            token = None
            if self.before_send is not None:
                self.before_send(method, path)
            try:
                token = self.tokens.current()
                return self._call(method, path, query, body, access_token=token.access_token)
            except TuyaTokenError as exc:
                if token is None or token_retried or exc.code not in TOKEN_CODES:
                    raise
                token_retried = True
                self.tokens.replace(token.access_token)
                continue
            except (TuyaRateLimitedError, _NotSent, TuyaTimeoutError, TuyaNetworkError, TuyaServerError) as exc:
                if isinstance(exc, TuyaRateLimitedError) and self.on_rate_limited is not None:
                    self.on_rate_limited(method, path)
                repeatable = isinstance(exc, TuyaRateLimitedError | _NotSent) or idempotent
                if not repeatable or attempt >= self.max_retries:
                    if isinstance(exc, _NotSent):
                        raise TuyaNetworkError(exc.msg, path=loggable_path(path)) from None
                    raise
                delay = min(8.0, self.backoff_seconds * (2**attempt)) * (0.5 + random.random() / 2)
                logger.info(
                    "tuya %s %s: %s, retry %d in %.2fs",
                    method,
                    loggable_path(path),
                    type(exc).__name__,
                    attempt + 1,
                    delay,
                )
                attempt += 1
                self._sleep(delay)

    def get(self, path: str, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self.request("GET", path, query=query)

    def post(self, path: str, body: Any = None, *, idempotent: bool = False) -> dict[str, Any]:
        return self.request("POST", path, body=body, idempotent=idempotent)

    def put(self, path: str, body: Any = None, *, idempotent: bool = False) -> dict[str, Any]:
        return self.request("PUT", path, body=body, idempotent=idempotent)

    def delete(self, path: str, query: Mapping[str, Any] | None = None, *, idempotent: bool = False) -> dict[str, Any]:
        return self.request("DELETE", path, query=query, idempotent=idempotent)

    def _call(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None,
        body: Any,
        *,
        access_token: str,
    ) -> dict[str, Any]:
        """One attempt: sign, send, parse. The body is serialised once and those bytes are hashed."""
        payload = None
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        t = str(int(self._clock() * 1000))
        headers = signing.signed_headers(
            client_id=self.access_id,
            secret=self._secret,
            method=method,
            path=path,
            t=t,
            query=query,
            body=payload,
            access_token=access_token,
            nonce=os.urandom(16).hex() if self.use_nonce else "",  # a random nonce defeats replays
        )
        headers["User-Agent"] = USER_AGENT
        if payload is not None:
            headers["Content-Type"] = "application/json"
        url = self.base_url + quote(path, safe="/:@!$&'()*+,;=-_.~")
        if query:
            url += "?" + "&".join(
                f"{quote(str(k), safe='')}={quote(signing.query_value(v), safe='')}" for k, v in query.items()
            )
        started = time.perf_counter()
        raw = self._transport.send(method, url, headers, payload, self.timeout)
        envelope = self._parse(raw, path)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "tuya %s %s -> %s in %.1f ms",
                method,
                loggable_path(path),
                "ok" if envelope.get("success") else envelope.get("code"),
                (time.perf_counter() - started) * 1000,
            )
        if envelope.get("success") is True:
            return envelope
        error = error_from_envelope(envelope, path=loggable_path(path))
        if not self.server_text:  # its code is kept (it says what kind of refusal), its words and envelope not
            error = type(error)(UNKNOWN_SERVER_REFUSAL, code=error.code, tid=error.tid, path=error.path)
        raise error

    @staticmethod
    def _parse(raw: RawResponse, path: str) -> dict[str, Any]:
        try:
            envelope = json.loads(raw.body)
        except ValueError:
            envelope = None
        if isinstance(envelope, dict) and "success" in envelope:
            return envelope
        shown = loggable_path(path)
        if raw.status >= 500:
            raise TuyaServerError(f"The endpoint answered HTTP {raw.status} without a Tuya reply", path=shown)
        if raw.status != 200:
            raise TuyaProtocolError(f"The endpoint answered HTTP {raw.status}, not a Tuya reply", path=shown)
        raise TuyaProtocolError("The endpoint's reply is not a Tuya JSON envelope", path=shown)


__all__ = ["RawResponse", "Transport", "TuyaClient", "TuyaError", "Urllib3Transport", "loggable_path"]
