"""The push consumer (locks.tuya.push) against docs/tuya-protocol.md (push), with vectors made outside Python.

The ECB vector and the password/sign digests were made with the openssl and md5sum command-line tools:

    KEY=${SECRET:8:16}; printf %s "$PLAIN" | openssl enc -aes-128-ecb -K $(printf %s "$KEY" | xxd -p) -base64 -A
    printf %s "$AID$(printf %s "$SECRET" | md5sum | cut -d' ' -f1)" | md5sum        # then [8:24]
    printf %s "data=$DATA||protocol=20||pv=2.0||t=1700000000123||$SECRET" | md5sum
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from Crypto.Cipher import AES
from websockets.sync.server import ServerConnection, serve

from locks.tuya import TuyaConfigError, TuyaNetworkError
from locks.tuya.push import (
    DeviceEvent,
    PushConsumer,
    StatusReport,
    TuyaPushAuthError,
    TuyaPushMessageError,
    consumer_url,
    expected_sign,
    parse_frame,
    push_endpoint,
    push_password,
)

AID = "testaccessid00000001"
SECRET = "TestSecret0123456789abcdefXYZ012"
PLAIN = (
    '{"bizCode":"online","bizData":{"time":1700000000000},"devId":"vdevo0001","productKey":"pk01",'
    '"ts":1700000000000,"uuid":"u1"}'
)
DATA = (
    "ZPCBYfYgTZIsGlzeAGXtSBbSICZw8koFxTE+KPXDXJual/QjTrvh9XZOaxNeh6ZnBVuOkjMaohE/oI6qmflKt8C0pID6lMqeUZPZ30eNW4G+"
    "EdP9YG7xkUTfilneWt89MO7RVj2iCe3idh3qpXAqN2DgpzIp0YaPJxjrtb946EI="
)
SIGN = "17ce17278e86aca6f64087bfc9334a51"


def make_frame(payload: dict[str, Any], message_id: str = "CAAQAw==", em: str = "aes_ecb") -> str:
    return json.dumps(
        {
            "messageId": message_id,
            "payload": base64.b64encode(json.dumps(payload).encode()).decode(),
            "properties": {"em": em},
            "publishTime": "2023-11-14 22:13:20.123",
        }
    )


VECTOR = {"data": DATA, "protocol": 20, "pv": "2.0", "sign": SIGN, "t": 1700000000123}


def test_password_and_sign_follow_the_vectors():
    assert push_password(AID, SECRET) == "e746711934112fab"
    assert expected_sign(VECTOR, SECRET) == SIGN
    assert expected_sign({**VECTOR, "empty": "", "none": None}, SECRET) == SIGN  # empty fields are left out


def test_parse_an_ecb_frame_into_a_device_event():
    message = parse_frame(make_frame(VECTOR), SECRET)
    assert isinstance(message, DeviceEvent)
    assert (message.message_id, message.dev_id, message.biz_code) == ("CAAQAw==", "vdevo0001", "online")
    assert message.biz_data == {"time": 1700000000000}
    assert (message.ts, message.t, message.uuid, message.product_key) == (1700000000000, 1700000000123, "u1", "pk01")
    assert parse_frame(make_frame({**VECTOR, "sign": SIGN.upper()}), SECRET).dev_id == "vdevo0001"  # any case


def test_parse_a_gcm_status_report():
    body = {"dataId": "d1", "devId": "vdev2", "productKey": "pk", "status": [{"code": "doorbell", "value": True}]}
    nonce = bytes(range(12))
    cipher = AES.new(SECRET[8:24].encode(), AES.MODE_GCM, nonce=nonce)  # pycryptodome, not the client's library
    ciphertext, tag = cipher.encrypt_and_digest(json.dumps(body).encode())
    payload: dict[str, Any] = {"data": base64.b64encode(nonce + ciphertext + tag).decode(), "protocol": 4, "pv": "2.0"}
    payload["t"] = 1700000000000
    payload["sign"] = expected_sign(payload, SECRET)
    message = parse_frame(make_frame(payload, em="aes_gcm"), SECRET)
    assert isinstance(message, StatusReport)
    assert message.codes == {"doorbell"}
    assert message.status[0].value is True
    assert message.dev_id == "vdev2"


def test_a_wrong_sign_is_rejected_without_decrypting():
    with pytest.raises(TuyaPushMessageError) as refused:
        parse_frame(make_frame({**VECTOR, "sign": "0" * 32}), SECRET)
    assert (refused.value.reason, refused.value.message_id) == ("sign", "CAAQAw==")
    with pytest.raises(TuyaPushMessageError) as changed:  # the data changed in transit: the sign covers it
        parse_frame(make_frame({**VECTOR, "t": 1700000000124}), SECRET)
    assert changed.value.reason == "sign"
    assert SECRET not in str(refused.value)
    assert SECRET not in repr(refused.value)


def test_data_that_does_not_decrypt_is_rejected():
    payload = {"data": base64.b64encode(b"x" * 16).decode(), "protocol": 20, "pv": "2.0", "t": 1}
    payload["sign"] = expected_sign(payload, SECRET)
    with pytest.raises(TuyaPushMessageError) as refused:
        parse_frame(make_frame(payload), SECRET)
    assert refused.value.reason == "decrypt"
    with pytest.raises(TuyaPushMessageError) as garbage:
        parse_frame("not json", SECRET)
    assert garbage.value.message_id is None


def test_endpoints_by_region_and_url():
    assert push_endpoint("eu") == "wss://mqe.tuyaeu.com:8285/"
    assert push_endpoint("eu-west") == "wss://mqe.tuyaeu.com:8285/"
    assert push_endpoint("us-east") == "wss://mqe.tuyaus.com:8285/"
    assert push_endpoint("https://openapi.tuyacn.com") == "wss://mqe.tuyacn.com:8285/"
    assert push_endpoint("IN") == "wss://mqe.tuyain.com:8285/"
    assert push_endpoint("ws://127.0.0.1:8285") == "ws://127.0.0.1:8285/"
    with pytest.raises(TuyaConfigError):
        push_endpoint("http://127.0.0.1:8765")
    assert consumer_url("wss://mqe.tuyaeu.com:8285/", AID) == (
        f"wss://mqe.tuyaeu.com:8285/ws/v2/consumer/persistent/{AID}/out/event/{AID}-sub"
        "?ackTimeoutMillis=3000&subscriptionType=Failover"
    )


# --- the consumer against a minimal server ---------------------------------------------------------------------


class FakeService:
    """Sends the given frames to whoever logs in correctly and records what comes back."""

    def __init__(self, frames: list[str]) -> None:
        self.frames = frames
        self.acks: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.server = serve(self.handle, "127.0.0.1", 0, process_request=self.check)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/"

    def check(self, connection: ServerConnection, request: Any) -> Any:
        self.headers.append({"username": request.headers.get("username"), "password": request.headers.get("password")})
        if request.headers.get("password") != push_password(AID, SECRET):
            return connection.respond(401, "Authentication failed\n")
        return None

    def handle(self, connection: ServerConnection) -> None:
        for frame in self.frames:
            connection.send(frame)
        for raw in connection:
            self.acks.append(json.loads(raw)["messageId"])


@pytest.fixture
def service() -> Iterator[Any]:
    started: list[FakeService] = []

    def start(frames: list[str]) -> FakeService:
        started.append(FakeService(frames))
        return started[-1]

    yield start
    for running in started:
        running.server.shutdown()


def consume_briefly(consumer: PushConsumer, seconds: float = 0.6) -> None:
    connection = consumer.connect_once()
    stop = threading.Event()
    threading.Timer(seconds, stop.set).start()
    consumer.consume(connection, stop)


def test_acks_after_the_handler_and_not_when_it_fails(service):
    good, bad_sign = make_frame(VECTOR, "good"), make_frame({**VECTOR, "sign": "0" * 32}, "forged")
    failing = make_frame(VECTOR, "fails")
    fake = service([good, bad_sign, failing])
    seen: list[str] = []

    def handler(message: Any) -> None:
        seen.append(message.message_id)
        if message.message_id == "fails":
            raise RuntimeError("database down")

    consumer = PushConsumer(fake.url, AID, SECRET, handler)
    consume_briefly(consumer)
    assert seen == ["good", "fails"]  # the forged one never reaches the handler
    assert fake.acks == ["good", "forged"]  # forged: acked so it is not sent forever; failed: not acked
    assert (consumer.stats.handled, consumer.stats.rejected, consumer.stats.failed) == (1, 1, 1)
    assert fake.headers[0] == {"username": AID, "password": push_password(AID, SECRET)}
    assert "/ws/v2/consumer/persistent/testaccessid00000001/out/event/" in consumer.url
    assert SECRET not in repr(consumer)


def test_wrong_credentials_give_a_clear_error(service):
    fake = service([])
    consumer = PushConsumer(fake.url, AID, "WrongSecret0123456789abcdefXYZ01", lambda m: None)
    with pytest.raises(TuyaPushAuthError) as refused:
        consumer.connect_once()
    assert "refused access id testaccessid00000001 (HTTP 401)" in str(refused.value)
    assert "WrongSecret" not in str(refused.value)


def test_unreachable_service_is_a_network_error_and_run_backs_off():
    consumer = PushConsumer("ws://127.0.0.1:9/", AID, SECRET, lambda m: None, open_timeout=1, backoff=0.05)
    with pytest.raises(TuyaNetworkError):
        consumer.connect_once()
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    consumer.run(stop)  # retries with growing, jittered waits until stopped
    assert isinstance(consumer.last_error, TuyaNetworkError)
    delays = [consumer._delay(n) for n in range(8)]
    assert all(0.025 <= d <= 60 for d in delays)
    assert max(consumer._delay(20) for _ in range(20)) <= consumer.max_backoff


def test_a_connected_consumer_says_it_is_alive_at_once_and_then_every_so_often(service):
    fake = service([])
    said: list[float] = []
    consumer = PushConsumer(fake.url, AID, SECRET, lambda m: None, on_alive=lambda: said.append(time.monotonic()),
                            alive_every=0.2)  # fmt: skip
    consume_briefly(consumer, seconds=1.1)
    assert 3 <= len(said) <= 7
    assert all(later - earlier >= 0.2 for earlier, later in zip(said, said[1:], strict=False))
