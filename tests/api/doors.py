"""Rows of what happens at a door, made directly in the database for the API's read tests: events with a stored
photo, alerts, remote-unlock requests, lock operations. (The tests with the simulator make theirs for real.)"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.utils import timezone
from PIL import Image

from locks.models import Alert, EventMedia, Lock, LockEvent, LockOperation, RemoteUnlockRequest
from tests.conftest import private_media_in
from tests.locks.conftest import event_place

_keys = itertools.count(1)


def jpeg(width: int = 64, height: int = 48, colour: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="JPEG")
    return out.getvalue()


def event(lock: Lock, *, at: datetime | None = None, **fields: Any) -> LockEvent:
    values: dict[str, Any] = {"category": LockEvent.Category.UNLOCK, "classification": "temporary code"}
    return LockEvent.objects.create(
        organisation_id=lock.organisation_id,
        lock=lock,
        occurred_at=at or timezone.now(),
        natural_key=f"record-{next(_keys)}",
        **{**values, **event_place(lock), **fields},
    )


def stored_photo(on: LockEvent, *, position: int = 0) -> EventMedia:
    """A photo as the media job leaves it: decrypted, both files in private storage."""
    photo = EventMedia.objects.create(
        organisation_id=on.organisation_id, event=on, position=position, file_url="https://example.invalid/p"
    )
    folder = f"events/{on.organisation_id}/{on.lock_id}"
    storage = storages["private_media"]
    storage.save(f"{folder}/{photo.pk}.jpg", ContentFile(jpeg(640, 480)))
    storage.save(f"{folder}/{photo.pk}.thumb.jpg", ContentFile(jpeg(32, 24)))
    EventMedia.objects.filter(pk=photo.pk).update(
        status=EventMedia.Status.DONE,
        original=f"{folder}/{photo.pk}.jpg",
        thumbnail=f"{folder}/{photo.pk}.thumb.jpg",
        content_type="image/jpeg",
    )
    photo.refresh_from_db()
    return photo


def alert(lock: Lock, kind: str = Alert.Kind.TAMPER, **fields: Any) -> Alert:
    now = timezone.now()
    return Alert.objects.create(
        organisation_id=lock.organisation_id,
        lock=lock,
        kind=kind,
        dedup_key=f"{kind}:lock:{lock.pk}:{next(_keys)}",
        message=f"{kind} at {lock.name}",
        first_seen_at=now,
        last_seen_at=now,
        **fields,
    )


def remote_request(lock: Lock, on: LockEvent | None = None) -> RemoteUnlockRequest:
    return RemoteUnlockRequest.objects.create(
        organisation_id=lock.organisation_id, lock=lock, event=on, requested_at=timezone.now()
    )


def offline_operation(lock: Lock, secret: str = "8264019375") -> LockOperation:
    """An offline code the worker has finished: the cloud's code and window stored."""
    start = timezone.now().replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=5)
    window = {"effective_time": int(start.timestamp()), "invalid_time": int(end.timestamp())}
    return LockOperation.objects.create(
        organisation_id=lock.organisation_id,
        lock=lock,
        kind=LockOperation.Kind.OFFLINE_PASSWORD,
        label="Plumber",
        params={"type": "multiple", **window},
        result={"password_id": "41", **window},
        secret=secret,
        status=LockOperation.Status.DONE,
        finished_at=timezone.now(),
    )


@dataclass(frozen=True)
class Activity:
    lock: Lock
    event: LockEvent
    photo: EventMedia
    alert: Alert
    request: RemoteUnlockRequest
    operation: LockOperation

    def ids(self) -> dict[str, int]:
        return {
            "lock": self.lock.pk,
            "event": self.event.pk,
            "photo": self.photo.pk,
            "alert": self.alert.pk,
            "request": self.request.pk,
            "operation": self.operation.pk,
        }


def activity(lock: Lock) -> Activity:
    """One of each: a doorbell event with its photo, its remote-unlock request, an alert, an offline code."""
    doorbell = event(lock, category=LockEvent.Category.ALARM, classification="doorbell", dp_code="doorbell")
    return Activity(
        lock=lock,
        event=doorbell,
        photo=stored_photo(doorbell),
        alert=alert(lock),
        request=remote_request(lock, doorbell),
        operation=offline_operation(lock),
    )


def private_media(settings: Any, tmp_path: Path) -> Path:
    return private_media_in(settings, tmp_path / "private")
