"""The photo pipeline: download over real HTTP, decrypt, check, store original + thumbnail; the private view.

Photos are encrypted here, in the test, from the spec's Java demo (EncryptUtils.encryptFile: 4 zero bytes, the
16-byte IV, 4 + 40 zero bytes, then AES/CBC/PKCS5Padding with the file key's bytes) — not with the code under
test and not with the simulator's — and served by a tiny HTTP server of the test's own.
"""

from __future__ import annotations

import io
import os
import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import django_rq
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from locks import jobs, media
from locks.models import CloudAccount, EventMedia, Lock, LockEvent
from locks.queues import enqueue_media
from tenants.models import Membership, Organisation, Role
from tests.conftest import private_media_in
from tests.locks.conftest import event_place, run_workers

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "k7Gq2LmN9pXr4TvW"  # 16 characters, like the cloud's file_key


def encrypt_like_the_java_demo(plain: bytes, key: str, iv: bytes | None = None) -> bytes:
    iv = iv or os.urandom(16)
    padder = padding.PKCS7(128).padder()  # Java's PKCS5Padding on 16-byte blocks
    encryptor = Cipher(algorithms.AES(key.encode()), modes.CBC(iv)).encryptor()
    body = encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()
    return bytes(4) + iv + bytes(4) + bytes(40) + body


def jpeg(width: int = 800, height: int = 600, seed: int = 1) -> bytes:
    """A photo-like JPEG (noise over a gradient: it does not compress to nothing)."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.frombytes("RGB", (width // 4, height // 4), rng.randbytes(width // 4 * height // 4 * 3))
    image = Image.blend(image, noise.resize((width, height)), 0.5)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


class Storage:
    """The cloud's storage bucket: path -> (HTTP status, body); counts the GETs."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[int, bytes]] = {}
        self.hits: Counter[str] = Counter()
        self.url = ""

    def put(self, name: str, body: bytes, status: int = 200) -> str:
        self.files[f"/{name}"] = (status, body)
        return f"{self.url}/{name}"


@pytest.fixture
def storage() -> Iterator[Storage]:
    store = Storage()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            store.hits[self.path] += 1
            status, body = store.files.get(self.path, (404, b"no such object"))
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    store.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield store
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def private_root(settings: Any, tmp_path: Path) -> Path:
    return private_media_in(settings, tmp_path / "private")


@pytest.fixture
def event(org, unit) -> LockEvent:
    account = CloudAccount.objects.create(
        organisation=org, name="Cloud", endpoint="http://127.0.0.1:9", access_id="id", access_secret="secret"
    )
    lock = Lock.objects.create(
        organisation=org, cloud_account=account, unit=unit, device_id="dev1", name="Room 12", kind="wifi"
    )
    return LockEvent.objects.create(
        organisation=org,
        lock=lock,
        **event_place(lock),
        category=LockEvent.Category.ALARM,
        dp_code="doorbell",
        dp_value="true",
        classification="doorbell",
        occurred_at=timezone.now(),
        natural_key="a:1:doorbell:true",
    )


def photo_of(event: LockEvent, url: str, key: str = KEY, position: int = 0) -> EventMedia:
    return EventMedia.objects.create(
        organisation_id=event.organisation_id, event=event, position=position, file_url=url, file_key=key
    )


def test_good_photo_gets_an_original_and_a_thumbnail(storage, event, private_root):
    plain = jpeg()
    assert len(plain) > 20_000
    row = photo_of(event, storage.put("a.jpg", encrypt_like_the_java_demo(plain, KEY)))

    assert jobs.fetch_event_media(row.pk) == "done"
    row.refresh_from_db()
    assert (row.status, row.content_type, row.width, row.height) == ("done", "image/jpeg", 800, 600)
    assert (private_root / row.original).read_bytes() == plain
    with Image.open(private_root / row.thumbnail) as thumb:
        assert thumb.format == "JPEG"
        assert max(thumb.size) == 320
    assert not str(private_root / row.original).startswith(str(Path(__file__).parents[2] / "static"))
    # No temporary file is left beside them, and they are private to this user.
    folder = (private_root / row.original).parent
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{row.pk}.jpg", f"{row.pk}.thumb.jpg"])
    assert (private_root / row.original).stat().st_mode & 0o077 == 0


def test_a_done_photo_is_not_fetched_again(storage, event, queues):
    row = photo_of(event, storage.put("b.jpg", encrypt_like_the_java_demo(jpeg(), KEY)))
    enqueue_media(row.pk)
    enqueue_media(row.pk)  # a second request while the first waits: one job
    assert django_rq.get_queue("media").count == 1
    run_workers()
    enqueue_media(row.pk)
    run_workers()
    assert jobs.fetch_event_media(row.pk) == "done"
    assert storage.hits["/b.jpg"] == 1


@pytest.mark.parametrize(
    ("body", "key", "status", "reason"),
    [
        pytest.param("truncated", KEY, 200, "truncated", id="truncated"),
        pytest.param("header-only", KEY, 200, "truncated", id="header-only"),
        pytest.param("fixed-iv", "0000000000000000", 200, "does not decrypt", id="wrong-key"),
        pytest.param("text", KEY, 200, "not a readable image", id="not-an-image"),
        pytest.param("gif", KEY, 200, "not a JPEG, PNG or WebP", id="not-a-photo-format"),
        pytest.param("good", KEY, 404, "HTTP 404", id="gone"),
        pytest.param("good", KEY, 403, "HTTP 403", id="expired"),
        pytest.param("good", "short", 200, "16, 24 or 32", id="malformed-key"),
    ],
)
def test_bad_photos_fail_with_a_reason(storage, event, private_root, body, key, status, reason):
    encrypted = encrypt_like_the_java_demo(jpeg(), KEY)
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    bodies = {
        "good": encrypted,
        # With a random IV about one wrong key in 256 passes the padding check and fails later, as "not an image".
        "fixed-iv": encrypt_like_the_java_demo(jpeg(), KEY, iv=bytes(16)),
        "truncated": encrypted[: len(encrypted) // 2 + 3],
        "header-only": encrypted[:64],
        "text": encrypt_like_the_java_demo(b"<html>Access denied</html>", KEY),
        "gif": encrypt_like_the_java_demo(gif.getvalue(), KEY),
    }
    row = photo_of(event, storage.put("x.jpg", bodies[body], status), key=key)

    assert jobs.fetch_event_media(row.pk) == "failed"
    row.refresh_from_db()
    assert row.status == "failed"
    assert reason in row.failure_reason
    assert KEY not in row.failure_reason
    assert not row.original
    assert not private_root.exists() or not any(p.is_file() for p in private_root.rglob("*"))
    # Failed is final: a rerun does not fetch again.
    hits = storage.hits["/x.jpg"]
    assert jobs.fetch_event_media(row.pk) == "failed"
    assert storage.hits["/x.jpg"] == hits


def test_oversized_photo_is_refused(storage, event, settings):
    settings.MEDIA_MAX_BYTES = 10_000
    row = photo_of(event, storage.put("big.jpg", encrypt_like_the_java_demo(jpeg(), KEY)))
    assert jobs.fetch_event_media(row.pk) == "failed"
    row.refresh_from_db()
    assert "larger than 10000 bytes" in row.failure_reason
    with translation.override("de"):  # the cap is an argument of the marked sentence, not baked into English
        assert row.failure_text == "Das Foto ist größer als 10000 Bytes."


def test_passing_storage_trouble_is_retried_then_given_up(storage, event):
    row = photo_of(event, storage.put("busy.jpg", b"busy", status=503))
    assert jobs.fetch_event_media(row.pk) == "pending"
    row.refresh_from_db()
    assert (row.attempts, row.status) == (1, "pending")
    assert "503" in row.failure_reason
    # The sweeper picks it up once it has waited.
    EventMedia.objects.filter(pk=row.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    assert row.pk in media.due_media_ids()
    assert jobs.fetch_event_media(row.pk) == "pending"
    assert jobs.fetch_event_media(row.pk) == "failed"
    row.refresh_from_db()
    assert "Gave up after 3 attempts" in row.failure_reason
    assert row.pk not in media.due_media_ids(timezone.now() + timedelta(hours=1))


def test_unreachable_storage_is_a_passing_problem(event):
    row = photo_of(event, "http://127.0.0.1:9/nothing-listens-here.jpg")
    assert jobs.fetch_event_media(row.pk) == "pending"
    row.refresh_from_db()
    assert "Could not download" in row.failure_reason


def test_a_crash_mid_write_leaves_no_half_file_and_the_rerun_finishes(storage, event, private_root):
    plain = jpeg()
    row = photo_of(event, storage.put("c.jpg", encrypt_like_the_java_demo(plain, KEY)))
    folder = private_root / f"events/{event.organisation_id}/{event.lock_id}"
    folder.mkdir(parents=True)
    # What a worker killed during the write leaves: a temporary file, never the final name.
    (folder / f".{row.pk}.jpg.0123abcd.tmp").write_bytes(plain[:100])
    assert jobs.fetch_event_media(row.pk) == "done"
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{row.pk}.jpg", f"{row.pk}.thumb.jpg"])
    assert (folder / f"{row.pk}.jpg").read_bytes() == plain


# --- the view ------------------------------------------------------------------------------------------------


@pytest.fixture
def done_photo(storage, event) -> EventMedia:
    row = photo_of(event, storage.put("v.jpg", encrypt_like_the_java_demo(jpeg(), KEY)))
    assert jobs.fetch_event_media(row.pk) == "done"
    row.refresh_from_db()
    return row


def test_view_serves_the_photo_to_its_organisation_only(
    client, front_desk, done_photo, private_root, django_user_model
):
    thumb_url = reverse("locks:event-media", args=[done_photo.pk, "thumb"])
    original_url = reverse("locks:event-media", args=[done_photo.pk, "original"])

    anonymous = client.get(thumb_url)
    assert anonymous.status_code == 302
    assert "login" in anonymous["Location"]

    client.force_login(front_desk)
    response = client.get(original_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"].startswith("private, max-age=")
    assert b"".join(response.streaming_content) == (private_root / done_photo.original).read_bytes()
    thumb = client.get(thumb_url)
    assert thumb.status_code == 200
    assert b"".join(thumb.streaming_content) == (private_root / done_photo.thumbnail).read_bytes()
    assert client.get(reverse("locks:event-media", args=[done_photo.pk, "secret"])).status_code == 404
    assert client.get(reverse("locks:event-media", args=[done_photo.pk + 1000, "thumb"])).status_code == 404

    other_org = Organisation.objects.create(name="Other Hotel", slug="other")
    stranger = django_user_model.objects.create_user("stranger", password="pw-stranger-1")
    Membership.objects.create(user=stranger, organisation=other_org, role=Role.OWNER)
    client.force_login(stranger)
    assert client.get(original_url).status_code == 404
    assert client.get(thumb_url).status_code == 404


def test_view_404s_for_a_photo_not_fetched_yet(client, front_desk, event):
    row = photo_of(event, "http://127.0.0.1:9/later.jpg")
    client.force_login(front_desk)
    assert client.get(reverse("locks:event-media", args=[row.pk, "thumb"])).status_code == 404


# --- the cloud's other media endpoints, against the simulator ---------------------------------------------------


def test_latest_photo_album_and_view_counts_where_the_lock_has_them(make_lock, world):
    wifi = make_lock("wifi")
    assert media.latest_photo(wifi) is None  # nothing in the last 90 s
    world.call("POST", f"/_sim/devices/{wifi.device_id}/doorbell")
    latest = media.latest_photo(wifi)
    assert latest is not None
    assert KEY not in repr(latest)
    assert latest.file_key not in repr(latest)
    photo = media.fetch_photo(latest)
    assert photo.content_type == "image/jpeg"
    assert max(Image.open(io.BytesIO(photo.thumbnail)).size) == 320

    before = media.media_views(wifi)
    assert media.add_media_view(wifi) == before + 1
    assert media.media_views(wifi) == before + 1

    video = make_lock("wifi_video")
    world.call("POST", f"/_sim/devices/{video.device_id}/alarm", {"alarm": "pry"})
    world.call("POST", f"/_sim/devices/{video.device_id}/doorbell")
    album = media.album(video)
    assert [p.label for p in album] == ["doorbell", "pry"]
    assert media.fetch_photo(album[0]).width == 640

    # Kinds the spec does not list get nothing, and no call is made.
    zigbee = make_lock("zigbee")
    assert media.latest_photo(zigbee) is None
    assert media.album(wifi) == []
    assert media.media_views(video) is None


def test_a_photo_url_at_a_private_address_is_not_fetched_unless_allowed(storage, event, settings):
    """The URL comes in the cloud's reply: where endpoints may not be private, neither may it be (#11 B.6); the
    address is checked on each connection, after DNS. The storage here is on loopback."""
    settings.TUYA_ALLOW_PRIVATE_ENDPOINTS = False
    settings.EMBEDDED_SIMULATOR = False
    good = encrypt_like_the_java_demo(jpeg(), KEY)
    for url in (storage.put("p.jpg", good), storage.put("p.jpg", good).replace("127.0.0.1", "localhost")):
        row = photo_of(event, url, position=EventMedia.objects.count())
        assert jobs.fetch_event_media(row.pk) == "failed"
        row.refresh_from_db()
        assert "private or local address" in row.failure_reason
    assert storage.hits["/p.jpg"] == 0
    settings.TUYA_ALLOW_PRIVATE_ENDPOINTS = True
    row = photo_of(event, storage.put("p.jpg", good), position=EventMedia.objects.count())
    assert jobs.fetch_event_media(row.pk) == "done"


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
def test_a_proxy_in_the_environment_does_not_carry_a_photo_download_past_the_check(
    storage, event, settings, monkeypatch, variable
):
    """requests reads proxies from the environment, and a proxy's pool is not one of the public-only ones: the
    request would go to the proxy, which fetches whatever it is told. The downloads ignore the environment."""
    settings.TUYA_ALLOW_PRIVATE_ENDPOINTS = False
    settings.EMBEDDED_SIMULATOR = False
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, storage.url)  # the "proxy" is the storage itself, and it counts every request
    row = photo_of(event, "http://10.20.30.40/p.jpg")
    assert jobs.fetch_event_media(row.pk) == "failed"
    row.refresh_from_db()
    assert "private or local address" in row.failure_reason
    assert sum(storage.hits.values()) == 0


@pytest.mark.parametrize(("endpoint", "fetched"), [("embedded", True), ("http://127.0.0.1:9", False), ("eu", False)])
def test_with_the_simulator_on_only_its_own_accounts_photos_may_be_private(storage, event, settings, endpoint, fetched):
    """The embedded simulator's storage is this app, on loopback: its accounts' photo URLs are private. Another
    account's are not let through because the simulator happens to be on."""
    settings.TUYA_ALLOW_PRIVATE_ENDPOINTS = False
    settings.EMBEDDED_SIMULATOR = True
    CloudAccount.objects.filter(pk=event.lock.cloud_account_id).update(endpoint=endpoint)
    row = photo_of(event, storage.put("p.jpg", encrypt_like_the_java_demo(jpeg(), KEY)))
    assert jobs.fetch_event_media(row.pk) == ("done" if fetched else "failed")
    assert storage.hits["/p.jpg"] == (1 if fetched else 0)
