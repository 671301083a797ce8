"""A small Tuya-like HTTP server for the client's transport tests.

It verifies every request as docs/tuya-protocol.md (verifying a request) says, with its own signing code (not
the client's), issues tokens whose refresh works once, and answers scripted replies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Reply = dict[str, Any] | Callable[["Request"], Any]


class Request:
    def __init__(self, method: str, path: str, query: dict[str, str], body: bytes, headers: dict[str, str]) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.headers = headers

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class FakeTuyaCloud:
    def __init__(self, client_id: str, secret: str, *, token_ttl: int = 7200) -> None:
        self.client_id = client_id
        self.secret = secret
        self.token_ttl = token_ttl
        self.tokens: dict[str, float] = {}  # access token → expiry
        self.refresh_tokens: dict[str, str] = {}  # refresh token → its access token
        self.grants = 0
        self.refreshes = 0
        self.requests: list[Request] = []
        self.replies: dict[tuple[str, str], list[Reply]] = {}
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeTuyaCloud:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reply(self, method: str, path: str, *replies: Reply) -> None:
        """Queue replies for a route; the last one repeats."""
        self.replies[(method, path)] = list(replies)

    def expire_all_tokens(self) -> None:
        with self.lock:
            for token in self.tokens:
                self.tokens[token] = 0

    # --- the checklist -------------------------------------------------------------------------
    def _sign(self, message: str) -> str:
        return hmac.new(self.secret.encode(), message.encode(), hashlib.sha256).hexdigest().upper()

    def handle(self, request: Request) -> dict[str, Any]:
        h = request.headers
        if h.get("client_id") != self.client_id:
            return self.fail(1005, "clientId invalid")
        t = h.get("t", "")
        if not t.isdigit() or abs(int(t) - time.time() * 1000) > 300_000:
            return self.fail(1013, "request time is invalid")
        token_call = request.path.startswith("/v1.0/token")
        token = "" if token_call else h.get("access_token", "")
        signed_names = [n for n in h.get("signature-headers", "").split(":") if n]
        header_block = "".join(f"{n}:{h.get(n.lower(), '')}\n" for n in signed_names)
        url = request.path
        if request.query:
            url += "?" + "&".join(f"{k}={request.query[k]}" for k in sorted(request.query))
        to_sign = f"{request.method}\n{hashlib.sha256(request.body).hexdigest()}\n{header_block}\n{url}"
        if not hmac.compare_digest(
            self._sign(self.client_id + token + t + h.get("nonce", "") + to_sign), h.get("sign", "")
        ):
            return self.fail(1004, "sign invalid")
        if token_call:
            return self._token(request)
        with self.lock:
            if self.tokens.get(token, 0) < time.time():
                return self.fail(1010, "token invalid")
        replies = self.replies.get((request.method, request.path))
        if not replies:
            return self.fail(1108, "uri path invalid")
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        result = reply(request) if callable(reply) else reply
        return (
            result
            if isinstance(result, dict) and ("success" in result or "_http_status" in result)
            else self.ok(result)
        )

    def _token(self, request: Request) -> dict[str, Any]:
        with self.lock:
            if request.path == "/v1.0/token":
                if request.query.get("grant_type") != "1":
                    return self.fail(1003, "grant type invalid")
                self.grants += 1
            else:
                old_refresh = request.path.rsplit("/", 1)[-1]
                old_access = self.refresh_tokens.pop(old_refresh, None)
                if old_access is None:
                    return self.fail(1010, "token invalid")
                self.tokens.pop(old_access, None)  # a refresh invalidates the old pair
                self.refreshes += 1
            access, refresh = secrets.token_hex(16), secrets.token_hex(16)
            self.tokens[access] = time.time() + self.token_ttl
            self.refresh_tokens[refresh] = access
        return self.ok({"access_token": access, "refresh_token": refresh, "expire_time": self.token_ttl, "uid": "u1"})

    @staticmethod
    def ok(result: Any) -> dict[str, Any]:
        return {"success": True, "result": result, "t": int(time.time() * 1000), "tid": secrets.token_hex(16)}

    @staticmethod
    def fail(code: int, msg: str) -> dict[str, Any]:
        return {"success": False, "code": code, "msg": msg, "t": int(time.time() * 1000), "tid": secrets.token_hex(16)}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        cloud = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    self.command,
                    parts.path,
                    dict(parse_qsl(parts.query, keep_blank_values=True)),
                    body,
                    {k.lower(): v for k, v in self.headers.items()},
                )
                cloud.requests.append(request)
                raw = cloud.handle(request)
                status = 200
                if raw.get("_http_status"):
                    status, payload = raw["_http_status"], raw["_body"]
                else:
                    payload = json.dumps(raw).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Handler
