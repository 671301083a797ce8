"""A tiny stand-in for the Tuya cloud that serves prepared log pages, for what the simulator cannot do on purpose:
short (truncated) pages, records sent twice, records without a time or code, photos without a key, and 100,000
records fast enough to benchmark the sync (bench/events_bench.py).

It answers the token call and the v1.1 open-logs / alarm-logs endpoints in the spec's shapes; it checks no
signature (the simulator does that). Newest records first, like the cloud.
"""

from __future__ import annotations

import bisect
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class FakeCloud:
    def __init__(self) -> None:
        self.open_logs: list[dict[str, Any]] = []  # any order; sorted newest first when served
        self.alarm_logs: list[dict[str, Any]] = []
        self.short_pages: dict[int, int] = {}  # open-logs page number -> how many records it really returns
        self.calls: list[str] = []
        self._sorted: list[dict[str, Any]] | None = None
        self._times: list[int] = []

    def add_open_logs(self, logs: list[dict[str, Any]]) -> None:
        self.open_logs += logs
        self._sorted = None

    def _open_sorted(self) -> tuple[list[dict[str, Any]], list[int]]:
        if self._sorted is None:
            self._sorted = sorted(self.open_logs, key=lambda r: -int(r.get("update_time") or 0))
            self._times = [-int(r.get("update_time") or 0) for r in self._sorted]  # ascending, for bisect
        return self._sorted, self._times

    def answer(self, path: str, query: dict[str, str]) -> Any:
        self.calls.append(path)
        if path == "/v1.0/token":
            return {"access_token": "fake-token", "expire_time": 7200, "refresh_token": "fake-refresh", "uid": "u1"}
        page_no, page_size = int(query.get("page_no", 1)), int(query.get("page_size", 20))
        start = (page_no - 1) * page_size
        if path.endswith("/door-lock/open-logs"):
            rows, times = self._open_sorted()
            low, high = int(query.get("start_time", 0)), int(query.get("end_time", 0)) or 10**14
            # newest first: the slice of rows with low <= time <= high
            first, last = bisect.bisect_left(times, -high), bisect.bisect_right(times, -low)
            window = rows[first:last]
            chunk = window[start : start + page_size]
            if page_no in self.short_pages:
                chunk = chunk[: self.short_pages[page_no]]
            return {"total": len(window), "logs": chunk}
        if path.endswith("/door-lock/alarm-logs"):
            rows = sorted(self.alarm_logs, key=lambda r: -int(r.get("update_time") or 0))
            return {"total": len(rows), "records": rows[start : start + page_size]}
        return None


def _handler(cloud: FakeCloud) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stalls

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            result = cloud.answer(url.path, query)
            if result is None:
                envelope: dict[str, Any] = {"success": False, "code": 1108, "msg": "uri path invalid"}
            else:
                envelope = {"success": True, "result": result}
            envelope["t"] = int(time.time() * 1000)
            body = json.dumps(envelope).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve(cloud: FakeCloud) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(cloud))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
