"""Events carry the unit and property their lock was on (issue #15 item 4): the timelines of a unit and a property
walk their own indexes, a lock moved later keeps its history where it happened, and a front desk limited to one
property sees that property's events only."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from locks import events, selectors
from locks.models import CloudAccount, Lock, LockEvent
from tenants.models import Membership, Organisation, Property, Role, Unit
from tests.locks.conftest import event_place, migrated_back_to, old_room

PLACE = import_module("locks.migrations.0020_event_place").Migration
BEFORE = PLACE.dependencies[0]
AFTER = ("locks", "0021_event_place_indexes")


@pytest.mark.django_db(transaction=True)
def test_a_synced_event_carries_the_unit_and_property_of_its_lock(make_lock, world) -> None:
    lock = make_lock("wifi")
    world.call("POST", f"/_sim/devices/{lock.device_id}/doorbell")
    assert events.sync_lock(lock).new == 1
    event = LockEvent.objects.get(lock=lock)
    assert lock.unit is not None
    assert (event.unit_id, event.property_id) == (lock.unit_id, lock.unit.property_id)


@pytest.mark.django_db(transaction=True)
def test_a_lock_on_no_door_stores_events_with_no_place(make_lock, world) -> None:
    lock = make_lock("wifi")
    Lock.objects.filter(pk=lock.pk).update(unit=None)
    lock.refresh_from_db()
    world.call("POST", f"/_sim/devices/{lock.device_id}/doorbell")
    assert events.sync_lock(lock).new == 1
    assert LockEvent.objects.filter(lock=lock, unit=None, property=None).count() == 1


def _event(lock: Lock, n: int) -> LockEvent:
    return LockEvent(
        organisation_id=lock.organisation_id, lock=lock, category="unlock", occurred_at=timezone.now()
        - timedelta(minutes=n), natural_key=f"place:{lock.pk}:{n}", **event_place(lock),
    )  # fmt: skip


@pytest.mark.django_db
def test_a_moved_lock_keeps_its_history_where_it_happened(org: Organisation, unit: Unit, django_user_model) -> None:
    account = CloudAccount.objects.create(
        organisation=org, name="c", access_id="id", access_secret="secret", endpoint="http://localhost"
    )
    lock = Lock.objects.create(organisation=org, cloud_account=account, device_id="dev", name="Door", unit=unit)
    before = LockEvent.objects.bulk_create(_event(lock, n) for n in range(3))
    annexe = Property.objects.create(organisation=org, name="Annexe", kind=Property.Kind.HOTEL, time_zone="UTC")
    room = Unit.objects.create(property=annexe, name="Room 1")
    lock.unit = room
    lock.save()
    after = LockEvent.objects.bulk_create(_event(lock, n) for n in range(10, 12))

    owner = django_user_model.objects.create_user("owner-place")
    membership = Membership.objects.create(user=owner, organisation=org, role=Role.OWNER)
    shown = {e.pk for e in selectors.activity(membership, prop=unit.property).events}
    assert shown == {e.pk for e in before}
    assert {e.pk for e in selectors.activity(membership, unit=room).events} == {e.pk for e in after}
    assert len(selectors.activity(membership, lock=lock).events) == 5  # the lock's page: all of its history

    desk = django_user_model.objects.create_user("desk-annexe")
    limited = Membership.objects.create(user=desk, organisation=org, role=Role.FRONT_DESK)
    limited.limit_to([annexe])
    assert {e.pk for e in selectors.activity(limited).events} == {e.pk for e in after}  # not the earlier guests'


@pytest.mark.django_db(transaction=True)
def test_the_migration_places_existing_events_where_their_lock_is() -> None:
    with migrated_back_to(BEFORE) as old:
        organisation, prop, room, account = old_room(old)
        locks = old.get_model("locks", "Lock").objects
        on_door = locks.create(organisation=organisation, cloud_account=account, device_id="d1", name="A", unit=room)
        loose = locks.create(organisation=organisation, cloud_account=account, device_id="d2", name="B")
        old_events = old.get_model("locks", "LockEvent").objects
        for lock in (on_door, loose):
            old_events.create(
                organisation=organisation, lock=lock, category="unlock", occurred_at=timezone.now(),
                natural_key=f"k{lock.pk}",
            )  # fmt: skip

        MigrationExecutor(connection).migrate([AFTER])
        placed = {e.lock_id: (e.unit_id, e.property_id) for e in LockEvent.objects.all()}
        assert placed == {on_door.pk: (room.pk, prop.pk), loose.pk: (None, None)}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
@pytest.mark.django_db
def test_a_property_timeline_walks_its_index_not_the_organisations_events(org: Organisation, django_user_model):
    account = CloudAccount.objects.create(
        organisation=org, name="c", access_id="id", access_secret="secret", endpoint="http://localhost"
    )
    props = Property.objects.bulk_create(
        Property(organisation=org, name=f"P{i}", kind=Property.Kind.HOTEL, time_zone="UTC") for i in range(40)
    )
    units = Unit.objects.bulk_create(Unit(property=p, name="Room") for p in props)
    locks = Lock.objects.bulk_create(
        Lock(organisation=org, cloud_account=account, device_id=f"d{u.pk}", name="Door", unit=u, property=p)
        for u, p in zip(units, props, strict=True)
    )
    rows = [_event(lock, n) for n in range(500) for lock in locks]
    LockEvent.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE locks_lockevent")
    page = LockEvent.objects.filter(property=props[7]).order_by("-occurred_at", "-pk")[:51]
    assert "event_property_timeline" in page.explain()
    room = LockEvent.objects.filter(unit=units[3]).order_by("-occurred_at", "-pk")[:51]
    assert "event_unit_timeline" in room.explain()
    owner = django_user_model.objects.create_user("owner-plan")
    membership = Membership.objects.create(user=owner, organisation=org, role=Role.OWNER)
    assert len(selectors.activity(membership, prop=props[7]).events) == 50
