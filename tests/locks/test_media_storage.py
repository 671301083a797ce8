"""Event photos on each private-media storage the settings offer: this machine's disk, and S3-compatible object
storage (moto's server mode on 127.0.0.1, a real S3 API over HTTP). The whole path each time: the lock's camera
takes a photo in the simulator, the events sync finds it, the media job downloads, decrypts and stores it, and the
view streams it to a member of the organisation and to no one else."""

from __future__ import annotations

import runpy
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import django_rq
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage, storages
from django.urls import reverse
from moto.server import ThreadedMotoServer
from PIL import Image
from storages.backends.s3 import S3Storage

from config import settings as settings_module
from locks import jobs, media
from locks.models import EventMedia, Lock
from tenants.models import Membership, Organisation, Role
from tests.conftest import private_media_in
from tests.locks.conftest import World, run_workers

pytestmark = pytest.mark.django_db(transaction=True)

S3_KEYS = {"PRIVATE_MEDIA_S3_ACCESS_KEY_ID": "test-key-id", "PRIVATE_MEDIA_S3_SECRET_ACCESS_KEY": "test-secret"}


def settings_with(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> dict[str, Any]:
    """config/settings.py read again with these variables in the environment, as a process started with them."""
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(settings_module.__file__)))


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server of our own on loopback (its buckets live in this process)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["filesystem", "s3"])
def private_storage(
    request: pytest.FixtureRequest, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Storage:
    """The private-media storage, as the settings build it from the environment for each backend."""
    if request.param == "filesystem":
        private_media_in(settings, tmp_path / "private")
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = f"photos-{uuid.uuid4().hex[:12]}"
        env = {
            "PRIVATE_MEDIA_STORAGE": "s3",
            "PRIVATE_MEDIA_S3_BUCKET": bucket,
            "PRIVATE_MEDIA_S3_ENDPOINT_URL": endpoint,
            "PRIVATE_MEDIA_S3_REGION": "eu-west-1",
            **S3_KEYS,
        }
        configured = settings_with(monkeypatch, tmp_path, **env)["STORAGES"]["private_media"]
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="eu-west-1",
            aws_access_key_id=S3_KEYS["PRIVATE_MEDIA_S3_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_KEYS["PRIVATE_MEDIA_S3_SECRET_ACCESS_KEY"],
        )
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        settings.STORAGES = {**settings.STORAGES, "private_media": configured}
    return storages["private_media"]


def doorbell_photo(make_lock: Callable[..., Lock], world: World) -> EventMedia:
    """Ring the Wi-Fi lock's doorbell (its camera takes a photo), then sync: the media job stores the photo."""
    lock = make_lock("wifi")
    world.call("POST", f"/_sim/devices/{lock.device_id}/doorbell")
    django_rq.get_queue("sync").enqueue(jobs.sync_lock_events, lock.pk)
    run_workers()  # the sync, then the photo job it enqueued
    photo = EventMedia.objects.get(event__lock=lock, event__classification="doorbell")
    assert photo.status == EventMedia.Status.DONE, photo.failure_reason
    return photo


def stored(storage: Storage, photo: EventMedia) -> list[str]:
    """Every file in the photo's folder, temporary ones included."""
    folder = photo.original.rpartition("/")[0]
    return sorted(storage.listdir(folder)[1])


def test_a_photo_goes_from_the_lock_to_a_member_through_the_storage(
    private_storage, make_lock, world, client, front_desk, django_user_model
):
    photo = doorbell_photo(make_lock, world)
    assert stored(private_storage, photo) == sorted([f"{photo.pk}.jpg", f"{photo.pk}.thumb.jpg"])
    with private_storage.open(photo.original, "rb") as original:
        with Image.open(original) as image:
            assert (image.format, image.size) == ("JPEG", (photo.width, photo.height))
        original.seek(0)
        original_bytes = original.read()
    with private_storage.open(photo.thumbnail, "rb") as thumbnail:
        thumbnail_bytes = thumbnail.read()
    if isinstance(private_storage, S3Storage):  # an object only the bucket's own credentials may read
        acl = private_storage.connection.meta.client.get_object_acl(
            Bucket=private_storage.bucket_name, Key=photo.original
        )
        assert [grant["Permission"] for grant in acl["Grants"]] == ["FULL_CONTROL"]
        assert acl["Grants"][0]["Grantee"]["ID"] == acl["Owner"]["ID"]
    else:
        with pytest.raises(NotImplementedError):
            private_storage.url(photo.original)  # no URL of its own: only the view below

    client.force_login(front_desk)
    response = client.get(reverse("locks:event-media", args=[photo.pk, "original"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == f"private, max-age={media.CACHE_SECONDS}"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == original_bytes
    thumb = client.get(reverse("locks:event-media", args=[photo.pk, "thumb"]))
    assert thumb.status_code == 200
    assert b"".join(thumb.streaming_content) == thumbnail_bytes

    other = Organisation.objects.create(name="Other Hotel", slug="other")
    stranger = django_user_model.objects.create_user("stranger", password="pw-stranger-1")
    Membership.objects.create(user=stranger, organisation=other, role=Role.OWNER)
    client.force_login(stranger)
    assert client.get(reverse("locks:event-media", args=[photo.pk, "original"])).status_code == 404
    assert client.get(reverse("locks:event-media", args=[photo.pk, "thumb"])).status_code == 404


def test_a_photo_gone_from_the_storage_is_not_available(private_storage, make_lock, world, client, front_desk):
    photo = doorbell_photo(make_lock, world)
    private_storage.delete(photo.thumbnail)
    client.force_login(front_desk)
    assert client.get(reverse("locks:event-media", args=[photo.pk, "thumb"])).status_code == 404
    assert client.get(reverse("locks:event-media", args=[photo.pk, "original"])).status_code == 200


def test_a_rerun_of_the_photo_job_stores_nothing_twice(private_storage, make_lock, world, monkeypatch):
    photo = doorbell_photo(make_lock, world)
    with private_storage.open(photo.original, "rb") as original:
        first = original.read()
    files = stored(private_storage, photo)

    # A done photo is not fetched again.
    assert media.fetch_media(photo.pk) == EventMedia.Status.DONE
    # A worker that stored both files and died before marking the photo done: the job runs again (the sweeper).
    EventMedia.objects.filter(pk=photo.pk).update(status=EventMedia.Status.PENDING, original="", thumbnail="")
    assert media.fetch_media(photo.pk) == EventMedia.Status.DONE
    again = EventMedia.objects.get(pk=photo.pk)
    assert (again.original, again.thumbnail) == (photo.original, photo.thumbnail)
    assert stored(private_storage, photo) == files

    # Two runs at once: this one looked before the other stored, and the storage gives it another name (or, on an
    # object store, the same name again). Either way one file per name is left, the first one.
    EventMedia.objects.filter(pk=photo.pk).update(status=EventMedia.Status.PENDING)
    looked: set[str] = set()
    exists = private_storage.exists

    def not_there_at_the_first_look(name: str) -> bool:
        if name in looked:
            return exists(name)
        looked.add(name)
        return False

    monkeypatch.setattr(private_storage, "exists", not_there_at_the_first_look)
    assert media.fetch_media(photo.pk) == EventMedia.Status.DONE
    assert stored(private_storage, photo) == files
    with private_storage.open(photo.original, "rb") as original:
        assert original.read() == first


def test_the_settings_build_each_storage_from_the_environment(monkeypatch, tmp_path):
    on_disk = settings_with(monkeypatch, tmp_path, PRIVATE_MEDIA_ROOT=str(tmp_path / "photos"))
    assert on_disk["STORAGES"]["private_media"] == {
        "BACKEND": "config.storage.WholeFileSystemStorage",
        "OPTIONS": {
            "location": tmp_path / "photos",
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }
    s3 = settings_with(
        monkeypatch, tmp_path, PRIVATE_MEDIA_STORAGE="s3", PRIVATE_MEDIA_S3_BUCKET="doors-photos", **S3_KEYS
    )
    assert s3["STORAGES"]["private_media"] == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "doors-photos",
            "access_key": "test-key-id",
            "secret_key": "test-secret",
            "default_acl": "private",
            "querystring_auth": True,
        },
    }
    monkeypatch.delenv("PRIVATE_MEDIA_S3_BUCKET")
    with pytest.raises(ImproperlyConfigured, match="PRIVATE_MEDIA_S3_BUCKET"):
        settings_with(monkeypatch, tmp_path)
    with pytest.raises(ImproperlyConfigured, match="filesystem or s3"):
        settings_with(monkeypatch, tmp_path, PRIVATE_MEDIA_STORAGE="nfs")
