"""api.records: unlock and alert records, record linking, media, albums and view counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from locks.tuya.api import MediaFileType, MediaInfo, StatusItem
from locks.tuya.errors import TuyaServerError

DEV = "6cdb36b2e489885fa57lzm"
KEY = "uwu5m7kvj45av47g"


def test_list_open_logs_v10_in_seconds(api, fake):
    fake.reply(
        {
            "total": 1,
            "logs": [
                {
                    "status": {"code": "unlock_finger", "value": "123456"},
                    "nick_name": "",
                    "unlock_name": "",
                    "update_time": 1612098422000,
                    "user_id": "0",
                }
            ],
        }
    )
    page = api.records.list_open_logs(DEV, start_time=1543213146, end_time=1543213546, page_no=1, page_size=20)
    sent = fake.only()
    assert (sent.method, sent.path) == ("GET", f"/v1.0/devices/{DEV}/door-lock/open-logs")
    assert sent.query == {"page_no": "1", "page_size": "20", "start_time": "1543213146", "end_time": "1543213546"}
    assert page.total == 1
    assert page.has_more is None
    assert page[0].status == (StatusItem("unlock_finger", "123456"),)
    assert page[0].update_time == 1612098422000


def test_list_open_logs_v11_in_milliseconds_with_media(api, fake):
    fake.reply(
        {
            "logs": [
                {
                    "media_infos": [{"file_key": KEY, "file_url": "https://f"}],
                    "status": {"code": "unlock_app", "value": "0"},
                    "update_time": 1613978384000,
                    "user_id": "0",
                }
            ],
            "total": 1,
        }
    )
    page = api.records.list_open_logs_v11(
        DEV,
        start_time=1553053133000,
        end_time=datetime(2021, 2, 22, 15, 48, 58, tzinfo=UTC),
        page_size=3,
        show_media_info=True,
    )
    sent = fake.only()
    assert (sent.method, sent.path) == ("GET", f"/v1.1/devices/{DEV}/door-lock/open-logs")
    assert sent.query == {
        "page_no": "1",
        "page_size": "3",
        "start_time": "1553053133000",
        "end_time": "1614008938000",
        "showMediaInfo": "true",
    }
    assert page[0].media_infos == (MediaInfo(file_url="https://f", file_key=KEY),)
    assert KEY not in repr(page)


def test_list_alarm_logs_v10(api, fake):
    fake.reply(
        {
            "total": 1,
            "records": [{"status": {"code": "hijack", "value": "unlock_fingerprint-02"}, "update_time": 1543297979}],
        }
    )
    page = api.records.list_alarm_logs(DEV, dp_codes=["hijack"])
    sent = fake.only()
    assert (sent.method, sent.path) == ("GET", f"/v1.0/devices/{DEV}/door-lock/alarm-logs")
    assert sent.query == {"page_no": "1", "page_size": "20", "dp_codes": "hijack"}
    assert page[0].status[0].value == "unlock_fingerprint-02"


def test_list_alarm_logs_v11(api, fake):
    fake.reply(
        {
            "records": [
                {
                    "media_infos": [{"file_key": "jxmgqs59gfr899qe", "file_url": "https://cos/"}],
                    "nick_name": "",
                    "status": [{"code": "alarm_lock", "value": "wrong_password"}],
                    "update_time": 1613979671000,
                }
            ],
            "total": 1,
        }
    )
    page = api.records.list_alarm_logs_v11(DEV, codes="doorbell,alarm_lock", show_media_info=True)
    sent = fake.only()
    assert (sent.method, sent.path) == ("GET", f"/v1.1/devices/{DEV}/door-lock/alarm-logs")
    assert sent.query == {"page_no": "1", "page_size": "20", "codes": "doorbell,alarm_lock", "show_media_info": "true"}
    assert page[0].status == (StatusItem("alarm_lock", "wrong_password"),)
    assert page[0].media_infos[0].file_key == "jxmgqs59gfr899qe"


def test_list_alarm_logs_default_sends_no_codes(api, fake):
    fake.reply({"records": []})
    api.records.list_alarm_logs_v11(DEV)
    assert fake.only().query == {"page_no": "1", "page_size": "20"}


def test_list_records(api, fake):
    fake.reply(
        {
            "has_more": False,
            "records": [
                {
                    "avatar": "https://a",
                    "dps": [{"unlock_password": "*"}],
                    "gmt_create": 1624604728299,
                    "member_bindable_flag": 0,
                    "record_id": "162460b8cfcbb6",
                    "record_type": "alarm",
                    "unlock_name": "Password 1",
                    "user_id": "3066",
                    "user_name": "James",
                    "union_unlock_info": [{"user_name": "J", "opmode": "password", "unlock_name": "P"}],
                    "media_info_list": [{"media_url": "https://v", "media_key": "vkey000000000000"}],
                }
            ],
            "total": 1,
            "total_pages": 1,
        }
    )
    page = api.records.list_records(DEV, dp_codes=["unlock_password", "unlock_card"], page_size=10)
    sent = fake.only()
    assert (sent.method, sent.path) == ("GET", f"/v1.0/devices/{DEV}/door-lock/records")
    assert sent.query == {
        "target_standard_dp_codes": "unlock_password,unlock_card",
        "start_time": "0",
        "end_time": "0",
        "page_no": "1",
        "page_size": "10",
    }
    record = page[0]
    assert (page.has_more, page.total_pages, record.record_id, record.record_type) == (
        False,
        1,
        "162460b8cfcbb6",
        "alarm",
    )
    assert record.dps == ({"unlock_password": "*"},)
    assert record.union_unlock_info[0].opmode == "password"
    assert record.media_infos[0].media_key == "vkey000000000000"
    assert "vkey000000000000" not in repr(record)


def test_list_records_with_a_time_range(api, fake):
    fake.reply({"records": [], "has_more": 1})
    page = api.records.list_records(DEV, dp_codes="unlock_card", start_time=1624604728000, end_time=1624606578000)
    assert (fake.only().query["start_time"], fake.only().query["end_time"]) == ("1624604728000", "1624606578000")
    assert page.has_more is True


def test_allocate_record(api, fake):
    assert api.records.allocate_record(DEV, "162315AAXEQDzL", "1980012")
    sent = fake.only()
    assert (sent.method, sent.path, sent.json) == (
        "POST",
        f"/v1.0/devices/{DEV}/door-lock/records/162315AAXEQDzL/actions/allocate",
        {"user_id": "1980012"},
    )


def test_get_latest_media(api, fake):
    fake.reply(
        {
            "bucket": "ty-cn-storage60",
            "file_key": "u8kstrtjm7qun83q",
            "file_path": "/3039e1-30532026.jpg",
            "file_url": "https://ty-cn-storage60.cos",
        }
    )
    media = api.records.get_latest_media(DEV, MediaFileType.REMOTE_UNLOCK)
    sent = fake.only()
    assert (sent.method, sent.path, sent.query) == (
        "GET",
        f"/v1.0/devices/{DEV}/door-lock/latest/media/url",
        {"file_type": "1"},
    )
    assert (media.file_key, media.bucket, media.file_path) == (
        "u8kstrtjm7qun83q",
        "ty-cn-storage60",
        "/3039e1-30532026.jpg",
    )
    assert "u8kstrtjm7qun83q" not in repr(media)


def test_list_albums(api, fake):
    fake.reply(
        {
            "album_list": [
                {
                    "event_type": 0,
                    "file_id": 109167468,
                    "file_key": "76679d2579c74eb7",
                    "file_url": "https://f",
                    "upload_time": 1630051337,
                }
            ],
            "event_types": [0],
            "order_code": "cloud_free_storage_3day",
        }
    )
    albums = api.records.list_albums(DEV)
    sent = fake.only()
    assert (sent.method, sent.path) == ("GET", f"/v1.0/smart-lock/devices/{DEV}/albums-media")
    assert (albums.event_types, albums.order_code) == ((0,), "cloud_free_storage_3day")
    item = albums.items[0]
    assert (item.event_type, item.file_id, item.upload_time, item.file_key) == (
        0,
        "109167468",
        1630051337,
        "76679d2579c74eb7",
    )
    assert "76679d2579c74eb7" not in repr(albums)


def test_list_albums_reads_the_tables_camel_case_too(api, fake):
    fake.reply(
        {"albumList": [{"eventType": 3, "mediaPath": "/v.mp4", "mediaKey": "k"}], "eventTypes": [3], "orderCode": "x"}
    )
    albums = api.records.list_albums(DEV)
    assert (albums.items[0].event_type, albums.items[0].media_path, albums.event_types) == (3, "/v.mp4", (3,))


def test_get_media_view_times(api, fake):
    fake.reply(1)
    result = api.records.get_media_view_times(DEV)
    sent = fake.only()
    assert (sent.method, sent.path) == ("GET", f"/v1.0/smart-lock/devices/{DEV}/media-view-times")
    assert result.count == 1


def test_add_media_view_is_not_retried(api, fake):
    fake.reply(2)
    assert api.records.add_media_view(DEV).count == 2
    sent = fake.only()
    assert (sent.method, sent.path, sent.body) == ("POST", f"/v1.0/smart-lock/devices/{DEV}/media-view-times", None)
    fake.fail(500, "system error")
    with pytest.raises(TuyaServerError):
        api.records.add_media_view(DEV)
    assert len(fake.sent) == 2
