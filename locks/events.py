"""Unlock and alert records from the cloud: synced per lock, stored exactly once (the cloud's `EventPage`s of
`CloudEvent`s, locks/cloud/port.py, linked to our codes and users by locks/event_records.py).

Which listings a lock has comes from the spec's "Applicable lock types": unlock and alert records (v1.1 open-logs
and alarm-logs, with media infos) for ordinary locks, access-control records (`records`) for access-control
devices; the older listing (`compat`: the v1.0 endpoints) is the fallback when a legacy lock answers the current
one with `Unsupported`. A keepalive Wi-Fi lock is listed under none of them.

Each stream of a lock has a SyncCursor. A time-ranged stream (open-logs, records) is read from the cursor minus
an overlap, oldest page first: the cloud sorts newest first, so we ask for the last page and walk back, and the
cursor moves after each page is committed. A crash between pages resumes from there; the overlap and the unique
(lock, natural_key) make re-reading harmless. alarm-logs has no time range: it is read newest first until a page
reaches the cursor, and the cursor moves once the walk is done.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import django_rq
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_noop
from redis.exceptions import RedisError

from locks import alerts, queues
from locks.cloud import port
from locks.cloud.accounts import cloud_for
from locks.cloud.port import CloudEvent, EventPage, LockCloud, MediaRef
from locks.event_records import Linker
from locks.models import EventMedia, Lock, LockEvent, LockKind, SyncCursor, failed
from locks.words import Words
from webhooks import payloads
from webhooks.emit import emit

logger = logging.getLogger(__name__)

OPEN_LOGS, ALARM_LOGS, RECORDS = "open-logs", "alarm-logs", "records"
PAGE_SIZE = 100  # the largest page the spec's samples show
MAX_PAGES = 2000  # per stream and run: a runaway cloud cannot keep a worker forever
WALK_ATTEMPTS = 3  # re-walks when the record count changes under us (a lock uploading its offline backlog)

_OPEN_LOG_KINDS = frozenset(
    {LockKind.WIFI, LockKind.ZIGBEE_HOTEL, LockKind.BLE, LockKind.BLE_GATEWAY, LockKind.WIFI_VIDEO}
)
_ALARM_LOG_KINDS = _OPEN_LOG_KINDS | {LockKind.ZIGBEE}

# Every event code an access-control device's records are asked for (the listing needs an explicit list).
UNLOCK_CODES = (
    "unlock_fingerprint",
    "unlock_password",
    "unlock_temporary",
    "unlock_dynamic",
    "unlock_card",
    "unlock_face",
    "unlock_key",
    "unlock_app",
    "unlock_hand",
    "unlock_finger_vein",
    "unlock_identity_card",
    "unlock_emergency",
    "unlock_telecontrol_kit",
    "unlock_offline_pd",
    "unlock_offline_clear",
    "unlock_offline_clear_single",
)
ALARM_CODES = ("alarm_lock", "hijack", "doorbell")


def streams_for(kind: str) -> tuple[str, ...]:
    if kind == LockKind.ACCESS_CONTROL:
        return (RECORDS,)
    return tuple(s for s, kinds in ((OPEN_LOGS, _OPEN_LOG_KINDS), (ALARM_LOGS, _ALARM_LOG_KINDS)) if kind in kinds)


# --- storing ------------------------------------------------------------------------------------------------------


def _media_rows(event: LockEvent, infos: Iterable[MediaRef]) -> list[EventMedia]:
    rows = []
    for position, info in enumerate(infos):
        reason: Words | None = None
        if info.file_url and not info.file_key:
            reason = Words(gettext_noop("The cloud sent this photo without its file key."))
        elif not info.file_url:
            reason = Words(gettext_noop("The cloud sent a media entry without a file URL."))
        status = EventMedia.Status.FAILED if reason is not None else EventMedia.Status.PENDING
        rows.append(
            EventMedia(
                organisation_id=event.organisation_id,
                event=event,
                position=position,
                file_url=info.file_url,
                file_key=info.file_key,
                status=status,
                **failed(reason),
            )
        )
    return rows


def store_records(lock: Lock, records: Sequence[CloudEvent]) -> list[LockEvent]:
    """Insert the records not stored yet (one bulk insert) with their media; returns only the new events.

    Call inside a transaction. Another process inserting the same record at the same moment is harmless
    (ignore_conflicts), and the per-lock sync lock in the job keeps that from happening in practice.
    """
    unique: dict[str, CloudEvent] = {}
    for record in records:
        unique.setdefault(record.natural_key, record)  # a record the cloud sent twice is stored once
    if not unique:
        return []
    known = set(LockEvent.objects.filter(lock=lock, natural_key__in=list(unique)).values_list("natural_key", flat=True))
    fresh = [r for k, r in unique.items() if k not in known]
    if not fresh:
        return []
    linker = Linker(lock, fresh)
    LockEvent.objects.bulk_create([linker.event(r) for r in fresh], ignore_conflicts=True)
    # Read back for their ids (ignore_conflicts leaves them unset); the lock is ours already, so no join (its
    # encrypted fields would be decrypted once per row).
    saved = {
        e.natural_key: e for e in LockEvent.objects.filter(lock=lock, natural_key__in=[r.natural_key for r in fresh])
    }
    for event in saved.values():
        event.lock = lock
    media = [
        row for r in fresh if r.media and r.natural_key in saved for row in _media_rows(saved[r.natural_key], r.media)
    ]
    if media:
        EventMedia.objects.bulk_create(media, ignore_conflicts=True)
        pending = list(
            EventMedia.objects.filter(event__in=saved.values(), status=EventMedia.Status.PENDING).values_list(
                "pk", flat=True
            )
        )
        if pending:
            transaction.on_commit(lambda: _enqueue_media(pending))
    new = sorted(saved.values(), key=lambda e: (e.occurred_at, e.pk))
    for event in new:
        if event.category == LockEvent.Category.UNLOCK:  # stored just now: told once, never on a re-read
            emit(lock.organisation_id, "lock.unlocked", payloads.unlock(event))
    return new


def _enqueue_media(media_ids: list[int]) -> None:
    for media_id in media_ids:
        queues.enqueue_media(media_id)


# --- the walk -----------------------------------------------------------------------------------------------------


@dataclass
class SyncResult:
    """What one sync of one lock did; `notes` are recorded reasons (skipped records, short pages)."""

    lock_id: int
    new: int = 0
    calls: int = 0
    notes: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


PageHook = Callable[[str, int, list[LockEvent]], None]


class _Stream:
    """One stream of one lock in one run: fetch pages, store them, move the cursor."""

    def __init__(self, cloud: LockCloud, lock: Lock, cursor: SyncCursor, result: SyncResult, hook: PageHook | None):
        self.cloud, self.lock, self.cursor, self.result, self.hook = cloud, lock, cursor, result, hook
        self.now = timezone.now()
        overlap = timedelta(seconds=int(getattr(settings, "EVENTS_SYNC_OVERLAP_SECONDS", 900)))
        lookback = timedelta(days=int(getattr(settings, "EVENTS_SYNC_LOOKBACK_DAYS", 30)))
        self.since = cursor.last_event_at - overlap if cursor.last_event_at else self.now - lookback
        self.page_size = min(PAGE_SIZE, int(getattr(settings, "EVENTS_SYNC_PAGE_SIZE", PAGE_SIZE)))
        self.legacy = False  # switched on when the current listing answers Unsupported
        self.notes: list[str] = []

    def fetch(self, page_no: int) -> EventPage:
        self.result.calls += 1
        try:
            return self._fetch(page_no)
        except port.Unsupported:
            if self.legacy or self.cursor.stream == RECORDS:
                raise
            self.legacy = True
            self.result.calls += 1
            return self._fetch(page_no)

    def _fetch(self, page_no: int) -> EventPage:
        lock, stream, size = self.lock, self.cursor.stream, self.page_size
        if stream == OPEN_LOGS:
            return self.cloud.unlock_page(
                lock, since=self.since, until=self.now, page_no=page_no, page_size=size, compat=self.legacy
            )
        if stream == ALARM_LOGS:
            return self.cloud.alert_page(lock, page_no=page_no, page_size=size, compat=self.legacy)
        return self.cloud.access_record_page(
            lock, codes=UNLOCK_CODES + ALARM_CODES, since=self.since, until=self.now, page_no=page_no, page_size=size
        )

    def events_of(self, page: EventPage) -> Sequence[CloudEvent]:
        """The page's events; the records it could not read are noted with the reason."""
        self.notes += [f"skipped {reason}" for reason in page.skipped]
        return page.events

    def store(self, page_no: int, records: Sequence[CloudEvent], *, advance: bool) -> None:
        with transaction.atomic():
            new = store_records(self.lock, records)
            if advance and records:
                newest = min(max(r.occurred_at for r in records), self.now)
                if self.cursor.last_event_at is None or newest > self.cursor.last_event_at:
                    self.cursor.last_event_at = newest
                    self.cursor.save(update_fields=["last_event_at"])
        self.result.new += len(new)
        if new:
            try:
                alerts.on_new_events(new)
            except Exception:  # an alerting bug must not stop the sync; the events are stored
                logger.exception("on_new_events failed for lock %s", self.lock.pk)
        if self.hook:
            self.hook(self.cursor.stream, page_no, new)

    def run(self) -> None:
        if self.cursor.stream == ALARM_LOGS:
            self.walk_newest_first()
        else:
            self.walk_oldest_first()

    def walk_oldest_first(self) -> None:
        """Ask for the last page of the window and walk back to the first, moving the cursor page by page."""
        for _ in range(WALK_ATTEMPTS):
            first = self.fetch(1)
            total = first.total
            if total is None:  # no count to walk back from: newest first, cursor at the end
                self.walk_newest_first(first=first)
                return
            pages = min(MAX_PAGES, max(1, math.ceil(total / self.page_size)))
            advance = True
            changed = False
            for page_no in range(pages, 1, -1):
                page = self.fetch(page_no)
                if page.total is not None and page.total != total:
                    changed = True  # records arrived mid-walk (an offline lock's backlog): walk again
                    break
                last_page = total - self.page_size * (pages - 1)
                expected = self.page_size if page_no < pages else min(self.page_size, last_page)
                if page.received < expected:
                    # A short page: something older may be missing, so the cursor stays put and we re-read it.
                    self.notes.append(f"page {page_no} of {pages} had {page.received} of {expected} records")
                    advance = False
                self.store(page_no, self.events_of(page), advance=advance)
            if changed:
                continue
            self.store(1, self.events_of(first), advance=advance)
            return
        self.notes.append("the record count kept changing during the sync; the rest comes next time")

    def walk_newest_first(self, first: EventPage | None = None) -> None:
        """Page from the newest until a page reaches the cursor; the cursor moves once the walk is done."""
        newest: datetime | None = None
        page_no = 1
        while page_no <= MAX_PAGES:
            page = first if (first is not None and page_no == 1) else self.fetch(page_no)
            records = self.events_of(page)
            self.store(page_no, records, advance=False)
            if records:
                top = max(r.occurred_at for r in records)
                newest = top if newest is None else max(newest, top)
            reached = any(r.occurred_at < self.since for r in records)
            if reached or page.received < self.page_size or page.has_more is False:
                break
            if page.total is not None and page_no * self.page_size >= page.total:
                break
            page_no += 1
        if newest is not None:
            newest = min(newest, self.now)
            if self.cursor.last_event_at is None or newest > self.cursor.last_event_at:
                self.cursor.last_event_at = newest
                self.cursor.save(update_fields=["last_event_at"])


def _backoff(failures: int) -> timedelta:
    return timedelta(seconds=min(3600, 60 * 2 ** max(0, failures - 1)))


def _failed(cursor: SyncCursor, error: port.CloudError) -> str:
    reason = f"{error} {error.hint}"[:300]
    cursor.failures += 1
    cursor.last_error = reason
    cursor.retry_at = timezone.now() + _backoff(cursor.failures)
    cursor.last_synced_at = timezone.now()
    cursor.save(update_fields=["failures", "last_error", "retry_at", "last_synced_at"])
    return reason


def _succeeded(cursor: SyncCursor, notes: list[str]) -> None:
    cursor.failures = 0
    cursor.retry_at = None
    cursor.last_error = "; ".join(dict.fromkeys(notes))[:300]
    cursor.last_synced_at = timezone.now()
    cursor.save(update_fields=["failures", "last_error", "retry_at", "last_synced_at"])


def sync_lock(lock: Lock, *, cloud: LockCloud | None = None, on_page: PageHook | None = None) -> SyncResult:
    """Read every stream of one lock from its cursor; store new records once; note failures on the cursor.

    A cloud error ends that stream's run with `last_error` and a growing back-off on its cursor; a rate limit
    (after the client's own retries) ends the whole run, so the lock does not keep hammering the project.
    """
    cloud = cloud or cloud_for(lock.cloud_account)
    result = SyncResult(lock_id=lock.pk)
    for stream in streams_for(lock.kind):
        cursor, _ = SyncCursor.objects.get_or_create(lock=lock, stream=stream)
        walk = _Stream(cloud, lock, cursor, result, on_page)
        try:
            walk.run()
        except port.CloudError as error:
            result.errors[stream] = _failed(cursor, error)
            logger.warning("events sync of lock %s (%s) failed: %s", lock.pk, stream, type(error).__name__)
            if isinstance(error, port.RateLimited):
                break
            continue
        result.notes += walk.notes
        _succeeded(cursor, walk.notes)
    return result


def safety_net_deadline(now: datetime | None = None) -> datetime:
    """A stream last read before this, without failing since, is later than the events safety net promises: the
    project's call budget or its workers do not keep up (a failing stream has its own error and back-off)."""
    cadence = settings.EVENTS_SAFETY_NET_SECONDS + settings.EVENTS_SYNC_INTERVAL_SECONDS
    return (now or timezone.now()) - timedelta(seconds=cadence)


def due_lock_ids(now: datetime | None = None) -> list[int]:
    """Locks with a stream to sync, not waiting out a back-off, and due at their cadence: every interval for a lock
    whose project has no live push connection; otherwise push tells us of its events (an events sync at once,
    push.py), so it is polled every EVENTS_ACTIVE_POLL_SECONDS while it had an event lately (EVENTS_ACTIVE_SECONDS)
    and every EVENTS_SAFETY_NET_SECONDS when quiet. Polling busy pushed locks every interval cost most of a fleet's
    calls (bench/fleet_bench.py: 67 of 77 calls/s at 100k locks) for records push had already brought."""
    now = now or timezone.now()
    kinds = [k for k in LockKind.values if streams_for(k)]
    waiting = SyncCursor.objects.filter(retry_at__gt=now).values_list("lock_id", flat=True)
    candidates = Lock.objects.filter(kind__in=kinds).exclude(pk__in=waiting)
    pushed = pushed_account_ids(candidates.values_list("cloud_account_id", flat=True).distinct())
    if pushed:
        cursors = SyncCursor.objects.filter(lock=OuterRef("pk"))
        safety_net = now - timedelta(seconds=int(settings.EVENTS_SAFETY_NET_SECONDS))
        active = now - timedelta(seconds=int(settings.EVENTS_ACTIVE_SECONDS))
        active_poll = now - timedelta(seconds=int(settings.EVENTS_ACTIVE_POLL_SECONDS))
        candidates = candidates.filter(
            ~Q(cloud_account_id__in=pushed)
            | ~Exists(cursors.filter(last_synced_at__gte=safety_net))
            | Exists(cursors.filter(last_event_at__gte=active).exclude(last_synced_at__gte=active_poll))
        )
    return list(candidates.order_by("pk").values_list("pk", flat=True))


def pushed_account_ids(account_ids: Iterable[int | None]) -> list[int]:
    """The cloud accounts whose push connection is alive now (its consumer renews a marker, locks/push.py)."""
    ids = [account_id for account_id in account_ids if account_id is not None]
    if not ids:
        return []
    try:
        alive = django_rq.get_connection(queues.SYNC_QUEUE).mget([queues.push_alive_marker(i) for i in ids])
    except RedisError:
        return []  # not knowing means polling every lock, as without push
    return [account_id for account_id, marker in zip(ids, alive, strict=True) if marker is not None]
