"""Access tokens: fetched once, shared by every process of a deployment, refreshed under a lock.

A Tuya refresh token works exactly once and a refresh invalidates the old pair (docs/tuya-protocol.md, tokens),
so two processes refreshing at the same moment would log each other out. Every process therefore
keeps the token in a shared store and takes the store's lock before fetching or refreshing; the
first one in does the work, the others find the fresh token when they get the lock.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.fernet import Fernet, InvalidToken

from .errors import TuyaAuthError, TuyaTokenError

if TYPE_CHECKING:  # only for the annotation: redis stays an optional import here
    from redis import Redis

# Refresh this long before the cloud would expire the token, so a call never races the expiry.
EXPIRY_MARGIN_SECONDS = 120.0


@dataclass(frozen=True)
class Token:
    access_token: str
    refresh_token: str
    expires_at: float  # epoch seconds, by our clock
    uid: str = ""

    def __repr__(self) -> str:  # tokens are credentials: never print them
        return f"Token(expires_at={self.expires_at!r}, uid={self.uid!r})"

    def is_fresh(self, now: float, margin: float = EXPIRY_MARGIN_SECONDS) -> bool:
        return now < self.expires_at - margin

    @classmethod
    def from_result(cls, result: dict[str, Any], now: float) -> Token:
        # Older docs call the lifetime `expire`, newer ones `expire_time`; both SDKs accept either.
        lifetime = result.get("expire_time", result.get("expire", 0))
        return cls(
            access_token=str(result["access_token"]),
            refresh_token=str(result.get("refresh_token", "")),
            expires_at=now + float(lifetime),
            uid=str(result.get("uid", "")),
        )


class TokenStore(Protocol):
    """Where the token of one cloud project lives, and the lock that guards fetching it."""

    def load(self, key: str) -> bytes | None: ...

    def save(self, key: str, blob: bytes, ttl_seconds: int) -> None: ...

    def lock(self, key: str) -> AbstractContextManager[object]: ...


class MemoryTokenStore:
    """One process only: for scripts, the command line and tests."""

    def __init__(self) -> None:
        self._blobs: dict[str, tuple[bytes, float]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def load(self, key: str) -> bytes | None:
        blob, dies_at = self._blobs.get(key, (None, 0.0))
        return blob if blob is not None and time.time() < dies_at else None

    def save(self, key: str, blob: bytes, ttl_seconds: int) -> None:
        self._blobs[key] = (blob, time.time() + ttl_seconds)

    def lock(self, key: str) -> AbstractContextManager[object]:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


class RedisTokenStore:
    """Shared by every process that reaches the same Redis: web, workers, scheduler."""

    def __init__(self, redis: Redis, *, prefix: str = "tuya:token:", lock_timeout: float = 60.0) -> None:
        self._redis = redis
        self._prefix = prefix
        self._lock_timeout = lock_timeout

    def load(self, key: str) -> bytes | None:
        value = self._redis.get(self._prefix + key)
        if isinstance(value, str):  # a client made with decode_responses=True; the blob is ASCII (Fernet)
            return value.encode()
        return bytes(value) if value is not None else None

    def save(self, key: str, blob: bytes, ttl_seconds: int) -> None:
        self._redis.set(self._prefix + key, blob, ex=max(1, ttl_seconds))

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        # The lock expires by itself so a process killed while holding it cannot block the others for long.
        lock = self._redis.lock(
            self._prefix + key + ":lock", timeout=self._lock_timeout, blocking_timeout=self._lock_timeout
        )
        if not lock.acquire():
            raise TuyaTokenError("Timed out waiting for another process to fetch the Tuya token.")
        try:
            yield
        finally:
            # If it expired meanwhile another process may hold it now: nothing of ours to release.
            with suppress(Exception):  # redis.exceptions.LockError; redis stays an optional import
                lock.release()


class TokenManager:
    """Hands out a fresh token for one cloud project, fetching it at most once across processes."""

    def __init__(
        self,
        *,
        client_id: str,
        secret: str,
        endpoint: str,
        store: TokenStore,
        grant: Callable[[], dict[str, Any]],
        refresh: Callable[[str], dict[str, Any]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = hashlib.sha256(f"{endpoint}|{client_id}".encode()).hexdigest()[:32]
        # Tokens are encrypted in the store with a key derived from the access secret, so a reader
        # of Redis without the secret cannot use them.
        self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"tuya-token:{secret}".encode()).digest()))
        self._store = store
        self._grant = grant
        self._refresh = refresh
        self._clock = clock
        self._cached: Token | None = None
        self._local_lock = threading.Lock()

    def current(self) -> Token:
        token = self._cached
        if token is not None and token.is_fresh(self._clock()):
            return token
        with self._local_lock:
            token = self._load()
            if token is not None and token.is_fresh(self._clock()):
                self._cached = token
                return token
            with self._store.lock(self._key):
                token = self._load()
                if token is None or not token.is_fresh(self._clock()):
                    token = self._renew(token)
                self._cached = token
                return token

    def replace(self, rejected_access_token: str) -> Token:
        """The cloud refused this token (1010/1011): get another unless some process already did."""
        with self._local_lock, self._store.lock(self._key):
            token = self._load()
            if token is None or token.access_token == rejected_access_token:
                token = self._renew(token)
            self._cached = token
            return token

    def _renew(self, previous: Token | None) -> Token:
        result = None
        if previous is not None and previous.refresh_token:
            try:
                result = self._refresh(previous.refresh_token)
            except TuyaAuthError:
                result = None  # refresh token used up or revoked: fall back to a new grant
        if result is None:
            result = self._grant()
        token = Token.from_result(result, self._clock())
        ttl = int(token.expires_at - self._clock())
        self._store.save(self._key, self._fernet.encrypt(json.dumps(token.__dict__).encode()), ttl)
        return token

    def _load(self) -> Token | None:
        blob = self._store.load(self._key)
        if blob is None:
            return None
        try:
            return Token(**json.loads(self._fernet.decrypt(blob)))
        except (InvalidToken, ValueError, TypeError):
            return None  # written with another secret or garbled: fetch a new one
