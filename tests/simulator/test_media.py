"""Captured photos: real JPEGs in the spec's encrypted media format, served from simulated storage."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from PIL import Image

from locks.simulator.models import SimMedia, SimUnlockMethod
from tests.simulator.conftest import PREFIX
from tests.simulator.helpers import decrypt_media, enroll_locally, fetch, world

pytestmark = pytest.mark.django_db
DAY = 86400


def _jpeg(url: str, file_key: str) -> Image.Image:
    data = fetch(url)
    assert data[:4] == bytes(4)
    assert data[20:64] == bytes(44)  # the spec's layout: 4 | IV 16 | 44 | ciphertext
    image = Image.open(io.BytesIO(decrypt_media(data, file_key)))
    image.load()
    return image


def test_doorbell_photo_decrypts_to_a_jpeg(tuya, make_device):
    device = make_device("wifi_video")
    world(device.id, "doorbell")
    query = {"page_no": 1, "page_size": 10, "codes": "doorbell", "show_media_info": "true"}
    (record,) = tuya.ok("GET", f"/v1.1/devices/{device.id}/door-lock/alarm-logs", query)["records"]
    (info,) = record["media_infos"]
    assert info["file_url"].startswith(f"http://testserver{PREFIX}/_sim/media/")
    assert len(info["file_key"]) == 16
    image = _jpeg(info["file_url"], info["file_key"])
    assert (image.format, image.size) == ("JPEG", (640, 480))


def test_every_file_has_its_own_key_and_a_wrong_key_fails(tuya, make_device):
    device = make_device("wifi_video")
    first = world(device.id, "doorbell")["events"][0]
    second = world(device.id, "alarm", {"alarm": "pry"})["events"][0]
    assert first["file_key"] != second["file_key"]
    assert first["file_url"] != second["file_url"]
    try:
        wrong = decrypt_media(fetch(first["file_url"]), second["file_key"])
    except ValueError:  # usually the PKCS7 check already fails under another key
        wrong = b""
    assert not wrong.startswith(b"\xff\xd8")  # no JPEG start-of-image marker


def test_unknown_media_token_is_404():
    assert Client().get(f"{PREFIX}/_sim/media/not-a-token.jpg.enc").status_code == 404


def test_open_logs_v11_media_infos(tuya, make_device):
    device = make_device("wifi_video")
    sn = enroll_locally(device.id, "face")["unlock_sn"]
    world(device.id, "present", {"type": "face", "number": sn})
    query = {"page_no": 1, "page_size": 10, "start_time": 0, "end_time": 9_999_999_999_999}
    path = f"/v1.1/devices/{device.id}/door-lock/open-logs"
    (plain,) = tuya.ok("GET", path, query)["logs"]
    assert "media_infos" not in plain
    (log,) = tuya.ok("GET", path, {**query, "showMediaInfo": "true"})["logs"]
    assert log["status"] == {"code": "unlock_face", "value": str(sn)}
    assert _jpeg(log["media_infos"][0]["file_url"], log["media_infos"][0]["file_key"]).format == "JPEG"


def test_cameraless_kinds_capture_nothing(tuya, make_device):
    device = make_device("zigbee")
    event = world(device.id, "doorbell")["events"][0]
    assert "file_url" not in event
    assert not SimMedia.objects.exists()
    query = {"page_no": 1, "page_size": 10, "show_media_info": "true"}
    (record,) = tuya.ok("GET", f"/v1.1/devices/{device.id}/door-lock/alarm-logs", query)["records"]
    assert record["media_infos"] == []


def test_wifi_lock_films_unlocks_only_with_the_photo_attribute(tuya, make_device):
    device = make_device("wifi")
    method = enroll_locally(device.id, "fingerprint")
    assert "file_url" not in world(device.id, "present", {"type": "fingerprint", "number": 1})["events"][0]
    path = f"/v1.0/smart-lock/devices/{device.id}/opmodes/{method['opmode_id']}/attribute/2/opmode-attr"
    assert tuya.ok("POST", path, body={"enabled": True}) is True
    assert "file_url" in world(device.id, "present", {"type": "fingerprint", "number": 1})["events"][0]
    assert "file_url" in world(device.id, "alarm", {"alarm": "pry"})["events"][0]  # alarms always


def test_latest_media_url(tuya, make_device, sim_clock):
    device = make_device("wifi")
    path = f"/v1.0/devices/{device.id}/door-lock/latest/media/url"
    assert tuya.ok("GET", path, {"file_type": 2}) is None
    event = world(device.id, "alarm", {"alarm": "pry"})["events"][0]
    latest = tuya.ok("GET", path, {"file_type": 2})
    assert latest["file_url"] == event["file_url"]
    assert latest["file_key"] == event["file_key"]
    assert latest["file_path"].endswith(".jpg.enc")
    assert latest["bucket"]
    assert tuya.ok("GET", path, {"file_type": 1}) is None  # no unlock or doorbell photo
    world(device.id, "doorbell")
    assert tuya.ok("GET", path, {"file_type": 1})["file_url"].endswith(".jpg.enc")
    sim_clock.advance(91)  # only the last 90 seconds count
    assert tuya.ok("GET", path, {"file_type": 2}) is None
    assert tuya.request("GET", path)["code"] == 1100
    assert tuya.request("GET", path, {"file_type": 3})["code"] == 1101
    video = make_device("wifi_video")
    assert tuya.request("GET", f"/v1.0/devices/{video.id}/door-lock/latest/media/url", {"file_type": 1})["code"] == 2004


def test_albums_list_recent_media_with_event_types(tuya, make_device, sim_clock):
    device = make_device("wifi_video")
    path = f"/v1.0/smart-lock/devices/{device.id}/albums-media"
    world(device.id, "doorbell")
    sim_clock.advance(DAY)
    world(device.id, "alarm", {"alarm": "pry"})
    tuya.connect()  # a day later the token has expired
    album = tuya.ok("GET", path)
    assert album["order_code"] == "cloud_free_storage_3day"
    assert album["event_types"] == [0, 18]
    assert [a["event_type"] for a in album["album_list"]] == [0, 18]
    newest = album["album_list"][0]
    assert newest["upload_time"] == int(sim_clock.now().timestamp())
    assert _jpeg(newest["file_url"], newest["file_key"]).format == "JPEG"
    sim_clock.advance(2.5 * DAY)  # the doorbell photo is older than the free plan's 3 days now
    tuya.connect()
    assert [a["event_type"] for a in tuya.ok("GET", path)["album_list"]] == [0]
    wifi = make_device("wifi")
    assert tuya.request("GET", f"/v1.0/smart-lock/devices/{wifi.id}/albums-media")["code"] == 2004


def test_media_view_times(tuya, make_device):
    device, video = make_device("wifi"), make_device("wifi_video")
    path = f"/v1.0/smart-lock/devices/{device.id}/media-view-times"
    assert tuya.ok("GET", path) == 0
    assert tuya.ok("POST", path) == 1
    assert tuya.ok("POST", path) == 2
    assert tuya.ok("GET", path) == 2
    assert tuya.request("GET", f"/v1.0/smart-lock/devices/{video.id}/media-view-times")["code"] == 2004
    assert tuya.request("POST", f"/v1.0/smart-lock/devices/{video.id}/media-view-times")["code"] == 2004


def test_duress_unlock_shares_one_photo(tuya, make_device):
    device = make_device("wifi_video")
    enroll_locally(device.id, "fingerprint")
    tuya.ok("POST", f"/v1.0/smart-lock/devices/{device.id}/opmodes/actions/sync", {"codes": "unlock_fingerprint"})
    SimUnlockMethod.objects.update(hijack=True)  # wifi_video has no hijack endpoint; the flag comes from the app
    unlock, duress = world(device.id, "present", {"type": "fingerprint", "number": 1})["events"]
    assert (unlock["kind"], duress["kind"]) == ("unlock_fingerprint", "hijack")
    assert unlock["file_url"] == duress["file_url"]
    assert SimMedia.objects.count() == 1


def test_standalone_server_urls_have_no_prefix(tuya, make_device, settings, monkeypatch):
    from tests.simulator import conftest, helpers

    settings.ROOT_URLCONF = "locks.simulator.standalone_urls"  # `manage.py tuya_simulator` serves at the root
    monkeypatch.setattr(conftest, "PREFIX", "")
    monkeypatch.setattr(helpers, "PREFIX", "")
    device = make_device("wifi_video")
    event = world(device.id, "doorbell")["events"][0]
    assert event["file_url"].startswith("http://testserver/_sim/media/")
    (record,) = tuya.ok(
        "GET", f"/v1.1/devices/{device.id}/door-lock/alarm-logs", {"page_no": 1, "page_size": 5, "show_media_info": 1}
    )["records"]
    assert record["media_infos"][0]["file_url"] == event["file_url"]
    assert _jpeg(event["file_url"], event["file_key"]).format == "JPEG"
