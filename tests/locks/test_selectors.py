"""locks.selectors called directly: what each page reads, scoped as the pages are (another organisation invisible,
a front desk limited to some properties sees only theirs), in the shapes the views and the API rely on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from locks import selectors
from locks.models import (
    AccessCode,
    Alert,
    CloudAccount,
    EventMedia,
    Lock,
    LockEvent,
    LockOperation,
    LockUser,
    RemoteUnlockRequest,
    UnlockMethod,
)
from tenants.models import Membership, Organisation, Property, Role, Unit
from tests.locks.conftest import event_place

pytestmark = pytest.mark.django_db
Status = AccessCode.Status


@dataclass
class Place:
    org: Organisation
    canal: Property
    harbour: Property
    canal_lock: Lock
    harbour_lock: Lock
    loose_lock: Lock  # on no door
    stranger_lock: Lock  # another organisation's
    owner: Membership
    desk: Membership  # a front desk limited to the Canal
    viewer: Membership
    stranger: Membership  # owner of the other organisation


def _lock(org: Organisation, unit: Unit | None, name: str, kind: str = "wifi") -> Lock:
    account, _ = CloudAccount.objects.get_or_create(
        organisation=org, name="Cloud", defaults={"endpoint": "eu", "access_id": "a", "access_secret": "s"}
    )
    return Lock.objects.create(
        organisation=org, cloud_account=account, unit=unit, device_id=f"dev-{name}", name=name, kind=kind
    )


def _member(org: Organisation, name: str, role: str, django_user_model: Any) -> Membership:
    user = django_user_model.objects.create_user(name)
    return Membership.objects.create(user=user, organisation=org, role=role)


@pytest.fixture
def place(db: None, django_user_model: Any) -> Place:
    org = Organisation.objects.create(name="Canal Group", slug="canal")
    canal = Property.objects.create(organisation=org, name="Canal Hotel", kind="hotel", time_zone="Europe/Amsterdam")
    harbour = Property.objects.create(organisation=org, name="Harbour Inn", kind="hotel", time_zone="Europe/Lisbon")
    canal_lock = _lock(org, Unit.objects.create(property=canal, name="Room 12"), "Door 12")
    harbour_lock = _lock(org, Unit.objects.create(property=harbour, name="Room 3"), "Door 3", kind="zigbee_hotel")
    loose_lock = _lock(org, None, "Spare")
    other = Organisation.objects.create(name="Elsewhere", slug="elsewhere")
    far = Property.objects.create(organisation=other, name="Far Away", kind="hotel")
    stranger_lock = _lock(other, Unit.objects.create(property=far, name="Room 1"), "Their door")
    desk = _member(org, "desk", Role.FRONT_DESK, django_user_model)
    desk.limit_to([canal])
    return Place(
        org=org,
        canal=canal,
        harbour=harbour,
        canal_lock=canal_lock,
        harbour_lock=harbour_lock,
        loose_lock=loose_lock,
        stranger_lock=stranger_lock,
        owner=_member(org, "owner", Role.OWNER, django_user_model),
        desk=desk,
        viewer=_member(org, "viewer", Role.VIEWER, django_user_model),
        stranger=_member(other, "stranger", Role.OWNER, django_user_model),
    )


def code(lock: Lock, label: str, status: str = Status.SET, **extra: Any) -> AccessCode:
    now = timezone.now()
    window = {"starts_at": now - timedelta(hours=1), "ends_at": now + timedelta(days=1)}
    return AccessCode.objects.create(
        organisation=lock.organisation, lock=lock, label=label, pin="1234567", status=status,
        time_zone="Europe/Amsterdam", **{**window, **extra},
    )  # fmt: skip


def events(lock: Lock, n: int, category: str = LockEvent.Category.UNLOCK) -> list[LockEvent]:
    now = timezone.now()
    return LockEvent.objects.bulk_create(
        LockEvent(organisation=lock.organisation, lock=lock, category=category, occurred_at=now - timedelta(minutes=i),
                  natural_key=f"{lock.pk}:{category}:{i}", **event_place(lock))
        for i in range(n)
    )  # fmt: skip


# --- portfolio and property pages ----------------------------------------------------------------------------


def test_portfolio_counts_each_property_and_lists_the_locks_on_no_door(place: Place) -> None:
    Lock.objects.filter(pk=place.canal_lock.pk).update(online=False, battery=5)
    code(place.canal_lock, "broken", Status.FAILED)
    code(place.canal_lock, "going", Status.FAILED, desired=AccessCode.Desired.REMOVED)  # not needing attention
    old = timezone.now() - timedelta(days=30)
    code(place.canal_lock, "last month", Status.FAILED, starts_at=old, ends_at=old + timedelta(days=2))  # nor this
    found = selectors.portfolio(place.owner)
    assert [row.property.name for row in found.properties] == ["Canal Hotel", "Harbour Inn"]
    canal, failed = found.properties[0]  # a pair, as the page unpacks it
    assert (failed, found.properties[1].failed_codes) == (1, 0)
    assert (canal.unit_count, canal.lock_count, canal.offline_count, canal.low_battery_count) == (1, 1, 1, 1)  # type: ignore[attr-defined]
    assert found.unassigned == [place.loose_lock]


def test_portfolio_of_a_limited_desk_and_of_another_organisation(place: Place) -> None:
    desk = selectors.portfolio(place.desk)
    assert [row.property for row in desk.properties] == [place.canal]
    assert desk.unassigned == []  # a lock on no door is on none of the desk's properties
    stranger = selectors.portfolio(place.stranger)
    assert [row.property.name for row in stranger.properties] == ["Far Away"]
    assert stranger.unassigned == []


def test_property_locks_are_annotated_and_searchable(place: Place) -> None:
    code(place.canal_lock, "a", Status.SET)
    code(place.canal_lock, "b", Status.SENDING)
    code(place.canal_lock, "c", Status.FAILED)
    old = timezone.now() - timedelta(days=30)
    code(place.canal_lock, "d", Status.FAILED, starts_at=old, ends_at=old + timedelta(days=2))  # ended: no one's job
    code(place.canal_lock, "e", Status.REMOVED)
    (lock,) = selectors.property_locks(place.owner, place.canal)
    assert (lock.failed_codes, lock.pending_codes, lock.set_codes) == (1, 1, 1)  # type: ignore[attr-defined]
    assert list(selectors.property_locks(place.owner, place.canal, "room 12")) == [place.canal_lock]
    assert list(selectors.property_locks(place.owner, place.canal, "nothing")) == []
    assert list(selectors.property_locks(place.desk, place.harbour)) == []
    assert list(selectors.property_locks(place.stranger, place.canal)) == []


# --- one row by id ---------------------------------------------------------------------------------------------


def test_lookups_reach_only_the_members_rows(place: Place) -> None:
    mine, theirs = code(place.canal_lock, "mine"), code(place.harbour_lock, "theirs")
    assert set(selectors.locks_of(place.desk)) == {place.canal_lock}
    assert set(selectors.locks_of(place.owner)) == {place.canal_lock, place.harbour_lock, place.loose_lock}
    assert place.canal_lock not in selectors.locks_of(place.stranger)
    assert set(selectors.codes_of(place.desk)) == {mine}
    assert set(selectors.codes_of(place.owner)) == {mine, theirs}
    assert not selectors.codes_of(place.stranger).exists()
    assert set(selectors.properties_of(place.desk)) == {place.canal}
    assert set(selectors.properties_of(place.owner)) == {place.canal, place.harbour}
    assert set(selectors.units_of(place.desk)) == {place.canal_lock.unit}
    assert place.canal_lock.unit not in selectors.units_of(place.stranger)
    (event,) = events(place.harbour_lock, 1)
    photo = EventMedia.objects.create(organisation=place.org, event=event)
    assert list(selectors.media_of(place.owner)) == [photo]
    assert not selectors.media_of(place.desk).exists()  # the harbour's photo is not the desk's


def test_person_on_lock_is_one_of_that_locks_people(place: Place) -> None:
    person = LockUser.objects.create(organisation=place.org, lock=place.canal_lock, name="Ana")
    assert selectors.person_on_lock(place.canal_lock, person.pk) == person
    assert selectors.person_on_lock(place.harbour_lock, person.pk) is None


def test_people_on_lock_by_name_with_their_methods_in_two_queries(place: Place, django_assert_num_queries: Any) -> None:
    lock = place.canal_lock
    bea = LockUser.objects.create(organisation=place.org, lock=lock, name="Bea")
    ana = LockUser.objects.create(organisation=place.org, lock=lock, name="Ana")
    LockUser.objects.create(organisation=place.org, lock=place.harbour_lock, name="Elsewhere")
    card = UnlockMethod.objects.create(organisation=place.org, lock=lock, lock_user=ana, unlock_type="card")
    with django_assert_num_queries(2):  # the people, then all their methods at once
        people = selectors.people_on_lock(lock)
        assert [(p, list(p.unlock_methods.all())) for p in people] == [(ana, [card]), (bea, [])]  # by name


def test_unassigned_methods_are_the_locks_active_ones_on_nobody(place: Place) -> None:
    lock = place.canal_lock
    ana = LockUser.objects.create(organisation=place.org, lock=lock, name="Ana")
    Active = UnlockMethod.Status.ACTIVE

    def method(on: Lock, sn: int, **extra: Any) -> UnlockMethod:
        return UnlockMethod.objects.create(organisation=place.org, lock=on, unlock_type="card", unlock_sn=sn, **extra)

    loose = method(lock, 1, status=Active)
    method(lock, 2, status=Active, lock_user=ana)  # assigned
    method(lock, 3, status=UnlockMethod.Status.ENROLLING)  # not yet there
    method(place.harbour_lock, 4, status=Active)  # another lock's
    assert list(selectors.unassigned_methods(lock)) == [loose]


def test_people_on_lock_lists_those_who_left_after_the_present_ones(place: Place) -> None:
    """On every database: PostgreSQL sorts a NULL removed_at last unless the query says otherwise."""
    lock = place.canal_lock
    LockUser.objects.create(organisation=place.org, lock=lock, name="Aaron", removed_at=timezone.now())
    LockUser.objects.create(organisation=place.org, lock=lock, name="Bea")
    assert [p.name for p in selectors.people_on_lock(lock)] == ["Bea", "Aaron"]


# --- the lock page ---------------------------------------------------------------------------------------------


def test_lock_page_splits_live_and_ended_codes_and_says_what_the_user_may_do(place: Place) -> None:
    live = code(place.harbour_lock, "live", Status.SET)
    ended = code(place.harbour_lock, "ended", Status.REMOVED)
    LockOperation.objects.create(
        organisation=place.org, lock=place.harbour_lock, kind=LockOperation.Kind.OFFLINE_PASSWORD,
        status=LockOperation.Status.DONE, params={"type": "multiple"},
    )  # fmt: skip
    LockOperation.objects.create(
        organisation=place.org, lock=place.harbour_lock, kind=LockOperation.Kind.OFFLINE_PASSWORD,
        status=LockOperation.Status.DONE, params={"type": "clear_all"},
    )  # fmt: skip
    page = selectors.lock_page(place.owner.user, place.harbour_lock)
    assert (page.codes, page.ended_codes) == ([live], [ended])
    assert len(page.operations) == 2
    assert [op.params["type"] for op in page.offline_issued] == ["multiple"]  # not the clear-alls
    assert (page.may_manage, page.is_hotel, page.has_tools) == (True, True, True)
    viewer = selectors.lock_page(place.viewer.user, place.harbour_lock)
    assert (viewer.may_manage, viewer.has_tools) == (False, False)
    desk = selectors.lock_page(place.desk.user, place.harbour_lock)  # not one of the desk's properties
    assert not desk.may_manage


def test_remote_open_offers_the_lock_page_kinds_to_managers_with_the_last_open(place: Place) -> None:
    zigbee = _lock(place.org, place.canal_lock.unit, "Gate", kind="zigbee")
    now = timezone.now()
    RemoteUnlockRequest.objects.create(
        organisation=place.org, lock=zigbee, requested_at=now - timedelta(hours=2)
    )  # too long ago to show
    latest = RemoteUnlockRequest.objects.create(organisation=place.org, lock=zigbee, requested_at=now)
    section = selectors.remote_open(place.owner.user, zigbee)
    assert (section.offered_kind, section.sleeps, section.may_open, section.latest) == (True, False, True, latest)
    assert selectors.remote_open(place.desk.user, zigbee).may_open is False  # managers' decision, not the desk's
    wifi = selectors.remote_open(place.owner.user, place.canal_lock)
    assert (wifi.offered_kind, wifi.sleeps, wifi.latest) == (False, True, None)


# --- activity --------------------------------------------------------------------------------------------------


def test_activity_pages_by_cursor_and_filters(place: Place) -> None:
    events(place.canal_lock, 7)
    events(place.harbour_lock, 2, LockEvent.Category.ALARM)
    events(place.stranger_lock, 4)
    seen, cursor = [], None
    while True:
        page = selectors.activity(place.owner, before=cursor, per_page=3)
        seen += page.events
        if page.next_cursor is None:
            break
        cursor = selectors.parse_cursor(str(page.next_cursor))  # round trip through the URL
        assert cursor == page.next_cursor
    assert len(seen) == len({e.pk for e in seen}) == 9
    assert [e.occurred_at for e in seen] == sorted((e.occurred_at for e in seen), reverse=True)
    assert len(selectors.activity(place.owner, lock=place.canal_lock).events) == 7
    assert len(selectors.activity(place.owner, unit=place.harbour_lock.unit).events) == 2
    assert len(selectors.activity(place.owner, prop=place.canal).events) == 7
    assert len(selectors.activity(place.owner, category=LockEvent.Category.ALARM).events) == 2
    assert {e.lock for e in selectors.activity(place.desk).events} == {place.canal_lock}
    assert {e.lock for e in selectors.activity(place.stranger).events} == {place.stranger_lock}


def test_a_cursor_that_is_not_one_is_none() -> None:
    for raw in ("", "garbage", "garbage_x", "2024-01-01T00:00:00+00:00_", "_12", "2024-01-01T00:00:00+00:00_²"):
        assert selectors.parse_cursor(raw) is None
    moment = timezone.now()
    assert selectors.parse_cursor(str(selectors.Cursor(moment, 12))) == selectors.Cursor(moment, 12)


# --- who may manage which locks --------------------------------------------------------------------------------


def test_manageable_locks_and_units_follow_role_and_limit(place: Place) -> None:
    owner, desk, viewer = place.owner.user, place.desk.user, place.viewer.user
    assert set(selectors.manageable_locks(owner)) == {place.canal_lock, place.harbour_lock, place.loose_lock}
    assert set(selectors.manageable_locks(desk)) == {place.canal_lock}
    assert not selectors.manageable_locks(viewer).exists()
    assert place.stranger_lock not in selectors.manageable_locks(owner)
    assert [u.name for u in selectors.manageable_units(owner, place.org)] == ["Room 12", "Room 3"]
    assert [u.name for u in selectors.manageable_units(desk)] == ["Room 12"]
    assert set(selectors.code_roles_memberships(viewer)) == set()
    assert set(selectors.code_roles_memberships(desk)) == {place.desk}


# --- set-up ------------------------------------------------------------------------------------------------------


def test_setup_lists_are_the_organisations_own(place: Place) -> None:
    (account,) = selectors.setup_accounts(place.org)
    assert account.lock_count == 3  # type: ignore[attr-defined]
    assert list(selectors.setup_locks(place.org))[0] == place.loose_lock  # the one still needing a door, on top
    assert [u.name for u in selectors.setup_units(place.org)] == ["Room 12", "Room 3"]
    assert list(selectors.organisation_units(place.org)) == selectors.setup_units(place.org)
    assert place.stranger_lock.unit not in selectors.organisation_units(place.org)


# --- alerts, remote unlock, the badge ----------------------------------------------------------------------------


def alert(lock: Lock, key: str, **extra: Any) -> Alert:
    now = timezone.now()
    return Alert.objects.create(
        organisation=lock.organisation, lock=lock, kind=Alert.Kind.TAMPER, dedup_key=key, message=key,
        first_seen_at=now, last_seen_at=now, **extra,
    )  # fmt: skip


def test_alert_lists_and_badge_counts(place: Place) -> None:
    now = timezone.now()
    seen = alert(place.canal_lock, "seen", acknowledged_at=now)
    unseen = alert(place.canal_lock, "unseen")
    other = alert(place.harbour_lock, "harbour")
    closed = alert(place.canal_lock, "closed", resolved_at=now)
    alert(place.stranger_lock, "theirs")
    found = selectors.alert_lists(place.owner)
    assert found.open_alerts[-1] == seen  # not yet acknowledged first
    assert set(found.open_alerts) == {seen, unseen, other}
    assert found.closed_alerts == [closed]
    assert selectors.open_alert_count(place.owner) == 2
    assert selectors.open_alert_count(place.desk) == 1  # the harbour's is not the desk's
    assert selectors.open_alert_count(place.stranger) == 1


def test_remote_requests_waiting_and_recent(place: Place) -> None:
    now = timezone.now()
    waiting = RemoteUnlockRequest.objects.create(organisation=place.org, lock=place.canal_lock, requested_at=now)
    lapsed = RemoteUnlockRequest.objects.create(
        organisation=place.org, lock=place.canal_lock, requested_at=now - timedelta(hours=1)
    )
    RemoteUnlockRequest.objects.create(organisation=place.org, lock=place.harbour_lock, requested_at=now)
    RemoteUnlockRequest.objects.create(organisation=place.stranger.organisation, lock=place.stranger_lock,
                                       requested_at=now)  # fmt: skip
    found = selectors.remote_requests(place.desk, now)
    assert (found.waiting, found.recent) == ([waiting], [lapsed])
    assert selectors.pending_remote_unlock_count(place.desk) == 2  # lapsed is still pending until the scan
    assert selectors.pending_remote_unlock_count(place.owner) == 3
