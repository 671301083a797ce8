"""The simulated message service (locks.simulator.push), read with a plain WebSocket client and pycryptodome.

Decoding here follows docs/tuya-protocol.md (push) on its own (not the app's client), so the simulator is checked
against the documented protocol rather than against another implementation of the same reading.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from Crypto.Cipher import AES
from Crypto.Util.Padding import unpad
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from locks.simulator import conf, push
from locks.simulator.push import PushServer, start_push_server
from tests.simulator.conftest import set_online
from tests.simulator.helpers import world

pytestmark = pytest.mark.django_db(transaction=True)

AID, SECRET = conf.DEMO_ACCESS_ID, conf.DEMO_ACCESS_SECRET


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def topic_url(server: PushServer, aid: str = AID, topic: str = "event", query: str = "") -> str:
    return f"{server.url}ws/v2/consumer/persistent/{aid}/out/{topic}/{aid}-sub{query}"


def open_consumer(server: PushServer, aid: str = AID, secret: str = SECRET, **kwargs: Any) -> ClientConnection:
    headers = {"username": aid, "password": md5(aid + md5(secret))[8:24]}
    return connect(topic_url(server, aid, **kwargs), additional_headers=headers, open_timeout=5)


def read(connection: ClientConnection, secret: str = SECRET, timeout: float = 5) -> tuple[dict[str, Any], Any]:
    """(frame, decrypted message), checking the sign by the doc's rule."""
    frame = json.loads(connection.recv(timeout=timeout))
    payload = json.loads(base64.b64decode(frame["payload"]))
    pairs = sorted((k, v) for k, v in payload.items() if k != "sign" and v not in (None, ""))
    assert payload["sign"] == md5("||".join(f"{k}={v}" for k, v in pairs) + "||" + secret)
    raw = base64.b64decode(payload["data"])
    key = secret[8:24].encode()
    if frame["properties"]["em"] == "aes_gcm":
        body = AES.new(key, AES.MODE_GCM, nonce=raw[:12]).decrypt_and_verify(raw[12:-16], raw[-16:])
    else:
        body = unpad(AES.new(key, AES.MODE_ECB).decrypt(raw), 16)
    return frame, {"protocol": payload["protocol"], **json.loads(body)}


def ack(connection: ClientConnection, frame: dict[str, Any]) -> None:
    connection.send(json.dumps({"messageId": frame["messageId"]}))


def nothing_more(connection: ClientConnection, wait: float = 0.4) -> bool:
    try:
        connection.recv(timeout=wait)
    except TimeoutError:
        return True
    return False


@pytest.fixture
def server() -> Iterator[PushServer]:
    running = start_push_server(poll_seconds=0.05)
    yield running
    running.stop()


def test_wrong_credentials_are_refused_with_401(server, make_device):
    with pytest.raises(InvalidStatus) as refused:
        open_consumer(server, secret="not-the-secret-of-this-project!!")
    assert refused.value.response.status_code == 401
    assert b"Authentication failed" in refused.value.response.body
    with pytest.raises(InvalidStatus) as unknown:
        open_consumer(server, aid="nosuchproject0000001")
    assert unknown.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as wrong_topic:
        open_consumer(server, topic="event-test")
    assert wrong_topic.value.response.status_code == 404


def test_enrollment_steps_are_pushed_in_order(server, tuya, make_device):
    device = make_device("wifi")
    with open_consumer(server, query="?ackTimeoutMillis=3000&subscriptionType=Failover") as consumer:
        user = tuya.ok("POST", f"/v1.0/devices/{device.id}/user", body={"nick_name": "Bob", "sex": 2})["user_id"]
        body = {"user_id": user, "user_type": 2, "unlock_type": "fingerprint"}
        assert tuya.ok("PUT", f"/v1.0/devices/{device.id}/door-lock/actions/entry", body=body) is True
        for _ in range(4):
            world(device.id, "enroll-step")
        got = []
        for _ in range(5):
            frame, message = read(consumer)
            ack(consumer, frame)
            got.append(message)
        assert nothing_more(consumer)
    assert {m["protocol"] for m in got} == {20}
    assert {(m["bizCode"], m["devId"], m["productKey"], m["uuid"]) for m in got} == {
        ("doorUnlockMethodStatus", device.id, device.product_id, device.uuid)
    }
    assert [(m["bizData"]["period"], m["bizData"]["finish"]) for m in got] == [
        (4, False),
        (3, False),
        (2, False),
        (1, False),
        (0, True),
    ]
    assert got[0]["bizData"]["totalPeriod"] == 4


def test_doorbell_alarm_and_unlock_are_status_reports(server, make_device):
    device = make_device("wifi")
    with open_consumer(server) as consumer:
        world(device.id, "doorbell")
        world(device.id, "alarm", {"alarm": "pry"})
        world(device.id, "present", {"type": "key", "number": 2})
        reports = []
        for _ in range(3):
            frame, message = read(consumer)
            ack(consumer, frame)
            reports.append(message)
    assert {m["protocol"] for m in reports} == {4}
    assert [(m["status"][0]["code"], m["status"][0]["value"]) for m in reports] == [
        ("doorbell", True),
        ("alarm_lock", "pry"),
        ("unlock_key", 2),
    ]
    assert reports[1]["status"][0]["9"] == "pry"  # the DP id beside the code
    assert reports[0]["devId"] == device.id


def test_online_changes_and_what_an_offline_lock_kept(server, make_device):
    device = make_device("wifi")
    with open_consumer(server) as consumer:
        set_online(device.id, False)
        frame, offline = read(consumer)
        ack(consumer, frame)
        assert (offline["protocol"], offline["bizCode"]) == (20, "offline")
        world(device.id, "present", {"type": "key", "number": 1})  # kept in the lock's memory
        assert nothing_more(consumer)
        set_online(device.id, True)
        messages = []
        for _ in range(2):
            frame, message = read(consumer)
            ack(consumer, frame)
            messages.append(message)
    assert [m.get("bizCode") or m["status"][0]["code"] for m in messages] == ["online", "unlock_key"]


def test_unacked_messages_come_again_after_reconnect_and_acked_ones_do_not(server, make_device):
    device = make_device("wifi")
    with open_consumer(server) as first:
        world(device.id, "doorbell")
        world(device.id, "alarm", {"alarm": "shock"})
        frame_a, _ = read(first)
        ack(first, frame_a)
        frame_b, _ = read(first)  # not acked: the consumer "crashes"
        assert frame_b["redeliveryCount"] == 0
    with open_consumer(server) as second:
        again, message = read(second)
        assert again["messageId"] == frame_b["messageId"]
        assert again["redeliveryCount"] == 1
        assert message["status"][0]["value"] == "shock"
        ack(second, again)
        assert nothing_more(second)
    with open_consumer(server) as third:
        assert nothing_more(third)


def test_ack_timeout_redelivers_on_the_same_connection(server, make_device):
    device = make_device("wifi")
    with open_consumer(server, query="?ackTimeoutMillis=300") as consumer:
        world(device.id, "doorbell")
        first, _ = read(consumer)
        again, _ = read(consumer, timeout=2)
        assert again["messageId"] == first["messageId"]
        ack(consumer, again)
        assert nothing_more(consumer)


def test_failover_only_one_consumer_receives(server, make_device):
    device = make_device("wifi")
    with open_consumer(server) as active, open_consumer(server) as standby:
        world(device.id, "doorbell")
        frame, _ = read(active)
        assert nothing_more(standby)
        world(device.id, "alarm", {"alarm": "pry"})
        active.close()
        # The standby takes over and gets what the first did not ack.
        frames = [read(standby)[0] for _ in range(2)]
        assert frame["messageId"] in {f["messageId"] for f in frames}


def test_gcm_mode_and_a_tampered_sign(make_device):
    server = start_push_server(poll_seconds=0.05, mode="aes_gcm")
    try:
        device = make_device("wifi")
        with open_consumer(server) as consumer:
            world(device.id, "doorbell")
            frame, message = read(consumer)
            assert frame["properties"]["em"] == "aes_gcm"
            assert message["status"][0]["code"] == "doorbell"
            ack(consumer, frame)
            push.inject(AID, 20, {"bizCode": "online", "devId": device.id, "bizData": {}}, tamper="sign")
            bad = json.loads(consumer.recv(timeout=5))
            with pytest.raises(AssertionError):
                read_payload_sign(bad)
    finally:
        server.stop()


def read_payload_sign(frame: dict[str, Any]) -> None:
    payload = json.loads(base64.b64decode(frame["payload"]))
    pairs = sorted((k, v) for k, v in payload.items() if k != "sign" and v not in (None, ""))
    assert payload["sign"] == md5("||".join(f"{k}={v}" for k, v in pairs) + "||" + SECRET)


def test_other_projects_see_nothing_of_ours(server, make_device):
    from locks.simulator.models import SimProject

    SimProject.objects.create(access_id="otherproject00000001", secret="OtherSecret0123456789abcdefXYZ00")
    mine = make_device("wifi")
    theirs = make_device("wifi", access_id="otherproject00000001")
    with open_consumer(server, aid="otherproject00000001", secret="OtherSecret0123456789abcdefXYZ00") as other:
        world(mine.id, "doorbell")
        world(theirs.id, "doorbell")
        frame, message = read(other, secret="OtherSecret0123456789abcdefXYZ00")
        assert message["devId"] == theirs.id
        ack(other, frame)
        assert nothing_more(other)
