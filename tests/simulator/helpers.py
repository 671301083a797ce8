"""Helpers for the users / methods / logs / media tests: the world API, and media decryption from the spec's demo."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.test import Client

from tests.simulator.conftest import PREFIX


def world(device_id: str, action: str, body: dict[str, Any] | None = None, *, status: int = 201) -> Any:
    """POST to /_sim/devices/{id}/{action} and return the JSON answer, asserting the HTTP status."""
    response = Client().post(f"{PREFIX}/_sim/devices/{device_id}/{action}", body or {}, "application/json")
    assert response.status_code == status, response.content
    return json.loads(response.content)


def world_get(device_id: str, action: str) -> Any:
    response = Client().get(f"{PREFIX}/_sim/devices/{device_id}/{action}")
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def home_user(device_id: str, name: str = "Ann", role: str = "normal") -> str:
    return str(world(device_id, "home-users", {"nick_name": name, "role": role})["user_id"])


def enroll_locally(device_id: str, kind: str, **extra: Any) -> dict[str, Any]:
    """A method enrolled at the lock itself (world API), optionally for a user."""
    return world(device_id, "methods", {"type": kind, **extra})


def decrypt_media(data: bytes, file_key: str) -> bytes:
    """Java demo decryptFile: skip 4 bytes, read the 16-byte IV, skip 44, AES/CBC/PKCS5Padding with key.getBytes()."""
    iv = data[4:20]
    body = data[20 + 44 :]
    decryptor = Cipher(algorithms.AES(file_key.encode("utf-8")), modes.CBC(iv)).decryptor()
    padded = decryptor.update(body) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def fetch(url: str) -> bytes:
    """GET an absolute simulator URL through Django's test client (host testserver)."""
    parsed = urlparse(url)
    assert parsed.scheme == "http"
    assert parsed.netloc == "testserver"
    response = Client().get(parsed.path)
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content
