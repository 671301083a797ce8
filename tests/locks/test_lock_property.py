"""A lock keeps its unit's property (`Lock.property`, issue #15: the portfolio groups 100,000 locks by it without
joining them to their units): put on a door, taken off, moved with its unit to another property, its unit deleted,
its property deleted, and locks from before the column was added."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from locks import accounts, selectors
from locks.models import CloudAccount, Lock
from tenants.models import Membership, Organisation, Property, Role, Unit
from tests.locks.conftest import migrated_back_to, old_room

MIGRATION = import_module("locks.migrations.0025_lock_property").Migration
BEFORE = ("locks", "0024_failure_words")
AFTER = ("locks", "0025_lock_property")


@pytest.fixture
def account(org: Organisation) -> CloudAccount:
    return CloudAccount.objects.create(
        organisation=org, name="c", access_id="id", access_secret="secret", endpoint="http://localhost"
    )


def new_property(org: Organisation, name: str) -> Property:
    return Property.objects.create(organisation=org, name=name, kind=Property.Kind.HOTEL, time_zone="UTC")


def property_of(lock: Lock) -> int | None:
    return Lock.objects.values_list("property_id", flat=True).get(pk=lock.pk)


@pytest.mark.django_db
def test_a_lock_follows_its_door(org: Organisation, unit: Unit, account: CloudAccount) -> None:
    lock = Lock.objects.create(organisation=org, cloud_account=account, device_id="d1", name="Door", unit=unit)
    assert property_of(lock) == unit.property_id

    accounts.attach_lock(lock, unit=None)
    assert property_of(lock) is None

    annexe = Unit.objects.create(property=new_property(org, "Annexe"), name="Room 1")
    accounts.attach_lock(lock, unit=annexe)
    assert property_of(lock) == annexe.property_id

    loaded = Lock.objects.get(pk=lock.pk)  # its unit not loaded: the save looks the property up
    loaded.unit_id = unit.pk
    loaded.save(update_fields=["unit"])
    assert property_of(lock) == unit.property_id

    loaded.name = "Front door"
    loaded.save(update_fields=["name"])  # a save that leaves the unit alone leaves the property alone too
    assert property_of(lock) == unit.property_id


@pytest.mark.django_db
def test_a_unit_moved_or_deleted_takes_its_locks_along(org: Organisation, unit: Unit, account: CloudAccount) -> None:
    locks = [
        Lock.objects.create(organisation=org, cloud_account=account, device_id=f"d{n}", name="Door", unit=unit)
        for n in range(2)
    ]
    elsewhere = Lock.objects.create(organisation=org, cloud_account=account, device_id="d9", name="Other")
    annexe = new_property(org, "Annexe")
    unit.property = annexe
    unit.save()
    assert [property_of(lock) for lock in locks] == [annexe.pk, annexe.pk]
    assert property_of(elsewhere) is None

    unit.delete()
    assert Lock.objects.filter(pk__in=[lock.pk for lock in locks], unit=None, property=None).count() == 2


@pytest.mark.django_db
def test_a_deleted_property_leaves_its_locks_on_no_property(
    org: Organisation, unit: Unit, account: CloudAccount
) -> None:
    lock = Lock.objects.create(organisation=org, cloud_account=account, device_id="d1", name="Door", unit=unit)
    unit.property.delete()
    assert Lock.objects.filter(pk=lock.pk, unit=None, property=None).exists()


@pytest.mark.django_db
def test_the_portfolio_counts_a_moved_lock_at_its_new_property(
    org: Organisation, unit: Unit, account: CloudAccount, django_user_model
) -> None:
    Lock.objects.create(organisation=org, cloud_account=account, device_id="d1", name="A", unit=unit, online=False)
    moved = Lock.objects.create(organisation=org, cloud_account=account, device_id="d2", name="B", unit=unit)
    annexe = new_property(org, "Annexe")
    accounts.attach_lock(moved, unit=Unit.objects.create(property=annexe, name="Room 1"))
    owner = django_user_model.objects.create_user("owner-portfolio")
    membership = Membership.objects.create(user=owner, organisation=org, role=Role.OWNER)

    rows = {row.property.name: row.property for row in selectors.portfolio(membership).properties}
    assert (rows["Canal Hotel"].lock_count, rows["Canal Hotel"].offline_count) == (1, 1)
    assert (rows["Annexe"].lock_count, rows["Annexe"].offline_count) == (1, 0)


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_locks_their_units_property() -> None:
    assert MIGRATION.dependencies[0] == BEFORE
    with migrated_back_to(BEFORE) as old:
        organisation, prop, room, account = old_room(old)
        locks = old.get_model("locks", "Lock").objects
        on_door = locks.create(organisation=organisation, cloud_account=account, device_id="d1", name="A", unit=room)
        loose = locks.create(
            organisation=organisation, cloud_account=account, device_id="d2", name="B",
            last_seen_at=timezone.now() - timedelta(days=1),
        )  # fmt: skip

        MigrationExecutor(connection).migrate([AFTER])
        placed = dict(Lock.objects.values_list("pk", "property_id"))
        assert placed == {on_door.pk: prop.pk, loose.pk: None}
