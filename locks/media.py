"""Photos that locks take with an event: download, decrypt, check it is an image, keep the original and a thumbnail.

The cloud gives a short-lived URL and a file key per photo (open-logs / alarm-logs media infos). A job on the
`media` queue fetches it (a real HTTP GET with a timeout and a size cap), has the account's cloud decrypt it
(`LockCloud.decrypt_media`, locks/cloud/port.py), checks it with Pillow, and writes both files under
the "private_media" storage (STORAGES; the local disk, or S3-compatible object storage shared by several machines),
where a file appears whole or not at all (config/storage.py on the disk; an object store's PUT), once per photo.
The files are streamed from there only after a permission check (`serve`: by locks.media_views to members, by the
API to keys); they never have a URL of their own.

A photo that cannot be had (404/403 expired URL, truncated, wrong key, not an image, too large) is marked
failed with the reason; a passing network problem leaves it pending for the sweeper, up to MAX_ATTEMPTS.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import requests
import requests.adapters
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext_noop
from PIL import Image

from locks import queues, words
from locks.cloud import endpoints, port
from locks.cloud.accounts import cloud_for
from locks.models import NO_FAILURE, CloudAccount, EventMedia, Lock, LockKind, failed
from locks.words import Words

logger = logging.getLogger(__name__)

THUMBNAIL_PX = 320
MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(seconds=60)
CACHE_SECONDS = 3600  # how long a browser may keep a served photo
NOT_DOWNLOADED = gettext_noop("Could not download the photo (%(error)s).")
TOO_LARGE = gettext_noop("The photo is larger than %(cap)s bytes.")
IMAGE_TYPES = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


class _PublicOnlyAdapter(requests.adapters.HTTPAdapter):
    """Connects to public addresses only, checked on the address each connection reached (redirects included)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        endpoints.public_only(self.poolmanager)


def _session(*, public_only: bool) -> requests.Session:
    session = requests.Session()
    # No proxy from the environment (HTTP(S)_PROXY, ALL_PROXY, .netrc): a proxy's pool would connect wherever it is
    # told, past the public-only connections, and the cloud client (urllib3) does not read them either.
    session.trust_env = False
    if public_only:
        for prefix in ("http://", "https://"):
            session.mount(prefix, _PublicOnlyAdapter())
    return session


# One connection pool per worker process each. The photo's URL comes in the cloud's reply, so it may point
# anywhere the endpoint likes: private addresses only where that account's endpoint may be private.
_anywhere = _session(public_only=False)
_public = _session(public_only=True)


def may_be_private(account: CloudAccount) -> bool:
    """Whether this account's photo URLs may be private addresses: with TUYA_ALLOW_PRIVATE_ENDPOINTS, or for the
    embedded simulator's accounts while it is on (its storage is this app); as the account's own client."""
    embedded = endpoints.is_embedded(account.endpoint) and settings.EMBEDDED_SIMULATOR
    return bool(settings.TUYA_ALLOW_PRIVATE_ENDPOINTS or embedded)


class MediaProblem(Exception):
    """Why a photo is not here, as `Words` a person reads in their own language (the exception's text: English)."""

    def __init__(self, template: str, **args: object) -> None:
        self.words = Words(template, dict(args))
        super().__init__(self.words.english)


class MediaFailure(MediaProblem):
    """This photo cannot be had."""


class MediaRetry(MediaProblem):
    """A passing problem (network, 5xx): try again later."""


@dataclass(frozen=True)
class Photo:
    data: bytes = field(repr=False)
    content_type: str
    extension: str
    width: int
    height: int
    thumbnail: bytes = field(repr=False)


def download(url: str, *, allow_private: bool = False) -> bytes:
    """GET the encrypted file: MEDIA_FETCH_TIMEOUT_SECONDS per read and in all, at most MEDIA_MAX_BYTES; from a
    public address only unless `allow_private` (see `may_be_private`)."""
    if not url.startswith(("https://", "http://")):
        raise MediaFailure(gettext_noop("The photo's URL is not an http(s) URL."))
    timeout = float(getattr(settings, "MEDIA_FETCH_TIMEOUT_SECONDS", 15))
    cap = int(getattr(settings, "MEDIA_MAX_BYTES", 10 * 1024 * 1024))
    deadline = time.monotonic() + timeout
    try:
        with (_anywhere if allow_private else _public).get(url, stream=True, timeout=(5.0, timeout)) as response:
            status = response.status_code
            if status in (401, 403, 404, 410):
                gone = gettext_noop("The photo's URL answered HTTP %(status)s: it has expired or was removed.")
                raise MediaFailure(gone, status=status)
            if status == 429 or status >= 500:
                raise MediaRetry(gettext_noop("The photo's storage answered HTTP %(status)s."), status=status)
            if status != 200:
                raise MediaFailure(gettext_noop("The photo's URL answered HTTP %(status)s."), status=status)
            length = response.headers.get("Content-Length", "")
            if length.isascii() and length.isdigit() and int(length) > cap:
                raise MediaFailure(TOO_LARGE, cap=cap)
            data = bytearray()
            for chunk in response.iter_content(64 * 1024):
                data += chunk
                if len(data) > cap:
                    raise MediaFailure(TOO_LARGE, cap=cap)
                if time.monotonic() > deadline:
                    raise MediaRetry(gettext_noop("The photo's download took too long."))
            return bytes(data)
    except requests.Timeout as exc:
        raise MediaRetry(gettext_noop("The photo's storage did not answer in time.")) from exc
    except requests.ConnectionError as exc:
        if endpoints.refused_private(getattr(exc.args[0] if exc.args else None, "reason", None)):
            private = gettext_noop("The photo's URL is a private or local address; this server does not call those.")
            raise MediaFailure(private) from None
        raise MediaRetry(NOT_DOWNLOADED, error=type(exc).__name__) from exc
    except requests.exceptions.ChunkedEncodingError as exc:
        raise MediaRetry(NOT_DOWNLOADED, error=type(exc).__name__) from exc
    except requests.RequestException as exc:
        raise MediaFailure(
            gettext_noop("The photo's URL cannot be fetched (%(error)s)."), error=type(exc).__name__
        ) from exc


def decode(encrypted: bytes, file_key: str, cloud: port.LockCloud) -> Photo:
    """Decrypt (as the photo's cloud encrypted it), check that it is a whole image, make a ~320 px JPEG thumbnail."""
    try:
        data = cloud.decrypt_media(encrypted, file_key)
    except port.MediaUnreadable as exc:
        raise MediaFailure(exc.message) from None  # the client's words, marked for translation there
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            image.verify()
        if kind not in IMAGE_TYPES:
            not_photo = gettext_noop("The decrypted file is a %(kind)s file, not a JPEG, PNG or WebP photo.")
            raise MediaFailure(not_photo, kind=kind or "unknown")
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            image.draft("RGB", (THUMBNAIL_PX, THUMBNAIL_PX))  # JPEG: decode at 1/2 .. 1/8 scale, much faster
            small = image.convert("RGB")
            small.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
            out = io.BytesIO()
            small.save(out, format="JPEG", quality=80)
    except MediaFailure:
        raise
    except Exception as exc:  # Pillow raises many types for broken data: each is "not an image"
        unreadable = gettext_noop("The decrypted file is not a readable image (%(error)s).")
        raise MediaFailure(unreadable, error=type(exc).__name__) from None
    content_type, extension = IMAGE_TYPES[kind]
    return Photo(data, content_type, extension, width, height, out.getvalue())


def _names(media: EventMedia, extension: str) -> tuple[str, str]:
    folder = f"events/{media.organisation_id}/{media.event.lock_id}"
    return f"{folder}/{media.pk}.{extension}", f"{folder}/{media.pk}.thumb.jpg"


def _store_once(name: str, data: bytes) -> None:
    """Keep one file of a photo under its name, once. A file already there is this photo's (the name is the
    photo's own, and a file appears whole or not at all): a re-run of the job keeps it. A run that raced another
    to the same name and was given a second name drops its copy."""
    storage = storages["private_media"]
    if storage.exists(name):
        return
    stored = storage.save(name, ContentFile(data))
    if stored != name:
        storage.delete(stored)


def _mark(media_id: int, **fields: object) -> None:
    EventMedia.objects.filter(pk=media_id, status=EventMedia.Status.PENDING).update(updated_at=timezone.now(), **fields)


def fetch_media(media_id: int) -> str:
    """Download, decrypt, check and store one photo; safe to run twice (a photo that is done is not fetched)."""
    media = EventMedia.objects.select_related("event__lock__cloud_account").filter(pk=media_id).first()
    if media is None or media.status != EventMedia.Status.PENDING:
        return media.status if media else "gone"
    if not media.file_key:
        no_key = Words(gettext_noop("The cloud sent this photo without its key."))
        _mark(media_id, status=EventMedia.Status.FAILED, **failed(no_key))
        return EventMedia.Status.FAILED
    try:
        account = media.event.lock.cloud_account
        encrypted = download(media.file_url, allow_private=may_be_private(account))
        photo = decode(encrypted, media.file_key, cloud_for(account))
        original, thumbnail = _names(media, photo.extension)
        _store_once(original, photo.data)
        _store_once(thumbnail, photo.thumbnail)
    except MediaFailure as failure:
        _mark(media_id, status=EventMedia.Status.FAILED, **failed(failure.words), attempts=media.attempts + 1)
        return EventMedia.Status.FAILED
    except MediaRetry as retry:
        attempts = media.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            gave_up = Words(gettext_noop("Gave up after %(attempts)s attempts."), {"attempts": attempts})
            reason = words.joined([retry.words, gave_up])
            _mark(media_id, status=EventMedia.Status.FAILED, **failed(reason), attempts=attempts)
            return EventMedia.Status.FAILED
        _mark(media_id, **failed(retry.words), attempts=attempts)
        return EventMedia.Status.PENDING
    _mark(
        media_id,
        status=EventMedia.Status.DONE,
        original=original,
        thumbnail=thumbnail,
        content_type=photo.content_type,
        width=photo.width,
        height=photo.height,
        **NO_FAILURE,
        attempts=media.attempts + 1,
    )
    return EventMedia.Status.DONE


def due_media_ids(now: datetime | None = None) -> list[int]:
    """Pending photos whose job was lost or whose last attempt hit a passing problem."""
    now = now or timezone.now()
    return list(
        EventMedia.objects.filter(
            status=EventMedia.Status.PENDING, attempts__lt=MAX_ATTEMPTS, updated_at__lt=now - RETRY_AFTER
        )
        .order_by()  # not the model's (event, position): that would sort every pending photo first
        .values_list("pk", flat=True)[:1000]
    )


def file_of(media: EventMedia, variant: str) -> tuple[str, str] | None:
    """The stored file's name of a done photo ("original" or "thumb") and its content type; None if there is none."""
    name = media.original if variant == "original" else media.thumbnail
    if media.status != EventMedia.Status.DONE or not name:
        return None
    return name, media.content_type if variant == "original" else "image/jpeg"


def serve(media: EventMedia, variant: str) -> FileResponse | None:
    """The stored file as a response streamed from the private storage, for a caller already allowed to see it;
    None if there is none. Private (kept out of shared caches; the files never change once stored) and never
    sniffed as anything but an image."""
    found = file_of(media, variant)
    if found is None:
        return None
    name, content_type = found
    try:
        stored = storages["private_media"].open(name, "rb")
    except (FileNotFoundError, IsADirectoryError, SuspiciousOperation):  # not (or no longer) a file in it
        return None
    response = FileResponse(stored, content_type=content_type)
    response["Cache-Control"] = f"private, max-age={CACHE_SECONDS}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the cloud's other media endpoints, for the locks that have them (spec "Applicable lock types") -------------

LATEST_MEDIA_KINDS = frozenset({LockKind.WIFI, LockKind.ZIGBEE_HOTEL, LockKind.BLE, LockKind.BLE_GATEWAY})
ALBUM_KINDS = frozenset({LockKind.WIFI_VIDEO})
VIEW_COUNT_KINDS = frozenset({LockKind.WIFI})


@dataclass(frozen=True)
class CloudPhoto:
    """A photo the cloud holds: where to fetch it and the key to decrypt it (never shown or logged)."""

    file_url: str
    file_key: str = field(repr=False)
    cloud: port.LockCloud = field(repr=False, compare=False)  # the account's cloud, which decrypts it
    label: str = ""
    taken_at: datetime | None = None
    allow_private: bool = False  # its account's endpoint may be private (`may_be_private`)


def latest_photo(lock: Lock, *, alert: bool = False) -> CloudPhoto | None:
    """The cover image of the last remote-unlock request (or alert) in the last 90 s; None if none or no support."""
    if lock.kind not in LATEST_MEDIA_KINDS:
        return None
    cloud = cloud_for(lock.cloud_account)
    found = cloud.latest_photo(lock, alert=alert)
    if found is None:
        return None
    label = "alert" if alert else "remote unlocking"
    return CloudPhoto(found.file_url, found.file_key, cloud, label, allow_private=may_be_private(lock.cloud_account))


def album(lock: Lock) -> list[CloudPhoto]:
    """The video lock's album (the cloud keeps a few days), newest first; empty for locks without one."""
    if lock.kind not in ALBUM_KINDS:
        return []
    cloud = cloud_for(lock.cloud_account)
    photos = [
        CloudPhoto(
            item.file_url,
            item.file_key,
            cloud,
            item.label,
            item.taken_at,
            allow_private=may_be_private(lock.cloud_account),
        )
        for item in cloud.album(lock)
    ]
    return sorted(photos, key=lambda p: p.taken_at or datetime.min.replace(tzinfo=dt_timezone.utc), reverse=True)


def media_views(lock: Lock) -> int | None:
    """How many times this lock's videos were viewed; None for locks without the counter."""
    if lock.kind not in VIEW_COUNT_KINDS:
        return None
    return cloud_for(lock.cloud_account).media_views(lock)


def add_media_view(lock: Lock) -> int | None:
    """Count one view (never repeated on its own: each call adds one)."""
    if lock.kind not in VIEW_COUNT_KINDS:
        return None
    return cloud_for(lock.cloud_account).add_media_view(lock)


def fetch_photo(photo: CloudPhoto) -> Photo:
    """Download and decrypt a cloud photo in memory (a live doorbell view); MediaFailure / MediaRetry otherwise."""
    return decode(download(photo.file_url, allow_private=photo.allow_private), photo.file_key, photo.cloud)


@transaction.atomic
def retry_media(media: EventMedia) -> None:
    """Give a failed photo another go (e.g. after a key fix); its URL may well have expired by now."""
    EventMedia.objects.filter(pk=media.pk).update(
        status=EventMedia.Status.PENDING, attempts=0, **NO_FAILURE, updated_at=timezone.now()
    )
    transaction.on_commit(lambda: _enqueue(media.pk))


def _enqueue(media_id: int) -> None:
    queues.enqueue_media(media_id)
