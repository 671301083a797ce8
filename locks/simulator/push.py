"""The message service (docs/tuya-protocol.md, push): Tuya's Pulsar topic as its WebSocket consumer endpoint serves it.

A client connects to `ws/v2/consumer/persistent/{access_id}/out/event/{access_id}-sub` with the headers
`username` (the access id) and `password` (md5hex(access_id + md5hex(secret))[8:24]); anything else is refused
with 401 before the WebSocket opens. Each message is a frame `{messageId, payload, properties: {em}, publishTime}`:
`payload` is base64 of `{data, protocol, pv, sign, t}`, `data` the message JSON encrypted with AES-128 under
secret[8:24] (ECB/PKCS7 by default, GCM as nonce || ciphertext || tag on request), `sign` the MD5 of the other
non-empty fields as `k=v` sorted by key, joined with `||`, then `||` + secret. The client acks a message by
sending `{"messageId": ...}`; what it has not acked is sent again when it reconnects (at-least-once), and after
`ackTimeoutMillis` on the same connection when the URL asks for it (Tuya's SDK asks for 3000).

What gets pushed comes from polling the simulator's own tables, with a cursor per project (SimPushCursor) made
when the project first subscribes: new enrollment messages (protocol 20 doorUnlockMethodStatus), online state
changes (protocol 20 online/offline) and the log entries locks upload (protocol 4 status reports of the DP codes
in docs/tuya-protocol.md). They become rows of SimPushMessage (the topic), deleted an hour after they are acked.

Its own crypto and signing, written from the protocol notes: nothing here comes from the app or its client.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connections, transaction
from django.db.models import F, Max, Q
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from locks.simulator import clock, dpcodes, transport
from locks.simulator.models import SimDevice, SimEnrollment, SimEvent, SimPushCursor, SimPushMessage

logger = logging.getLogger(__name__)

T = TypeVar("T")

PATH = re.compile(r"^/ws/v2/consumer/persistent/(?P<aid>[^/]+)/out/(?P<topic>[^/]+)/(?P<sub>[^/]+)$")
TOPIC = "event"  # the production topic; Tuya's test channel (event-test) is not simulated
PROTOCOL_STATUS, PROTOCOL_DEVICE = 4, 20
PUSHED_CODES = dpcodes.UNLOCK_CODES | dpcodes.ALARM_CODES
# The Zigbee residential DP ids (docs/tuya-protocol.md, data points: 1 fingerprint … 9 alarm); a status item carries
# its id beside its code.
REPORT_DP_IDS = {**dpcodes.DP_IDS, "unlock_temporary": 3, "unlock_dynamic": 4, "alarm_lock": 9}
KEEP_ACKED = timedelta(hours=1)
BATCH = 200


# --- crypto and sign (docs/tuya-protocol.md, push) ----------------------------------------------------------


def md5hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 - Tuya's scheme, not our choice


def password_for(access_id: str, secret: str) -> str:
    return md5hex(access_id + md5hex(secret))[8:24]


def encrypt(secret: str, plaintext: bytes, mode: str = "aes_ecb") -> str:
    """base64 of AES-128 under secret[8:24]: ECB with PKCS7, or GCM as nonce(12) || ciphertext || tag(16)."""
    key = secret[8:24].encode("utf-8")
    if mode == "aes_gcm":
        nonce = os.urandom(12)
        return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext, None)).decode()
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - Tuya's default mode
    padded = padder.update(plaintext) + padder.finalize()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def sign(fields: dict[str, Any], secret: str) -> str:
    """MD5 of the non-empty fields but `sign` as `k=v` sorted by key, joined with `||`, then `||` + secret."""
    pairs = sorted((k, v) for k, v in fields.items() if k != "sign" and v not in (None, ""))
    return md5hex("||".join(f"{k}={v}" for k, v in pairs) + "||" + secret)


def frame(message: SimPushMessage, secret: str, mode: str = "aes_ecb") -> str:
    plaintext = json.dumps(message.data, separators=(",", ":")).encode("utf-8")
    outer: dict[str, Any] = {
        "data": encrypt(secret, plaintext, mode),
        "protocol": message.protocol,
        "pv": "2.0",
        "t": int(message.created_at.timestamp() * 1000),
    }
    outer["sign"] = sign(outer, secret)
    if message.tamper == "sign":
        outer["sign"] = md5hex(outer["sign"])
    return json.dumps(
        {
            "messageId": message_id(message.pk),
            "payload": base64.b64encode(json.dumps(outer).encode()).decode(),
            "properties": {"em": mode},
            "publishTime": message.created_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            "redeliveryCount": max(0, message.deliveries - 1),
        }
    )


def message_id(pk: int) -> str:
    return base64.b64encode(f"sim:{pk}".encode()).decode()


def message_pk(raw: Any) -> int | None:
    try:
        text = base64.b64decode(str(raw), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    prefix, _, number = text.partition(":")
    return int(number) if prefix == "sim" and number.isdigit() else None


# --- the topic: what to push, read from the simulator's tables ---------------------------------------------


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _biz(device: SimDevice, code: str, data: dict[str, Any], now: datetime) -> tuple[int, dict[str, Any]]:
    return PROTOCOL_DEVICE, {
        "bizCode": code,
        "bizData": data,
        "devId": device.id,
        "productKey": device.product_id,
        "uuid": device.uuid,
        "ts": _ms(now),
    }


def _report_value(event: SimEvent) -> Any:
    if event.kind in ("doorbell", "hijack"):
        return True
    if event.kind.startswith("unlock_") and event.dp_value.isdigit():
        return int(event.dp_value)
    return event.dp_value


def _status(event: SimEvent) -> tuple[int, dict[str, Any]]:
    value = _report_value(event)
    item: dict[str, Any] = {"code": event.kind, "value": value, "t": _ms(event.created_at)}
    if event.kind in REPORT_DP_IDS:
        item[str(REPORT_DP_IDS[event.kind])] = value
    device = event.device
    return PROTOCOL_STATUS, {
        "dataId": f"{device.id}-{event.pk}",
        "devId": device.id,
        "productKey": device.product_id,
        "status": [item],
    }


def subscribe(access_id: str) -> SimPushCursor:
    """The project's subscription: made the first time, from the tables as they are now."""
    now = clock.now()
    with transaction.atomic():
        cursor = SimPushCursor.objects.select_for_update().filter(access_id=access_id).first()
        if cursor is not None:
            return cursor
        devices = SimDevice.objects.filter(access_id=access_id)
        active = SimEnrollment.objects.filter(device__access_id=access_id, state=SimEnrollment.State.ACTIVE)
        return SimPushCursor.objects.create(
            access_id=access_id,
            event_pk=SimEvent.objects.aggregate(m=Max("pk"))["m"] or 0,
            enrollment_pk=SimEnrollment.objects.aggregate(m=Max("pk"))["m"] or 0,
            enrollments={str(e.pk): len(e.messages) for e in active},
            devices=dict(devices.values_list("id", "online")),
            updated_at=now,
        )


@transaction.atomic
def produce(access_id: str) -> int:
    """Append to the project's topic whatever happened since the last look; returns how many messages."""
    cursor = SimPushCursor.objects.select_for_update().filter(access_id=access_id).first()
    if cursor is None:
        return 0
    now = clock.now()
    out: list[tuple[int, dict[str, Any]]] = []

    # Online changes first: a lock back online then uploads what it kept (the held events below).
    for device in SimDevice.objects.filter(access_id=access_id).only("id", "online", "product_id", "uuid"):
        # A lock added since the last look was paired online: pushed if it is offline already.
        known = cursor.devices.get(device.id, True)
        if known != device.online:
            out.append(_biz(device, "online" if device.online else "offline", {"time": _ms(now)}, now))
        cursor.devices[device.id] = device.online

    if cursor.held:
        uploaded = SimEvent.objects.filter(pk__in=cursor.held, uploaded=True).select_related("device")
        for event in uploaded.order_by("pk"):
            out.append(_status(event))
            cursor.held.remove(event.pk)
        existing = set(SimEvent.objects.filter(pk__in=cursor.held).values_list("pk", flat=True))
        cursor.held = [pk for pk in cursor.held if pk in existing]  # deleted with their lock

    new_events = SimEvent.objects.filter(pk__gt=cursor.event_pk, device__access_id=access_id).select_related("device")
    for event in new_events.order_by("pk")[:1000]:
        cursor.event_pk = event.pk
        if event.kind not in PUSHED_CODES:
            continue  # a single wrong code, say: not a log entry the lock reports
        if event.uploaded:
            out.append(_status(event))
        else:
            cursor.held.append(event.pk)

    tracked = [int(pk) for pk in cursor.enrollments]
    enrollments = SimEnrollment.objects.filter(device__access_id=access_id).filter(
        Q(pk__gt=cursor.enrollment_pk) | Q(pk__in=tracked)
    )
    for enrollment in enrollments.select_related("device").order_by("pk"):
        pushed = cursor.enrollments.pop(str(enrollment.pk), 0)
        for biz_data in enrollment.messages[pushed:]:
            out.append(_biz(enrollment.device, "doorUnlockMethodStatus", biz_data, now))
        if enrollment.state == SimEnrollment.State.ACTIVE:
            cursor.enrollments[str(enrollment.pk)] = len(enrollment.messages)
        cursor.enrollment_pk = max(cursor.enrollment_pk, enrollment.pk)

    SimPushMessage.objects.bulk_create(
        SimPushMessage(access_id=access_id, protocol=protocol, data=data, created_at=now) for protocol, data in out
    )
    cursor.updated_at = now
    cursor.save()
    return len(out)


def produce_all() -> int:
    return sum(produce(access_id) for access_id in SimPushCursor.objects.values_list("access_id", flat=True))


def unacked(access_id: str, limit: int = BATCH) -> list[SimPushMessage]:
    return list(SimPushMessage.objects.filter(access_id=access_id, acked_at=None).order_by("pk")[:limit])


def mark_sent(pks: list[int]) -> None:
    SimPushMessage.objects.filter(pk__in=pks).update(deliveries=F("deliveries") + 1)


def ack(access_id: str, pk: int) -> bool:
    return bool(SimPushMessage.objects.filter(access_id=access_id, pk=pk, acked_at=None).update(acked_at=clock.now()))


def purge_acked() -> int:
    return SimPushMessage.objects.filter(acked_at__lt=clock.now() - KEEP_ACKED).delete()[0]


def inject(access_id: str, protocol: int, data: dict[str, Any], *, tamper: str = "") -> SimPushMessage:
    """A message on the topic as is (tests: a wrong sign, an unknown device)."""
    return SimPushMessage.objects.create(
        access_id=access_id, protocol=protocol, data=data, created_at=clock.now(), tamper=tamper
    )


# --- the WebSocket endpoint -----------------------------------------------------------------------------------


class PushServer:
    """The endpoint in a daemon thread with its own asyncio loop; the database is used from one helper thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, poll_seconds: float = 0.2, mode: str = "aes_ecb"):
        self.host, self.port, self.poll_seconds, self.mode = host, port, poll_seconds, mode
        self._db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sim-push-db")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Future[None] | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._active: dict[str, ServerConnection] = {}  # Failover: one consumer per subscription gets messages

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/"

    def start(self) -> PushServer:
        self._thread = threading.Thread(target=self._run, name="sim-push", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._finish)
        if self._thread is not None:
            self._thread.join(10)
        self._db_thread.submit(connections.close_all).result(10)
        self._db_thread.shutdown()

    def _finish(self) -> None:
        if self._stopped is not None and not self._stopped.done():
            self._stopped.set_result(None)

    def serve_forever(self) -> None:
        """Run in this thread until interrupted (the standalone `--push-only` process)."""
        self._run()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # surfaced by start()
            self._error = error
            self._ready.set()
            if self._thread is None:
                raise

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = self._loop.create_future()
        async with serve(self._handle, self.host, self.port, process_request=self._check) as server:
            self.port = _bound_port(server, self.port)
            producer = asyncio.create_task(self._produce_forever())
            self._ready.set()
            await self._stopped
            producer.cancel()

    async def _db(self, func: Callable[..., T], *args: Any) -> T:
        assert self._loop is not None
        return await self._loop.run_in_executor(self._db_thread, partial(func, *args))

    async def _produce_forever(self) -> None:
        last_purge = 0.0
        while True:
            try:
                await self._db(produce_all)
                if time.monotonic() - last_purge > 60:
                    await self._db(purge_acked)
                    last_purge = time.monotonic()
            except Exception:
                logger.exception("push: reading the simulator's tables failed; trying again")
            await asyncio.sleep(self.poll_seconds)

    async def _check(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse before the WebSocket opens: an unknown topic (404) or wrong credentials (401)."""
        match = PATH.match(urlsplit(request.path).path)
        if match is None or match["topic"] != TOPIC or match["sub"] != f"{match['aid']}-sub":
            return _refuse(connection, HTTPStatus.NOT_FOUND, f"No such topic; use {PATH.pattern} with topic {TOPIC}.")
        access_id = match["aid"]
        secret = await self._db(transport.project_secret, access_id)
        username, password = request.headers.get("username", ""), request.headers.get("password", "")
        if (
            secret is None
            or username != access_id
            or not hmac.compare_digest(password, password_for(access_id, secret))
        ):
            logger.info("push: refused a consumer for %s (wrong access id or password)", access_id)
            return _refuse(connection, HTTPStatus.UNAUTHORIZED, "Authentication failed: wrong username or password.")
        await self._db(subscribe, access_id)  # before the handshake completes: the client sees all from here on
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        parts = urlsplit(connection.request.path)
        path = PATH.match(parts.path)
        assert path is not None  # checked in _check
        access_id = path["aid"]
        ack_timeout = _ack_timeout(parts.query)
        secret = await self._db(transport.project_secret, access_id)
        assert secret is not None
        receiver: asyncio.Task[None] | None = None
        sent: dict[int, float] = {}
        try:
            while self._active.get(access_id) not in (None, connection):  # Failover: wait for our turn
                if connection.state is not State.OPEN:
                    return
                await asyncio.sleep(self.poll_seconds)
            self._active[access_id] = connection
            receiver = asyncio.create_task(self._receive(connection, access_id, sent))
            while not receiver.done():
                await self._send_due(connection, access_id, secret, sent, ack_timeout)
                await asyncio.wait([receiver], timeout=self.poll_seconds)
        except ConnectionClosed:
            pass
        finally:
            if receiver is not None:
                receiver.cancel()
            if self._active.get(access_id) is connection:
                del self._active[access_id]

    async def _send_due(
        self, connection: ServerConnection, access_id: str, secret: str, sent: dict[int, float], ack_timeout: float
    ) -> None:
        rows = await self._db(unacked, access_id)
        now = time.monotonic()
        waiting = {row.pk for row in rows}
        for pk in [pk for pk in sent if pk not in waiting]:
            del sent[pk]  # acked (here or by an earlier connection)
        due = [r for r in rows if r.pk not in sent or (ack_timeout and now - sent[r.pk] >= ack_timeout)]
        if not due:
            return
        await self._db(mark_sent, [r.pk for r in due])
        for row in due:
            row.deliveries += 1
            await connection.send(frame(row, secret, self.mode))
            sent[row.pk] = now

    async def _receive(self, connection: ServerConnection, access_id: str, sent: dict[int, float]) -> None:
        async for raw in connection:
            try:
                pk = message_pk(json.loads(raw).get("messageId"))
            except (ValueError, AttributeError):
                pk = None
            if pk is None:
                logger.info("push: %s sent something that is not an ack", access_id)
                continue
            await self._db(ack, access_id, pk)
            sent.pop(pk, None)


def _refuse(connection: ServerConnection, status: HTTPStatus, text: str) -> Response:
    return connection.respond(status, text + "\n")


def _ack_timeout(query: str) -> float:
    raw = parse_qs(query).get("ackTimeoutMillis", ["0"])[0]
    return int(raw) / 1000 if raw.isdigit() else 0.0


def _bound_port(server: Server, wanted: int) -> int:
    for sock in server.sockets:
        return int(sock.getsockname()[1])
    return wanted


def start_push_server(host: str = "127.0.0.1", port: int = 0, **options: Any) -> PushServer:
    """The message service in a daemon thread (port 0 picks a free one: read `.port` / `.url`)."""
    return PushServer(host, port, **options).start()
