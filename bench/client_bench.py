"""Benchmark: our Tuya client (locks.tuya.TuyaClient) against Tuya's official SDK (tuya_connector).

Run from the repo root:  .venv/bin/python bench/client_bench.py [--calls N] [--profile]

A fast Tuya-like HTTP/1.1 keep-alive server runs in a separate process on 127.0.0.1 (random port) and
verifies the signature of every request (docs/tuya-protocol.md, signing) with its own code. Both clients make N
sequential signed calls (2/3 GET with a query, 1/3 POST with a JSON body) after a warm-up, in 3 rounds;
within a round the clients take turns in chunks of 300 calls (alternating who goes first) so both see
the same machine load. The median and best rounds are reported. Then each client's own per-call
overhead is timed without any network: an in-memory transport answers with a canned envelope.
Exits non-zero if the server saw any bad signature or unknown token from either client.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import hmac
import io
import json
import multiprocessing as mp
import os
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from urllib.parse import parse_qsl

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ACCESS_ID = "bench4id0123456789ab"
ACCESS_SECRET = "bench0secret0123456789abcdefghij"
DEVICE_ID = "6c1f0a2b3c4d5e6f7a8b9c"
GET_PATH = f"/v1.0/devices/{DEVICE_ID}/door-lock/temp-passwords"
GET_QUERY = {"valid": "true"}
POST_PATH = f"/v1.0/devices/{DEVICE_ID}/door-lock/temp-password"
POST_BODY = {
    "name": "Guest 4711",
    "password": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "password_type": "ticket",
    "ticket_id": "Ti7b3f0c2e9a",
    "effective_time": 1735689600,
    "invalid_time": 1735948800,
    "time_zone": "+01:00",
}
TEMP_PASSWORDS = [
    {
        "id": 1000 + i,
        "name": f"Guest {i}",
        "effective_time": 1735689600,
        "invalid_time": 1735948800,
        "phase": 2,
        "phone": "",
        "sn": i,
        "time_zone": "+01:00",
    }
    for i in range(3)
]
BAD, UNKNOWN_TOKEN, OK = 0, 1, 2  # indexes into the shared counters

GOAL_RATIO = 1.5
GOAL_OVERHEAD_MS = 0.2


# ---------------------------------------------------------------------------------------------------------
# The server (child process)


def expected_sign(method: str, target: str, headers: dict[str, str], body: bytes, secret: bytes) -> str:
    """Our own signature check, independent of locks.tuya.signing."""
    path, _, raw_query = target.partition("?")
    url = path
    if raw_query:
        pairs = sorted(parse_qsl(raw_query, keep_blank_values=True), key=lambda kv: kv[0])
        url = path + "?" + "&".join(f"{k}={v}" for k, v in pairs)
    block = "".join(f"{n}:{headers.get(n.lower(), '')}\n" for n in headers.get("signature-headers", "").split(":") if n)
    string_to_sign = f"{method}\n{hashlib.sha256(body).hexdigest()}\n{block}\n{url}"
    token = "" if path.startswith("/v1.0/token") else headers.get("access_token", "")
    message = headers.get("client_id", "") + token + headers.get("t", "") + headers.get("nonce", "") + string_to_sign
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest().upper()


class TuyaLikeProtocol(asyncio.Protocol):
    def __init__(self, counters, tokens: set[str]) -> None:
        self.counters = counters
        self.tokens = tokens
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if "chunked" in headers.get("transfer-encoding", ""):
                self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                self.transport.close()
                return
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            method, target, _ = head[0].split(" ", 2)
            self.transport.write(self.answer(method, target, headers, body))
            if headers.get("connection", "").lower() == "close":
                self.transport.close()
                return

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> bytes:
        t = int(time.time() * 1000)
        tid = os.urandom(16).hex()
        path = target.partition("?")[0]
        sign = headers.get("sign", "")
        good = headers.get("client_id") == ACCESS_ID and hmac.compare_digest(
            expected_sign(method, target, headers, body, ACCESS_SECRET.encode()), sign
        )
        if not good:
            self.counters[BAD] += 1
            envelope = {"success": False, "code": 1004, "msg": "sign invalid", "t": t, "tid": tid}
        elif path.startswith("/v1.0/token"):
            access_token = os.urandom(16).hex()
            self.tokens.add(access_token)
            self.counters[OK] += 1
            result = {
                "access_token": access_token,
                "refresh_token": os.urandom(16).hex(),
                "expire_time": 7200,
                "uid": "bay1700000000000abcd",
            }
            envelope = {"success": True, "t": t, "tid": tid, "result": result}
        elif headers.get("access_token") not in self.tokens:
            self.counters[UNKNOWN_TOKEN] += 1
            envelope = {"success": False, "code": 1010, "msg": "token invalid", "t": t, "tid": tid}
        else:
            self.counters[OK] += 1
            result = TEMP_PASSWORDS if method == "GET" else {"id": 4711}
            envelope = {"success": True, "t": t, "tid": tid, "result": result}
        payload = json.dumps(envelope, separators=(",", ":")).encode()
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(payload)
        ) + payload


def serve(counters, port_pipe) -> None:
    async def main() -> None:
        tokens: set[str] = set()
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: TuyaLikeProtocol(counters, tokens), "127.0.0.1", 0)
        port_pipe.send(server.sockets[0].getsockname()[1])
        port_pipe.close()
        await server.serve_forever()

    asyncio.run(main())


# ---------------------------------------------------------------------------------------------------------
# The clients


def workload(n: int) -> list[bool]:
    """True = GET (2 of every 3 calls), False = POST."""
    return [i % 3 != 2 for i in range(n)]


def run_ours(client, calls: list[bool]) -> float:
    get, post = client.get, client.post
    started = time.perf_counter()
    for is_get in calls:
        if is_get:
            get(GET_PATH, GET_QUERY)
        else:
            post(POST_PATH, POST_BODY)
    return time.perf_counter() - started


def run_theirs(api, calls: list[bool]) -> float:
    get, post = api.get, api.post
    failures = 0
    started = time.perf_counter()
    for is_get in calls:
        envelope = get(GET_PATH, GET_QUERY) if is_get else post(POST_PATH, POST_BODY)
        if not envelope or envelope.get("success") is not True:
            failures += 1
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"official SDK: {failures} failed calls: {envelope}")
    return elapsed


def make_ours(base_url: str, **kwargs):
    from locks.tuya import TuyaClient

    return TuyaClient(base_url, ACCESS_ID, ACCESS_SECRET, **kwargs)


def make_theirs(base_url: str):
    from tuya_connector import TuyaOpenAPI

    api = TuyaOpenAPI(base_url, ACCESS_ID, ACCESS_SECRET)
    response = api.connect()
    if not response.get("success"):
        raise SystemExit(f"official SDK could not connect: {response}")
    return api


# ---------------------------------------------------------------------------------------------------------
# Overhead without the network


def canned_body(method: str) -> bytes:
    result = TEMP_PASSWORDS if method == "GET" else {"id": 4711}
    envelope = {"success": True, "t": int(time.time() * 1000), "tid": "0" * 32, "result": result}
    return json.dumps(envelope, separators=(",", ":")).encode()


TOKEN_BODY = json.dumps(
    {
        "success": True,
        "t": int(time.time() * 1000),
        "tid": "0" * 32,
        "result": {"access_token": "a" * 32, "refresh_token": "r" * 32, "expire_time": 7200, "uid": "u"},
    }
).encode()


class CannedTransport:
    """In-memory Transport for TuyaClient: no sockets, a pre-built reply per method."""

    def __init__(self) -> None:
        from locks.tuya.client import RawResponse

        self.replies = {m: RawResponse(200, canned_body(m)) for m in ("GET", "POST")}
        self.token_reply = RawResponse(200, TOKEN_BODY)

    def send(self, method, url, headers, body, timeout):
        return self.token_reply if "/v1.0/token" in url else self.replies[method]


def canned_requests_adapter():
    """A requests adapter returning a canned reply: the SDK's own work plus requests' session layer, no socket."""
    import requests
    from requests.adapters import BaseAdapter

    bodies = {"GET": canned_body("GET"), "POST": canned_body("POST")}

    class CannedAdapter(BaseAdapter):
        def send(self, request, **kwargs):
            response = requests.Response()
            response.status_code = 200
            response._content = TOKEN_BODY if "/v1.0/token" in request.url else bodies[request.method]
            response.headers["Content-Type"] = "application/json"
            response.encoding = "utf-8"
            response.url = request.url
            response.request = request
            return response

        def close(self):
            pass

    return CannedAdapter()


def overhead_ms(run: Callable[[list[bool]], float], calls: int, repeats: int = 3) -> float:
    """Best of `repeats` runs of `calls` in-memory calls, in ms per call."""
    run(workload(500))
    return min(run(workload(calls)) for _ in range(repeats)) / calls * 1000


# ---------------------------------------------------------------------------------------------------------


def profile_ours(calls: int) -> str:
    client = make_ours("http://tuya.invalid", transport=CannedTransport())
    run_ours(client, workload(200))
    profiler = cProfile.Profile()
    profiler.enable()
    run_ours(client, workload(calls))
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
    stats.print_stats(18)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000, help="signed calls per client per round (default 3000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--chunk", type=int, default=300, help="calls per interleaved chunk (default 300)")
    parser.add_argument("--overhead-calls", type=int, default=20000)
    parser.add_argument("--profile", action="store_true", help="always print a cProfile of our client (no network)")
    args = parser.parse_args()

    counters = mp.Array("q", 3, lock=False)
    parent_end, child_end = mp.Pipe(duplex=False)
    server = mp.Process(target=serve, args=(counters, child_end), daemon=True)
    server.start()
    try:
        if not parent_end.poll(10):
            raise SystemExit("the bench server did not start")
        port = parent_end.recv()
        base_url = f"http://127.0.0.1:{port}"

        # Self-check: the server must refuse a wrongly signed request.
        from locks.tuya import TuyaError

        liar = make_ours(base_url)
        liar._secret = "not-the-secret"
        try:
            liar.get(GET_PATH, GET_QUERY)
            raise SystemExit("self-check failed: the server accepted a bad signature")
        except TuyaError as exc:
            if exc.code != 1004 or counters[BAD] != 1:
                raise SystemExit(f"self-check failed: {exc!r}, bad={counters[BAD]}") from None
        counters[BAD] = 0

        ours = make_ours(base_url)
        theirs = make_theirs(base_url)
        runners = {"ours (TuyaClient)": lambda c: run_ours(ours, c), "official SDK": lambda c: run_theirs(theirs, c)}
        bad = dict.fromkeys(runners, 0)
        unknown = dict.fromkeys(runners, 0)
        seconds: dict[str, list[float]] = {name: [] for name in runners}

        def timed(name: str, calls: list[bool]) -> float:
            before = counters[BAD], counters[UNKNOWN_TOKEN]
            elapsed = runners[name](calls)
            bad[name] += counters[BAD] - before[0]
            unknown[name] += counters[UNKNOWN_TOKEN] - before[1]
            return elapsed

        for name in runners:
            timed(name, workload(args.warmup))
        # Each round: N calls per client, interleaved in chunks (ours, theirs, theirs, ours, ...) so that
        # both clients see the same machine load; rounds alternate which client starts.
        names = list(runners)
        chunks = [min(args.chunk, args.calls - start) for start in range(0, args.calls, args.chunk)]
        for round_no in range(args.rounds):
            spent = dict.fromkeys(names, 0.0)
            for chunk_no, size in enumerate(chunks):
                order = names if (round_no + chunk_no) % 2 == 0 else names[::-1]
                for name in order:
                    spent[name] += timed(name, workload(size))
            for name in names:
                seconds[name].append(spent[name])
    finally:
        server.terminate()
        server.join(5)

    canned_ours = make_ours("http://tuya.invalid", transport=CannedTransport())
    canned_theirs = make_theirs_canned()
    overhead = {
        "ours (TuyaClient)": overhead_ms(lambda c: run_ours(canned_ours, c), args.overhead_calls),
        # The SDK is ~20x slower here: a quarter of the calls, best of 2, keeps the run short.
        "official SDK": overhead_ms(lambda c: run_theirs(canned_theirs, c), max(1, args.overhead_calls // 4), 2),
    }

    rate = {name: args.calls / statistics.median(s) for name, s in seconds.items()}
    best = {name: args.calls / min(s) for name, s in seconds.items()}
    print(f"python {platform.python_version()} ({platform.python_implementation()}), cpu count {os.cpu_count()}")
    print(
        f"N={args.calls} calls/round (2/3 GET with query, 1/3 POST JSON), warm-up {args.warmup}, "
        f"{args.rounds} rounds, clients interleaved in chunks of {args.chunk}, alternating order;\n"
        f"overhead = best of in-memory runs of {args.overhead_calls} calls (official SDK: {args.overhead_calls // 4})"
    )
    print()
    print("calls/s = median of the rounds, best = best round, ms/call = 1000 / median calls/s")
    print(f"{'client':<19}{'calls/s':>9}{'best':>9}{'ms/call':>9}  {'overhead ms/call (no network)':>30}  bad sig")
    for name in runners:
        print(
            f"{name:<19}{rate[name]:>9.0f}{best[name]:>9.0f}{1000 / rate[name]:>9.3f}  "
            f"{overhead[name]:>30.4f}  {bad[name] + unknown[name]:>7d}"
        )
    ratio = rate["ours (TuyaClient)"] / rate["official SDK"]
    best_ratio = best["ours (TuyaClient)"] / best["official SDK"]
    ours_overhead = overhead["ours (TuyaClient)"]
    print()
    print(
        f"ratio ours/official: {ratio:.2f}x median, {best_ratio:.2f}x best  "
        f"[goal >= {GOAL_RATIO}x: {'met' if ratio >= GOAL_RATIO else 'MISSED'}]"
    )
    print(
        "rounds (calls/s): "
        + "; ".join(f"{name}: " + ", ".join(f"{args.calls / x:.0f}" for x in s) for name, s in seconds.items())
    )
    print(
        f"our overhead: {ours_overhead:.4f} ms/call  "
        f"[goal < {GOAL_OVERHEAD_MS} ms: {'met' if ours_overhead < GOAL_OVERHEAD_MS else 'MISSED'}]"
    )
    if args.profile or ours_overhead >= GOAL_OVERHEAD_MS:
        print()
        print("cProfile of our client, no network (top by own time):")
        print(profile_ours(args.overhead_calls))

    failed = sum(bad.values()) + sum(unknown.values())
    if failed:
        print(f"FAIL: the server saw {failed} bad signatures / unknown tokens", file=sys.stderr)
        return 1
    return 0


def make_theirs_canned():
    from tuya_connector import TuyaOpenAPI

    api = TuyaOpenAPI("http://tuya.invalid", ACCESS_ID, ACCESS_SECRET)
    api.session.mount("http://", canned_requests_adapter())
    api.connect()
    return api


if __name__ == "__main__":
    sys.exit(main())
