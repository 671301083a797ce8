"""A recording in-memory Transport for the API tests: it answers the token call and canned results.

Every other request is recorded as sent (method, URL, headers, body bytes) so a test can assert
exactly what went out: method, path, query and JSON body.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from locks.tuya import RawResponse, TuyaClient
from locks.tuya.api import LockApi

BASE_URL = "https://openapi.test.invalid"
ACCESS_ID = "testaccessid00000001"
# The vector of tests/data/lock-password.json: this secret decrypts TICKET_KEY to K = "a3f1c09e5b7d2468",
# and K encrypts the PIN "1234567" to WIFI_PIN_ENCRYPTED.
ACCESS_SECRET = "4OHBOnWOqaEC1mWXOpVL3yV50s0qGSRC"
TICKET_KEY = "566D6A9FC9B3E0C4D8D6DD45D61A30689173247C8D56147E406EBA159F6E577A"
PLAIN_K = b"a3f1c09e5b7d2468"
WIFI_PIN = "1234567"
WIFI_PIN_ENCRYPTED = "CB12ABC60425B9C17B21CDCA74B612E4"
TICKET_ID = "w2mA7CbZ"
ACCESS_TOKEN = "fake-access-token"


@dataclass(frozen=True)
class Sent:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None

    @property
    def path(self) -> str:
        return unquote(urlsplit(self.url).path)

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query, keep_blank_values=True))

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class FakeTransport:
    """Answers `/v1.0/token` itself; every other call gets the next queued reply (default: result true)."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.token_calls = 0
        self._replies: deque[dict[str, Any]] = deque()

    # --- scripting ---

    def reply(self, result: Any = True) -> None:
        self.reply_envelope({"success": True, "t": 1700000000000, "tid": "tid-1", "result": result})

    def reply_envelope(self, envelope: dict[str, Any]) -> None:
        self._replies.append(envelope)

    def reply_ticket(self, ticket_id: str = TICKET_ID, ticket_key: str = TICKET_KEY) -> None:
        self.reply({"ticket_id": ticket_id, "ticket_key": ticket_key, "expire_time": 300})

    def fail(self, code: int, msg: str) -> None:
        self.reply_envelope({"success": False, "code": code, "msg": msg, "t": 1700000000000, "tid": "tid-2"})

    # --- inspection ---

    def only(self) -> Sent:
        """The single request sent (tests that expect exactly one)."""
        assert len(self.sent) == 1, [f"{s.method} {s.path}" for s in self.sent]
        return self.sent[0]

    @property
    def nothing_sent(self) -> bool:
        return not self.sent and self.token_calls == 0

    # --- Transport ---

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: tuple[float, float]
    ) -> RawResponse:
        if urlsplit(url).path.startswith("/v1.0/token"):
            self.token_calls += 1
            token = {"access_token": ACCESS_TOKEN, "refresh_token": "fake-refresh", "expire_time": 7200, "uid": "u1"}
            return RawResponse(200, json.dumps({"success": True, "t": 1700000000000, "result": token}).encode())
        self.sent.append(Sent(method, url, dict(headers), body))
        envelope = self._replies.popleft() if self._replies else {"success": True, "t": 1700000000000, "result": True}
        return RawResponse(200, json.dumps(envelope).encode())


def make_client(transport: FakeTransport) -> TuyaClient:
    return TuyaClient(BASE_URL, ACCESS_ID, ACCESS_SECRET, transport=transport, sleep=lambda _seconds: None)


def make_api(transport: FakeTransport) -> LockApi:
    return LockApi(make_client(transport))
