"""Unlock records, alert records, access-control records and the media endpoints (spec "Query unlocking records" …).

Records are SimEvents the world wrote (locks.simulator.lockstate); the newest come first.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from locks.simulator import dpcodes, listing, media
from locks.simulator.errors import TuyaError
from locks.simulator.models import SimEvent, SimMediaView

if TYPE_CHECKING:
    from locks.simulator.api import Call

ALBUM_RETENTION = timedelta(days=3)  # order_code cloud_free_storage_3day
LATEST_MEDIA_WINDOW = timedelta(seconds=90)  # "the unlocking or alert media in the last 90 seconds"


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _events(call: Call, kinds: set[str] | frozenset[str], start_ms: int = 0, end_ms: int = 0) -> QuerySet[SimEvent]:
    # Entries an offline lock still keeps to itself are not in the cloud yet.
    rows = call.dev.events.filter(kind__in=kinds, uploaded=True).select_related("user", "media", "method")
    if start_ms:
        rows = rows.filter(created_at__gte=datetime.fromtimestamp(start_ms / 1000, dt_timezone.utc))
    if end_ms:
        rows = rows.filter(created_at__lte=datetime.fromtimestamp(end_ms / 1000, dt_timezone.utc))
    return rows.order_by("-created_at", "-id")


def value(event: SimEvent) -> str:
    # delivery.type_code writes unlock_temporary without dp_value: its value is the password id (spec).
    if not event.dp_value and event.kind == "unlock_temporary" and event.password_id is not None:
        return str(event.password_id)
    return event.dp_value


def _who(event: SimEvent) -> tuple[str, str]:
    user = event.user
    return (user.user_id, user.nick_name) if user is not None else ("0", "")


def _range(call: Call, *, zero_means_open: bool) -> tuple[int, int]:
    start, end = listing.time_ms(call.query, "start_time"), listing.time_ms(call.query, "end_time")
    if (end or not zero_means_open) and start > end:
        raise TuyaError(1101, "start_time must not be after end_time")
    return start, end


# --- unlock records -----------------------------------------------------------------------------------------


def _open_log(call: Call, event: SimEvent, *, with_media: bool) -> dict[str, Any]:
    user_id, nick_name = _who(event)
    row: dict[str, Any] = {
        "status": {"code": event.kind, "value": value(event)},
        "update_time": _ms(event.created_at),
        "unlock_name": event.unlock_name,
        "user_id": user_id,
        "nick_name": nick_name,
    }
    if with_media:
        row["media_infos"] = media.info(call.base_url, event.media)
    return row


def _open_logs(call: Call, *, with_media: bool) -> dict[str, Any]:
    page_no, page_size = listing.page(call.query)
    start, end = _range(call, zero_means_open=False)
    rows = list(_events(call, dpcodes.UNLOCK_CODES, start, end))
    chunk, meta = listing.slice_page(rows, page_no, page_size)
    return {"total": meta["total"], "logs": [_open_log(call, e, with_media=with_media) for e in chunk]}


def open_logs(call: Call) -> dict[str, Any]:
    return _open_logs(call, with_media=False)


def open_logs_v11(call: Call) -> dict[str, Any]:
    # The table names it showMediaInfo, the sample show_media_info: listing reads both.
    return _open_logs(call, with_media=listing.boolean(call.query, "show_media_info"))


# --- alert records ------------------------------------------------------------------------------------------


def _alarm_events(call: Call, name: str) -> list[SimEvent]:
    codes = dpcodes.code_list(str(listing.get(call.query, name) or ""), dpcodes.ALARM_CODES, name)
    return list(_events(call, set(codes) or dpcodes.ALARM_CODES))


def alarm_logs(call: Call) -> dict[str, Any]:
    page_no, page_size = listing.page(call.query)
    chunk, meta = listing.slice_page(_alarm_events(call, "dp_codes"), page_no, page_size)
    records = []
    for event in chunk:
        _, nick_name = _who(event)
        # The v1.0 sample shows one status object and update_time in seconds; its table names nickName.
        records.append(
            {
                "status": {"code": event.kind, "value": value(event)},
                "update_time": int(event.created_at.timestamp()),
                "nickName": nick_name,
                "nick_name": nick_name,
            }
        )
    return {"total": meta["total"], "records": records}


def alarm_logs_v11(call: Call) -> dict[str, Any]:
    page_no, page_size = listing.page(call.query)
    with_media = listing.boolean(call.query, "show_media_info")
    chunk, meta = listing.slice_page(_alarm_events(call, "codes"), page_no, page_size)
    records = []
    for event in chunk:
        _, nick_name = _who(event)
        row: dict[str, Any] = {
            "status": [{"code": event.kind, "value": value(event)}],  # a list in v1.1 (sample)
            "update_time": _ms(event.created_at),
            "nick_name": nick_name,
        }
        if with_media:
            row["media_infos"] = media.info(call.base_url, event.media)
        records.append(row)
    return {"total": meta["total"], "records": records}


# --- access-control records ---------------------------------------------------------------------------------


def record_id(event: SimEvent) -> str:
    return f"{_ms(event.created_at):x}-{event.pk}"


def _bindable(event: SimEvent) -> bool:
    """Only an unlock by an enrolled method that no user holds can be linked to a user."""
    return event.kind in dpcodes.METHOD_CODES and event.user_id is None


def records(call: Call) -> dict[str, Any]:
    raw = listing.get(call.query, "target_standard_dp_codes")
    if raw is None:
        raise TuyaError(1100, "target_standard_dp_codes")
    codes = dpcodes.code_list(str(raw), dpcodes.UNLOCK_CODES | dpcodes.ALARM_CODES, "target_standard_dp_codes")
    start, end = _range(call, zero_means_open=True)
    page_no, page_size = listing.page(call.query)
    chunk, meta = listing.slice_page(list(_events(call, set(codes), start, end)), page_no, page_size)
    rows = []
    for event in chunk:
        user_id, user_name = _who(event)
        rows.append(
            {
                "record_id": record_id(event),
                "record_type": "normal" if event.kind in dpcodes.UNLOCK_CODES else "alarm",
                "gmt_create": _ms(event.created_at),
                "dps": [{event.kind: value(event)}],
                "unlock_name": event.unlock_name,
                "union_unlock_info": [],
                "media_info_list": media.info(call.base_url, event.media),
                "avatar": event.user.avatar_url if event.user else "",
                "member_bindable_flag": 1 if _bindable(event) else 0,
                "user_id": user_id if event.user else "",
                "user_name": user_name,
            }
        )
    return {"has_more": meta["has_more"], "total_pages": meta["total_pages"], "total": meta["total"], "records": rows}


def record_allocate(call: Call) -> bool:
    stamp, _, pk = call.args["record_id"].partition("-")
    event = call.dev.events.filter(pk=int(pk), uploaded=True).first() if pk.isdigit() else None
    if event is None or f"{_ms(event.created_at):x}" != stamp:
        raise TuyaError(1109, "record_id")
    user_id = listing.get(call.body, "user_id")
    if user_id is None:
        raise TuyaError(1100, "user_id")
    user = call.dev.users.filter(user_id=str(user_id), state="active").first()
    if user is None:
        raise TuyaError(2006)
    if not _bindable(event):
        raise TuyaError(2306, "record cannot be linked")
    event.user = user
    event.save(update_fields=["user"])
    method = event.method
    if method is not None and method.user_id is None:
        # Linking the record links its unlocking method: later unlocks by it carry the user.
        method.user, method.ever_allocated = user, True
        method.save(update_fields=["user", "ever_allocated"])
    return True


# --- media --------------------------------------------------------------------------------------------------


def latest_media_url(call: Call) -> dict[str, Any] | None:
    file_type = listing.integer(call.query, "file_type")
    if file_type not in (1, 2):
        raise TuyaError(1101, "file_type must be 1 or 2")
    # 1 = remote unlocking (doorbell / unlock request, and unlocks), 2 = alerts.
    kinds = dpcodes.UNLOCK_CODES | {"doorbell"} if file_type == 1 else frozenset({"alarm_lock", "hijack"})
    event = _events(call, kinds).filter(media__isnull=False, created_at__gte=call.now - LATEST_MEDIA_WINDOW).first()
    if event is None or event.media is None:
        return None
    return {
        "bucket": "sim-storage",
        "file_key": event.media.file_key,
        "file_path": "/" + media.path(event.media),
        "file_url": media.url(call.base_url, event.media),
    }


def albums_media(call: Call) -> dict[str, Any]:
    rows = _events(call, dpcodes.UNLOCK_CODES | dpcodes.ALARM_CODES).filter(
        media__isnull=False, created_at__gte=call.now - ALBUM_RETENTION
    )
    album = []
    for event in rows:
        assert event.media is not None
        album.append(
            {
                "event_type": dpcodes.album_event_type(event.kind, event.dp_value),
                "file_id": event.media.pk,
                "file_key": event.media.file_key,
                "file_url": media.url(call.base_url, event.media),
                "upload_time": int(event.created_at.timestamp()),
            }
        )
    # The sample answers snake_case although the table lists camelCase names.
    return {
        "album_list": album,
        "event_types": sorted({a["event_type"] for a in album}),
        "order_code": "cloud_free_storage_3day",
    }


def media_view_times(call: Call) -> int:
    return SimMediaView.objects.filter(device=call.dev).count()


def media_view_add(call: Call) -> int:
    SimMediaView.objects.create(device=call.dev, created_at=call.now)
    return media_view_times(call)


_D = "/v1.0/devices/{device_id}/door-lock"
_S = "/v1.0/smart-lock/devices/{device_id}"
ROUTES = [
    ("GET", f"{_D}/open-logs", open_logs),
    ("GET", "/v1.1/devices/{device_id}/door-lock/open-logs", open_logs_v11),
    ("GET", f"{_D}/alarm-logs", alarm_logs),
    ("GET", "/v1.1/devices/{device_id}/door-lock/alarm-logs", alarm_logs_v11),
    ("GET", f"{_D}/records", records),
    ("POST", f"{_D}/records/{{record_id}}/actions/allocate", record_allocate),
    ("GET", f"{_D}/latest/media/url", latest_media_url),
    ("GET", f"{_S}/albums-media", albums_media),
    ("GET", f"{_S}/media-view-times", media_view_times),
    ("POST", f"{_S}/media-view-times", media_view_add),
]
