"""Unlock and alert records, their photos and videos, albums and video view counts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any

from ._base import (
    Ack,
    ApiGroup,
    MediaInfo,
    Page,
    Route,
    StatusItem,
    as_dict,
    as_list,
    endpoint,
    epoch_millis,
    epoch_seconds,
    invalid,
    media_infos,
    page_from,
    pick,
    require_bool,
    require_codes,
    require_enum,
    require_id,
    require_page,
    require_window,
    result_of,
    status_items,
    to_int,
    to_opt_int,
    to_str,
)

Timestamp = int | datetime

OPEN_LOGS = Route("GET", "/v1.0/devices/{device_id}/door-lock/open-logs")
OPEN_LOGS_V11 = Route("GET", "/v1.1/devices/{device_id}/door-lock/open-logs")
ALARM_LOGS = Route("GET", "/v1.0/devices/{device_id}/door-lock/alarm-logs")
ALARM_LOGS_V11 = Route("GET", "/v1.1/devices/{device_id}/door-lock/alarm-logs")
RECORDS = Route("GET", "/v1.0/devices/{device_id}/door-lock/records")
RECORD_ALLOCATE = Route("POST", "/v1.0/devices/{device_id}/door-lock/records/{record_id}/actions/allocate")
LATEST_MEDIA = Route("GET", "/v1.0/devices/{device_id}/door-lock/latest/media/url")
ALBUMS = Route("GET", "/v1.0/smart-lock/devices/{device_id}/albums-media")
MEDIA_VIEWS_GET = Route("GET", "/v1.0/smart-lock/devices/{device_id}/media-view-times")
MEDIA_VIEWS_ADD = Route("POST", "/v1.0/smart-lock/devices/{device_id}/media-view-times")


class MediaFileType(IntEnum):
    """`file_type` of the latest cover image: 1 remote unlocking, 2 alert."""

    REMOTE_UNLOCK = 1
    ALERT = 2


@dataclass(frozen=True)
class OpenLog:
    """One unlocking record; `status` holds the DP code used (unlock_fingerprint, ...) and its value."""

    status: tuple[StatusItem, ...]
    update_time: int
    unlock_name: str
    user_id: str
    nick_name: str
    media_infos: tuple[MediaInfo, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> OpenLog:
        return cls(
            status=status_items(data.get("status")),
            update_time=to_int(data.get("update_time")),
            unlock_name=to_str(data.get("unlock_name")),
            user_id=to_str(data.get("user_id")),
            nick_name=to_str(pick(data, "nick_name", "nickName")),
            media_infos=media_infos(data.get("media_infos")),
            raw=data,
        )


@dataclass(frozen=True)
class AlarmLog:
    """One alert record (alarm_lock, hijack, doorbell, ...)."""

    status: tuple[StatusItem, ...]
    update_time: int
    nick_name: str
    media_infos: tuple[MediaInfo, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> AlarmLog:
        return cls(
            status=status_items(data.get("status")),
            update_time=to_int(data.get("update_time")),
            nick_name=to_str(pick(data, "nick_name", "nickName")),
            media_infos=media_infos(data.get("media_infos")),
            raw=data,
        )


@dataclass(frozen=True)
class UnionUnlock:
    """One part of a combination unlocking."""

    user_name: str
    opmode: str
    unlock_name: str


@dataclass(frozen=True)
class LockRecord:
    """An alert (`record_type` alarm) or unlocking (normal) record of an access-control device."""

    record_id: str
    record_type: str
    unlock_name: str
    gmt_create: int
    dps: tuple[dict[str, Any], ...]
    media_infos: tuple[MediaInfo, ...]
    union_unlock_info: tuple[UnionUnlock, ...]
    avatar: str
    member_bindable_flag: int | None
    user_id: str
    user_name: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> LockRecord:
        return cls(
            record_id=to_str(data.get("record_id")),
            record_type=to_str(data.get("record_type")),
            unlock_name=to_str(data.get("unlock_name")),
            gmt_create=to_int(data.get("gmt_create")),
            dps=tuple(as_dict(item) for item in as_list(data.get("dps"))),
            media_infos=media_infos(data.get("media_info_list")),
            union_unlock_info=tuple(
                UnionUnlock(
                    user_name=to_str(item.get("user_name")),
                    opmode=to_str(item.get("opmode")),
                    unlock_name=to_str(item.get("unlock_name")),
                )
                for item in map(as_dict, as_list(data.get("union_unlock_info")))
            ),
            avatar=to_str(data.get("avatar")),
            member_bindable_flag=to_opt_int(data.get("member_bindable_flag")),
            user_id=to_str(data.get("user_id")),
            user_name=to_str(data.get("user_name")),
            raw=data,
        )


@dataclass(frozen=True)
class LatestMedia:
    """The cover image of the last remote unlocking or alert; `file_key` decrypts it."""

    file_url: str
    file_key: str = field(repr=False)
    bucket: str
    file_path: str
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class AlbumMedia:
    """One album entry (event_type 0 anti-pry ... 28 remote control, per the spec's table)."""

    event_type: int | None
    file_id: str
    file_url: str
    file_key: str = field(repr=False)
    media_path: str
    media_key: str = field(repr=False)
    media_bucket: str
    upload_time: int
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> AlbumMedia:
        # The spec's table is camelCase and its sample snake_case: read both.
        return cls(
            event_type=to_opt_int(pick(data, "event_type", "eventType")),
            file_id=to_str(pick(data, "file_id", "fileId")),
            file_url=to_str(pick(data, "file_url", "fileUrl")),
            file_key=to_str(pick(data, "file_key", "fileKey")),
            media_path=to_str(pick(data, "media_path", "mediaPath")),
            media_key=to_str(pick(data, "media_key", "mediaKey")),
            media_bucket=to_str(pick(data, "media_bucket", "mediaBucket")),
            upload_time=to_int(pick(data, "upload_time", "uploadTime")),
            raw=data,
        )


@dataclass(frozen=True)
class AlbumList:
    items: tuple[AlbumMedia, ...]
    event_types: tuple[int, ...]
    order_code: str
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class ViewCount:
    """The number of video views of the lock."""

    count: int
    raw: dict[str, Any] = field(repr=False, compare=False)


# Spec sections "Query unlocking records", "Get alert records", "Get the alert records and unlocking records",
# "Link a specified record with a user", "Get cover image ...", "Get a list of albums", "Query video views".
class RecordsApi(ApiGroup):
    """Unlock and alert history and media."""

    @endpoint(OPEN_LOGS)
    def list_open_logs(
        self,
        device_id: str,
        *,
        start_time: Timestamp,
        end_time: Timestamp,
        page_no: int = 1,
        page_size: int = 20,
    ) -> Page[OpenLog]:
        """Query the unlocking records (legacy; times in seconds, as the spec's sample)."""
        path = {"device_id": require_id(device_id, "device_id")}
        number, size = require_page(page_no, page_size)
        start, end = require_window(start_time, end_time, ("start_time", "end_time"), epoch_seconds)
        query = {"page_no": number, "page_size": size, "start_time": start, "end_time": end}
        return page_from(self._send(OPEN_LOGS, path, query=query), "logs", OpenLog.from_api)

    @endpoint(OPEN_LOGS_V11)
    def list_open_logs_v11(
        self,
        device_id: str,
        *,
        start_time: Timestamp,
        end_time: Timestamp,
        page_no: int = 1,
        page_size: int = 20,
        show_media_info: bool | None = None,
    ) -> Page[OpenLog]:
        """Query the unlocking records (v1.1; times in milliseconds, as the spec's sample)."""
        path = {"device_id": require_id(device_id, "device_id")}
        number, size = require_page(page_no, page_size)
        start, end = require_window(start_time, end_time, ("start_time", "end_time"), epoch_millis)
        query: dict[str, Any] = {"page_no": number, "page_size": size, "start_time": start, "end_time": end}
        if show_media_info is not None:
            query["showMediaInfo"] = require_bool(show_media_info, "show_media_info")  # the table's spelling
        return page_from(self._send(OPEN_LOGS_V11, path, query=query), "logs", OpenLog.from_api)

    @endpoint(ALARM_LOGS)
    def list_alarm_logs(
        self,
        device_id: str,
        *,
        page_no: int = 1,
        page_size: int = 20,
        dp_codes: str | Iterable[str] | None = None,
    ) -> Page[AlarmLog]:
        """Get the alert records (legacy); common alerts unless dp_codes are given."""
        path = {"device_id": require_id(device_id, "device_id")}
        number, size = require_page(page_no, page_size)
        query: dict[str, Any] = {"page_no": number, "page_size": size}
        if dp_codes is not None:
            query["dp_codes"] = require_codes(dp_codes, "dp_codes")
        return page_from(self._send(ALARM_LOGS, path, query=query), "records", AlarmLog.from_api)

    @endpoint(ALARM_LOGS_V11)
    def list_alarm_logs_v11(
        self,
        device_id: str,
        *,
        page_no: int = 1,
        page_size: int = 20,
        codes: str | Iterable[str] | None = None,
        show_media_info: bool | None = None,
    ) -> Page[AlarmLog]:
        """Get the alert records (v1.1, with media); common alerts unless codes are given."""
        path = {"device_id": require_id(device_id, "device_id")}
        number, size = require_page(page_no, page_size)
        query: dict[str, Any] = {"page_no": number, "page_size": size}
        if codes is not None:
            query["codes"] = require_codes(codes, "codes")
        if show_media_info is not None:
            query["show_media_info"] = require_bool(show_media_info, "show_media_info")
        return page_from(self._send(ALARM_LOGS_V11, path, query=query), "records", AlarmLog.from_api)

    @endpoint(RECORDS)
    def list_records(
        self,
        device_id: str,
        *,
        dp_codes: str | Iterable[str],
        start_time: Timestamp = 0,
        end_time: Timestamp = 0,
        page_no: int = 1,
        page_size: int = 20,
    ) -> Page[LockRecord]:
        """Get the alert records and unlocking records (0 and 0 for no time range; else milliseconds)."""
        path = {"device_id": require_id(device_id, "device_id")}
        codes = require_codes(dp_codes, "target_standard_dp_codes")
        number, size = require_page(page_no, page_size)
        if start_time == 0 and end_time == 0 and not isinstance(start_time, bool | datetime):
            start, end = 0, 0
        elif start_time == 0 or end_time == 0:
            raise invalid("start_time and end_time are both 0 (no time range) or both set.")
        else:
            start, end = require_window(start_time, end_time, ("start_time", "end_time"), epoch_millis)
        query = {
            "target_standard_dp_codes": codes,
            "start_time": start,
            "end_time": end,
            "page_no": number,
            "page_size": size,
        }
        return page_from(self._send(RECORDS, path, query=query), "records", LockRecord.from_api)

    # Linking a record to a user sets an absolute link: a repeat changes nothing.
    @endpoint(RECORD_ALLOCATE)
    def allocate_record(self, device_id: str, record_id: str, user_id: str) -> Ack:
        """Link a specified record with a user."""
        path = {"device_id": require_id(device_id, "device_id"), "record_id": require_id(record_id, "record_id")}
        body = {"user_id": require_id(user_id, "user_id")}
        return Ack.from_envelope(self._send(RECORD_ALLOCATE, path, body=body, idempotent=True))

    @endpoint(LATEST_MEDIA)
    def get_latest_media(self, device_id: str, file_type: MediaFileType | int) -> LatestMedia:
        """Get the cover image of the last remote unlocking or alert."""
        path = {"device_id": require_id(device_id, "device_id")}
        query = {"file_type": require_enum(MediaFileType, file_type, "file_type").value}
        envelope = self._send(LATEST_MEDIA, path, query=query)
        data = as_dict(result_of(envelope))
        return LatestMedia(
            file_url=to_str(data.get("file_url")),
            file_key=to_str(data.get("file_key")),
            bucket=to_str(data.get("bucket")),
            file_path=to_str(data.get("file_path")),
            raw=envelope,
        )

    @endpoint(ALBUMS)
    def list_albums(self, device_id: str) -> AlbumList:
        """Get a list of albums."""
        envelope = self._send(ALBUMS, {"device_id": require_id(device_id, "device_id")})
        data = as_dict(result_of(envelope))
        return AlbumList(
            items=tuple(AlbumMedia.from_api(as_dict(i)) for i in as_list(pick(data, "album_list", "albumList"))),
            event_types=tuple(
                to_int(i) for i in as_list(pick(data, "event_types", "eventTypes")) if not isinstance(i, dict)
            ),
            order_code=to_str(pick(data, "order_code", "orderCode")),
            raw=envelope,
        )

    @endpoint(MEDIA_VIEWS_GET)
    def get_media_view_times(self, device_id: str) -> ViewCount:
        """Query the video views of the current lock."""
        envelope = self._send(MEDIA_VIEWS_GET, {"device_id": require_id(device_id, "device_id")})
        return ViewCount(count=to_int(result_of(envelope)), raw=envelope)

    # Never repeated automatically: each call adds one view.
    @endpoint(MEDIA_VIEWS_ADD)
    def add_media_view(self, device_id: str) -> ViewCount:
        """Add one video view to the lock's video views."""
        envelope = self._send(MEDIA_VIEWS_ADD, {"device_id": require_id(device_id, "device_id")}, idempotent=False)
        return ViewCount(count=to_int(result_of(envelope)), raw=envelope)
