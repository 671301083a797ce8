"""The activity timeline: scoped, filtered, keyset-paginated, linked to code → guest → stay, constant queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from locks.models import AccessCode, CloudAccount, Lock, LockEvent
from tenants.models import Guest, Membership, Organisation, Property, Role, Stay, Unit
from tests.locks.conftest import event_place

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(db: None, django_user_model: Any) -> dict[str, Any]:
    org = Organisation.objects.create(name="Canal Hotel", slug="canal")
    owner = django_user_model.objects.create_user("owner")
    Membership.objects.create(user=owner, organisation=org, role=Role.OWNER)
    prop = Property.objects.create(organisation=org, name="Canal Hotel", kind="hotel", time_zone="Europe/Amsterdam")
    unit = Unit.objects.create(property=prop, name="Room 12")
    other_unit = Unit.objects.create(property=prop, name="Room 14")
    account = CloudAccount.objects.create(organisation=org, name="c", endpoint="eu", access_id="a", access_secret="s")
    lock = Lock.objects.create(organisation=org, cloud_account=account, unit=unit, device_id="d1", name="Door 12",
                               kind="wifi")  # fmt: skip
    other_lock = Lock.objects.create(organisation=org, cloud_account=account, unit=other_unit, device_id="d2",
                                     name="Door 14", kind="wifi")  # fmt: skip
    guest = Guest.objects.create(organisation=org, name="Ada Lovelace")
    now = timezone.now()
    stay = Stay.objects.create(unit=unit, guest=guest, check_in=now - timedelta(days=1), check_out=now + timedelta(1))
    code = AccessCode.objects.create(
        organisation=org, lock=lock, guest=guest, stay=stay, label="Ada", pin="1234567",
        starts_at=stay.check_in, ends_at=stay.check_out, time_zone="Europe/Amsterdam",
    )  # fmt: skip
    return {"org": org, "owner": owner, "prop": prop, "unit": unit, "lock": lock, "other_lock": other_lock,
            "guest": guest, "stay": stay, "code": code, "now": now}  # fmt: skip


def add_events(place: dict[str, Any], n: int, lock: Lock | None = None, **extra: Any) -> list[LockEvent]:
    lock = lock or place["lock"]
    start = LockEvent.objects.filter(lock=lock).count()
    return LockEvent.objects.bulk_create(
        LockEvent(
            organisation=place["org"], lock=lock, category=extra.get("category", LockEvent.Category.UNLOCK),
            dp_code="unlock_temporary", classification=extra.get("classification", "temporary code"),
            occurred_at=place["now"] - timedelta(minutes=start + i), natural_key=f"{lock.pk}:{start + i}",
            access_code=extra.get("code"), guest=extra.get("guest"), stay=extra.get("stay"), **event_place(lock),
        )
        for i in range(n)
    )  # fmt: skip


@pytest.fixture
def owner_client(client: Client, place: dict[str, Any]) -> Client:
    client.force_login(place["owner"])
    return client


def test_an_unlock_is_linked_to_its_code_guest_and_stay(owner_client: Client, place: dict[str, Any]) -> None:
    add_events(place, 1, code=place["code"], guest=place["guest"], stay=place["stay"])
    html = owner_client.get(reverse("locks:activity")).content.decode()
    assert "code “Ada”" in html
    assert "Ada Lovelace" in html
    assert "temporary code" in html
    assert "Door 12" in html


def test_keyset_pages_cover_every_event_once(owner_client: Client, place: dict[str, Any]) -> None:
    events = add_events(place, 120)
    seen: list[int] = []
    url = reverse("locks:activity")
    response = owner_client.get(url)
    while True:
        page = response.context["events"]
        seen += [e.pk for e in page]
        cursor = response.context["next_cursor"]
        if not cursor:
            break
        response = owner_client.get(url, {"before": cursor})
    assert sorted(seen) == sorted(e.pk for e in events)
    assert len(seen) == len(set(seen))
    # htmx asks for the next rows only: a fragment with the rows and the next "Older events" link.
    first = owner_client.get(url)
    fragment = owner_client.get(url, {"before": first.context["next_cursor"]}, headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert "<h1>" not in html
    assert html.count('id="event-') == 50
    assert 'id="load-more"' in html


def test_events_with_the_same_second_are_not_lost_between_pages(owner_client: Client, place: dict[str, Any]) -> None:
    same = place["now"]
    LockEvent.objects.bulk_create(
        LockEvent(organisation=place["org"], lock=place["lock"], category="unlock", occurred_at=same,
                  natural_key=f"same:{i}", **event_place(place["lock"]))
        for i in range(75)
    )  # fmt: skip
    first = owner_client.get(reverse("locks:activity"))
    second = owner_client.get(reverse("locks:activity"), {"before": first.context["next_cursor"]})
    shown = [e.pk for e in first.context["events"]] + [e.pk for e in second.context["events"]]
    assert len(set(shown)) == 75


def test_filters_by_lock_unit_property_and_category(owner_client: Client, place: dict[str, Any]) -> None:
    add_events(place, 3)
    add_events(place, 2, lock=place["other_lock"], category="alarm", classification="pry")
    url = reverse("locks:activity")
    assert len(owner_client.get(url, {"lock": place["lock"].pk}).context["events"]) == 3
    assert len(owner_client.get(url, {"unit": place["other_lock"].unit_id}).context["events"]) == 2
    assert len(owner_client.get(url, {"property": place["prop"].pk}).context["events"]) == 5
    alarms = owner_client.get(url, {"category": "alarm"}).context["events"]
    assert [e.classification for e in alarms] == ["pry", "pry"]


def test_another_organisations_events_and_ids_are_not_reachable(
    client: Client, place: dict[str, Any], django_user_model: Any
) -> None:
    add_events(place, 2)
    stranger = django_user_model.objects.create_user("stranger")
    other = Organisation.objects.create(name="Elsewhere", slug="elsewhere")
    Membership.objects.create(user=stranger, organisation=other, role=Role.OWNER)
    client.force_login(stranger)
    assert client.get(reverse("locks:activity")).context["events"] == []
    for key, value in (("lock", place["lock"].pk), ("unit", place["unit"].pk), ("property", place["prop"].pk)):
        assert client.get(reverse("locks:activity"), {key: value}).status_code == 404
    assert client.get(reverse("locks:activity"), {"lock": "1 OR 1=1"}).status_code == 404


def test_queries_per_page_do_not_grow_with_the_events(
    owner_client: Client, place: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    add_events(place, 10, code=place["code"], guest=place["guest"], stay=place["stay"])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        owner_client.get(reverse("locks:activity"))
    add_events(place, 300, code=place["code"], guest=place["guest"], stay=place["stay"])
    with django_assert_max_num_queries(len(small.captured_queries)):
        owner_client.get(reverse("locks:activity"))


def test_a_bad_cursor_is_the_first_page(owner_client: Client, place: dict[str, Any]) -> None:
    add_events(place, 3)
    assert len(owner_client.get(reverse("locks:activity"), {"before": "garbage_x"}).context["events"]) == 3
