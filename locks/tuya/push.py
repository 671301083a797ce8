"""Tuya's message service (docs/tuya-protocol.md, push): a WebSocket consumer of a cloud project's Pulsar topic.

    consumer = PushConsumer(push_endpoint("eu"), access_id, access_secret, handler=print)
    consumer.run(stop_event)   # connects, hands each message to `handler`, acks it, reconnects when dropped

Each frame is `{messageId, payload, properties: {em}, publishTime}`; `payload` is base64 of `{data, protocol, pv,
sign, t}` and `data` the message, AES-128 under access_secret[8:24] (`em` = aes_ecb with PKCS7, or aes_gcm as
nonce(12) || ciphertext || tag(16)). A message whose sign does not match, or that does not decrypt, is rejected:
logged (never with a secret) and acked, so a poisoned message is not delivered forever; the handler never sees it.
A message is acked only after the handler returned, so a crash means a redelivery, never a loss (at-least-once:
handlers must be idempotent).

Sources: tuya/tuya-connector-python openpulsar.py (URL, auth headers, ack), tuya/tuya-pulsar-sdk-java (MessageVO,
em property, GCM layout), developer.tuya.com/cn/docs/iot/sign?id=Kavqdhsoc03yr (sign). Plain Python, no Django.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from .crypto import aes_ecb
from .errors import TuyaAuthError, TuyaConfigError, TuyaError, TuyaNetworkError
from .regions import REGIONS

logger = logging.getLogger(__name__)

# docs/tuya-protocol.md (push): wss://mqe.tuya{cn,us,eu,in}.com:8285/; the Azure data centres are assumed to share
# their continent's service.
PUSH_HOSTS = {"cn": "cn", "us": "us", "us-east": "us", "eu": "eu", "eu-west": "eu", "in": "in"}
PROTOCOL_STATUS, PROTOCOL_DEVICE = 4, 20


class TuyaPushError(TuyaError):
    """The message service refused us or sent something we cannot use."""

    hint = "Check TUYA_PUSH_URL and the cloud project's message service subscription."


class TuyaPushAuthError(TuyaPushError, TuyaAuthError):
    """The message service refused the access id / password (HTTP 401)."""

    hint = "Check the access id and access secret of the cloud project."


class TuyaPushMessageError(TuyaPushError):
    """One message could not be trusted or read: wrong sign, not decryptable, not JSON."""

    def __init__(self, msg: str, *, message_id: str | None = None, reason: str = "format") -> None:
        super().__init__(msg)
        self.message_id = message_id
        self.reason = reason  # sign | decrypt | format


# --- messages -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusItem:
    code: str
    value: Any
    t: int | None = None
    dp_id: str | None = None  # the numeric DP id that some locks put beside the code


@dataclass(frozen=True)
class StatusReport:
    """Protocol 4: data points the device reported (unlock records, alarms, the doorbell, battery…)."""

    message_id: str
    dev_id: str
    product_key: str
    data_id: str
    status: tuple[StatusItem, ...]
    t: int
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(item.code for item in self.status)


@dataclass(frozen=True)
class DeviceEvent:
    """Protocol 20: online, offline, doorUnlockMethodStatus, nameUpdate, delete…"""

    message_id: str
    dev_id: str
    product_key: str
    biz_code: str
    biz_data: Mapping[str, Any]
    ts: int | None
    uuid: str
    t: int
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)


@dataclass(frozen=True)
class OtherMessage:
    """A protocol this client does not model (IoT Core 1000/1001…): kept raw."""

    message_id: str
    protocol: int
    dev_id: str
    t: int
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)


PushMessage = StatusReport | DeviceEvent | OtherMessage


# --- endpoints and credentials --------------------------------------------------------------------------------


def push_endpoint(endpoint: str) -> str:
    """The message service for a region name, the region's Open API URL, or a ws(s):// URL (used as is)."""
    value = (endpoint or "").strip()
    if urlsplit(value).scheme in ("ws", "wss"):
        return value if value.endswith("/") else value + "/"
    region = value.lower()
    if region not in PUSH_HOSTS:
        region = next((name for name, url in REGIONS.items() if url == value.rstrip("/")), "")
    if region in PUSH_HOSTS:
        return f"wss://mqe.tuya{PUSH_HOSTS[region]}.com:8285/"
    raise TuyaConfigError(f"No Tuya message service is known for endpoint {value!r}: give its ws(s):// URL instead.")


def consumer_url(base: str, access_id: str, *, topic: str = "event", ack_timeout_ms: int = 3000) -> str:
    """The consumer URL of the project's subscription (openpulsar.py); `base` may already be a full one."""
    if "/ws/v2/consumer/" in base:
        return base
    path = f"ws/v2/consumer/persistent/{access_id}/out/{topic}/{access_id}-sub"
    return f"{base.rstrip('/')}/{path}?ackTimeoutMillis={ack_timeout_ms}&subscriptionType=Failover"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 - Tuya's scheme


def push_password(access_id: str, access_secret: str) -> str:
    """md5hex(access_id + md5hex(secret))[8:24], the `password` header."""
    return _md5(access_id + _md5(access_secret))[8:24]


# --- decoding -------------------------------------------------------------------------------------------------


def expected_sign(payload: Mapping[str, Any], access_secret: str) -> str:
    """MD5 of every non-empty field but `sign`, as `key=value` sorted by key, joined with `||`, then `||` + secret."""
    pairs = sorted((key, value) for key, value in payload.items() if key != "sign" and value not in (None, ""))
    return _md5("||".join(f"{key}={value}" for key, value in pairs) + "||" + access_secret)


def decrypt_data(data: str, access_secret: str, mode: str = "aes_ecb") -> bytes:
    """`data` of a payload: base64, AES-128 under access_secret[8:24], ECB/PKCS7 or GCM (nonce || ct || tag)."""
    key = access_secret[8:24].encode("utf-8")
    raw = base64.b64decode(data, validate=True)
    if mode == "aes_gcm":
        return AESGCM(key).decrypt(raw[:12], raw[12:], None)
    if mode != "aes_ecb":
        raise ValueError(f"unknown encryption mode {mode!r}")
    return aes_ecb(key, raw, encrypt=False)  # Tuya's default mode


def parse_frame(frame: str | bytes, access_secret: str) -> PushMessage:
    """One WebSocket frame → a typed message; TuyaPushMessageError when it cannot be trusted or read."""
    try:
        outer = json.loads(frame)
        message_id = str(outer["messageId"])
    except (ValueError, TypeError, KeyError) as exc:
        raise TuyaPushMessageError("The frame is not a Pulsar message.") from exc
    try:
        payload = json.loads(base64.b64decode(outer["payload"], validate=True))
        mode = str((outer.get("properties") or {}).get("em") or "aes_ecb")
        data, protocol, t = str(payload["data"]), int(payload["protocol"]), int(payload.get("t") or 0)
        received_sign = str(payload.get("sign") or "")
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise TuyaPushMessageError("The payload is not a Tuya message.", message_id=message_id) from exc
    if not hmac.compare_digest(received_sign.lower(), expected_sign(payload, access_secret)):
        raise TuyaPushMessageError("The message's sign does not match.", message_id=message_id, reason="sign")
    try:
        body = json.loads(decrypt_data(data, access_secret, mode))
    except (ValueError, InvalidTag, binascii.Error) as exc:
        raise TuyaPushMessageError("The message does not decrypt.", message_id=message_id, reason="decrypt") from exc
    if not isinstance(body, dict):
        raise TuyaPushMessageError("The message is not a JSON object.", message_id=message_id)
    return _typed(message_id, protocol, t, body)


def _typed(message_id: str, protocol: int, t: int, body: dict[str, Any]) -> PushMessage:
    dev_id = str(body.get("devId") or "")
    if protocol == PROTOCOL_STATUS and isinstance(body.get("status"), list):
        items = tuple(
            StatusItem(
                code=str(item.get("code", "")),
                value=item.get("value"),
                t=item.get("t") if isinstance(item.get("t"), int) else None,
                dp_id=next((key for key in item if key.isdigit()), None),
            )
            for item in body["status"]
            if isinstance(item, dict)
        )
        data_id = str(body.get("dataId") or "")
        return StatusReport(message_id, dev_id, str(body.get("productKey") or ""), data_id, items, t, body)
    if protocol == PROTOCOL_DEVICE and body.get("bizCode"):
        raw_biz_data = body.get("bizData")
        biz_data: Mapping[str, Any] = raw_biz_data if isinstance(raw_biz_data, dict) else {}
        ts = body.get("ts") if isinstance(body.get("ts"), int) else None
        return DeviceEvent(
            message_id,
            dev_id,
            str(body.get("productKey") or ""),
            str(body["bizCode"]),
            biz_data,
            ts,
            str(body.get("uuid") or ""),
            t,
            body,
        )
    return OtherMessage(message_id, protocol, dev_id, t, body)


# --- the consumer ---------------------------------------------------------------------------------------------


@dataclass
class PushStats:
    connects: int = 0
    received: int = 0
    handled: int = 0
    rejected: int = 0
    failed: int = 0


class PushConsumer:
    """Receives a project's messages, hands each to `handler` and acks it once the handler returned.

    `run(stop)` keeps a connection open until `stop` is set, reconnecting after a drop with jittered exponential
    back-off (`backoff` to `max_backoff` seconds; a refused login waits `max_backoff`). `connect_once` opens one
    connection and raises TuyaPushAuthError / TuyaNetworkError / TuyaPushError when it cannot. While a connection is
    open, `on_alive` (if given) is called at once and then every `alive_every` seconds: the app records that this
    project's messages arrive, so its quiet locks need polling only as a safety net.
    """

    def __init__(
        self,
        url: str,
        access_id: str,
        access_secret: str,
        handler: Callable[[PushMessage], object],
        *,
        open_timeout: float = 10.0,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        ack_timeout_ms: int = 3000,
        on_alive: Callable[[], None] | None = None,
        alive_every: float = 30.0,
    ) -> None:
        if not access_id or not access_secret:
            raise TuyaConfigError("The message service needs the project's access id and access secret.")
        self.url = consumer_url(url, access_id, ack_timeout_ms=ack_timeout_ms)
        self.access_id = access_id
        self._secret = access_secret
        self.handler = handler
        self.open_timeout = open_timeout
        self.backoff, self.max_backoff = backoff, max_backoff
        self.stats = PushStats()
        self.last_error: TuyaError | None = None
        self._connection: ClientConnection | None = None
        self.on_alive, self.alive_every = on_alive, alive_every

    def __repr__(self) -> str:
        return f"PushConsumer({self.url!r})"  # never the secret

    def connect_once(self) -> ClientConnection:
        headers = {"username": self.access_id, "password": push_password(self.access_id, self._secret)}
        try:
            connection = connect(self.url, additional_headers=headers, open_timeout=self.open_timeout, legacy=True)
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise TuyaPushAuthError(
                    f"The message service refused access id {self.access_id} (HTTP {status}): wrong access id or "
                    "secret, or the project has no message service."
                ) from None
            raise TuyaPushError(f"The message service answered HTTP {status} at {self.url}.") from None
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise TuyaNetworkError(f"Cannot reach the message service at {self.url}: {type(exc).__name__}") from None
        self.stats.connects += 1
        return connection

    def consume(self, connection: ClientConnection, stop: threading.Event) -> None:
        """Handle frames until the connection closes or `stop` is set."""
        self._connection = connection
        said_alive = -self.alive_every
        try:
            while not stop.is_set():
                if self.on_alive is not None and time.monotonic() - said_alive >= self.alive_every:
                    said_alive = time.monotonic()
                    self.on_alive()
                try:
                    frame = connection.recv(timeout=0.5)
                except TimeoutError:
                    continue
                self._on_frame(connection, frame)
        except ConnectionClosed:
            pass
        finally:
            self._connection = None
            connection.close()

    def _on_frame(self, connection: ClientConnection, frame: str | bytes) -> None:
        self.stats.received += 1
        try:
            message = parse_frame(frame, self._secret)
        except TuyaPushMessageError as error:
            self.stats.rejected += 1
            logger.warning("push %s: message %s rejected (%s)", self.access_id, error.message_id, error.reason)
            if error.message_id is not None:
                self._ack(connection, error.message_id)  # never trusted: do not have it sent again and again
            return
        try:
            self.handler(message)
        except Exception:
            self.stats.failed += 1
            logger.exception(
                "push %s: handling message %s failed; it will come again", self.access_id, message.message_id
            )
            return
        self.stats.handled += 1
        self._ack(connection, message.message_id)

    def _ack(self, connection: ClientConnection, message_id: str) -> None:
        connection.send(json.dumps({"messageId": message_id}))

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set, reconnecting with jittered back-off."""
        failures = 0
        while not stop.is_set():
            started = time.monotonic()
            try:
                connection = self.connect_once()
                logger.info("push %s: connected to %s", self.access_id, self.url)
                self.last_error = None
                self.consume(connection, stop)
                if time.monotonic() - started > 30:
                    failures = 0  # it was a working connection: come back quickly
                wait = self._delay(failures)
                failures += 1
            except TuyaPushAuthError as error:
                self.last_error = error
                logger.error("push %s: %s", self.access_id, error)
                wait, failures = self.max_backoff, failures + 1
            except TuyaError as error:
                self.last_error = error
                logger.warning("push %s: %s", self.access_id, error)
                wait = self._delay(failures)
                failures += 1
            if not stop.is_set():
                logger.info("push %s: reconnecting in %.1f s", self.access_id, wait)
                stop.wait(wait)

    def _delay(self, failures: int) -> float:
        growth: int = 2**failures  # an int power of an int (typeshed says Any: negative powers are floats)
        ceiling = min(self.max_backoff, self.backoff * growth)
        return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret

    def close(self) -> None:
        """Drop the current connection (run() then reconnects, unless stopped)."""
        connection = self._connection
        if connection is not None:
            connection.close()
