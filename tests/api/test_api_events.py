"""Events through the API: what each says (who, where, its photos), filters, `since`, keyset pages, and the photos
served with the key."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image

from locks.models import EventMedia, Lock
from tenants.models import Guest, Property, Unit
from tests.api.conftest import ApiClient, iso
from tests.api.doors import event, private_media, stored_photo
from tests.tenants.conftest import book, offline_lock

pytestmark = pytest.mark.django_db


@pytest.fixture
def storage(settings: Any, tmp_path: Path) -> Path:
    return private_media(settings, tmp_path)


def test_an_event_says_who_opened_where_and_links_its_photos(
    api: ApiClient, lock: Lock, unit: Unit, guest: Guest, storage: Path
) -> None:
    stay = book(unit, guest)
    code = stay.access_codes.get()
    opened = event(lock, access_code=code, stay=stay, guest=guest, actor_name="Ada", dp_code="unlock_temporary")
    photo = stored_photo(opened)
    waiting = EventMedia.objects.create(organisation_id=lock.organisation_id, event=opened, position=1, file_url="x")
    body = api.get(f"/events/{opened.pk}").json()
    assert body["lock_id"] == lock.pk
    assert (body["unit_id"], body["property_id"]) == (unit.pk, unit.property_id)
    assert (body["category"], body["classification"]) == ("unlock", "temporary code")
    assert body["who"] == {
        "access_code_id": code.pk,
        "stay_id": stay.pk,
        "guest_id": guest.pk,
        "guest_name": "Ada Lovelace",
        "actor_name": "Ada",
    }
    assert body["photos"] == [
        {
            "id": photo.pk,
            "status": "done",
            "url": f"/api/v1/event-photos/{photo.pk}/original",
            "thumbnail_url": f"/api/v1/event-photos/{photo.pk}/thumbnail",
        },
        {"id": waiting.pk, "status": "pending", "url": None, "thumbnail_url": None},
    ]
    assert api.get(f"/event-photos/{waiting.pk}/original").status_code == 404  # not fetched yet


def test_photos_are_served_decrypted_with_the_key_and_to_no_one_else(
    api: ApiClient, make_key: Any, lock: Lock, elsewhere: Unit, storage: Path
) -> None:
    photo = stored_photo(event(lock))
    original = api.get(f"/event-photos/{photo.pk}/original")
    assert original.status_code == 200
    assert original["Content-Type"] == "image/jpeg"
    assert original["Cache-Control"] == "private, max-age=3600"
    assert original["X-Content-Type-Options"] == "nosniff"
    assert Image.open(_bytes(original)).size == (640, 480)
    thumbnail = api.get(f"/event-photos/{photo.pk}/thumbnail")
    assert Image.open(_bytes(thumbnail)).size == (32, 24)
    assert ApiClient(None).get(f"/event-photos/{photo.pk}/original").status_code == 401
    stranger = ApiClient(make_key(organisation=elsewhere.property.organisation)[1])
    assert stranger.get(f"/event-photos/{photo.pk}/original").status_code == 404
    assert api.get(f"/event-photos/{photo.pk}/huge").status_code == 422
    assert api.get("/event-photos/999999/original").status_code == 404
    (storage / photo.original).unlink()
    assert api.get(f"/event-photos/{photo.pk}/original").status_code == 404  # a file gone is no 500


def _bytes(response: Any) -> io.BytesIO:
    return io.BytesIO(response.getvalue())


def test_filters_by_lock_unit_property_category_and_since(api: ApiClient, org: Any, lock: Lock, unit: Unit) -> None:
    annex = Property.objects.create(organisation=org, name="Annex", time_zone="UTC")
    annex_room = Unit.objects.create(property=annex, name="A1")
    other = offline_lock(org, annex_room, name="Annex door")
    now = timezone.now()
    old = event(lock, at=now - timedelta(days=3))
    alarm = event(lock, at=now - timedelta(hours=1), category="alarm", classification="pry")
    there = event(other, at=now)

    def ids(query: str) -> list[int]:
        return [e["id"] for e in api.get(f"/events?{query}").json()["items"]]

    assert ids("") == [old.pk, alarm.pk, there.pk]
    assert ids(f"lock={other.pk}") == [there.pk]
    assert ids(f"unit={unit.pk}") == [old.pk, alarm.pk]
    assert ids(f"property={annex.pk}") == [there.pk]
    assert ids("category=alarm") == [alarm.pk]
    since = (now - timedelta(hours=2)).astimezone(timezone.get_fixed_timezone(-300))
    assert ids("since=" + iso(since).replace("+", "%2B")) == [alarm.pk, there.pk]
    assert ids(f"since={iso(now - timedelta(hours=1)).replace('+', '%2B')}&lock={lock.pk}") == [alarm.pk]  # at: in
    assert api.get("/events?category=opened").status_code == 422


def test_since_without_an_offset_is_refused_in_words(api: ApiClient, lock: Lock) -> None:
    naive = api.get("/events?since=2026-12-01T10:00:00")
    assert naive.status_code == 422
    assert naive["Content-Type"] == "application/problem+json"
    [error] = naive.json()["errors"]
    assert error["field"] == "since"
    assert "offset" in error["detail"]
    assert api.get("/events?since=yesterday").status_code == 422


def test_pages_follow_the_cursor_in_id_order(api: ApiClient, lock: Lock) -> None:
    now = timezone.now()
    # Stored out of time order (an imported lock's history arrives after newer events): pages go by id.
    made = [event(lock, at=now - timedelta(minutes=(n * 37) % 11)) for n in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        answer = api.get("/events?limit=3" + (f"&cursor={cursor}" if cursor else "")).json()
        seen += [e["id"] for e in answer["items"]]
        pages += 1
        if not answer["items"]:
            break  # the feed's end: its cursor stays the place to poll from
        cursor = answer["next_cursor"]
    assert (seen, pages) == ([e.pk for e in made], 4)
    assert answer["next_cursor"] == cursor
    # Polled later with the same cursor: what was stored since, however long ago it happened.
    late = event(lock, at=now - timedelta(days=3))
    assert [e["id"] for e in api.get(f"/events?cursor={cursor}").json()["items"]] == [late.pk]
    late.delete()
    # With `since` the first page starts at the first event that matches; the next ones at their cursor.
    since = "since=" + iso(now - timedelta(minutes=5)).replace("+", "%2B")
    recent = [e.pk for e in made if e.occurred_at >= now - timedelta(minutes=5)]
    first = api.get(f"/events?{since}&limit=2").json()
    rest = api.get(f"/events?{since}&limit=50&cursor={first['next_cursor']}").json()
    assert [e["id"] for e in first["items"] + rest["items"]] == recent
    future = "since=" + iso(now + timedelta(days=1)).replace("+", "%2B")
    assert api.get(f"/events?{future}").json() == {"items": [], "next_cursor": None}
    assert api.get("/events?cursor=garbage").status_code == 400
