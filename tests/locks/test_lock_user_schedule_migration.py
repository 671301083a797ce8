"""Migration 0015: a lock user's weekly hours move from Tuya's working_day bitmask (bit 0 = Sunday) to weekdays
(0 = Monday), in the stored schedule and in a change still on its way; and back, unchanged, when unapplied."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from locks.models import CloudAccount, Lock
from tenants.models import Organisation, Property, Unit

STEP = import_module("locks.migrations.0015_lock_user_schedule_weekdays")
BEFORE = STEP.Migration.dependencies[0]
AFTER = ("locks", "0015_lock_user_schedule_weekdays")

OLD = {
    "every day": [{"working_day": 127, "start_minute": 0, "end_minute": 600}],
    "Mon, Wed": [{"working_day": 2 | 8, "start_minute": 540, "end_minute": 720}],
    "Sun, Sat": [{"working_day": 1 | 64, "start_minute": 0, "end_minute": 1440}],
    "no day (0)": [{"working_day": 0, "start_minute": 60, "end_minute": 120}],
    "none": [],
}
NEW = {
    "every day": [{"days": [0, 1, 2, 3, 4, 5, 6], "start_minute": 0, "end_minute": 600}],
    "Mon, Wed": [{"days": [0, 2], "start_minute": 540, "end_minute": 720}],
    "Sun, Sat": [{"days": [5, 6], "start_minute": 0, "end_minute": 1440}],
    "no day (0)": [{"days": [], "start_minute": 60, "end_minute": 120}],
    "none": [],
}


def test_the_bitmask_converts_both_ways() -> None:
    for name, old in OLD.items():
        assert [STEP.to_days(w) for w in old] == NEW[name], name
        assert [STEP.to_mask(w) for w in NEW[name]] == old, name
        assert [STEP.to_days(w) for w in NEW[name]] == NEW[name], name  # converted once only


@pytest.mark.django_db(transaction=True)
def test_rows_and_pending_changes_convert_and_come_back() -> None:
    org = Organisation.objects.create(name="Alpha", slug="alpha")
    unit = Unit.objects.create(property=Property.objects.create(organisation=org, name="Canal"), name="1")
    account = CloudAccount.objects.create(
        organisation=org, name="Cloud", endpoint="http://127.0.0.1:9", access_id="x", access_secret="y"
    )
    lock = Lock.objects.create(
        organisation=org, cloud_account=account, unit=unit, device_id="dev-1", name="Door", kind="access_control"
    )
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate([BEFORE])
    try:  # whatever fails, the database goes back to the latest state for the tests after this one
        old = executor.loader.project_state([BEFORE]).apps.get_model("locks", "LockUser")
        rows = {
            name: old.objects.create(organisation_id=org.pk, lock_id=lock.pk, name=name, schedule=schedule).pk
            for name, schedule in OLD.items()
        }
        change = {"action": "modify", "valid_from": None, "valid_until": None, "schedule": OLD["Mon, Wed"]}
        on_its_way = old.objects.create(organisation_id=org.pk, lock_id=lock.pk, name="pending", pending=change).pk

        executor = MigrationExecutor(connection)  # reads the applied migrations again
        executor.migrate([AFTER])
        # The model as it stood then: today's has columns later migrations add.
        new = MigrationExecutor(connection).loader.project_state([AFTER]).apps.get_model("locks", "LockUser")
        for name, pk in rows.items():
            assert new.objects.get(pk=pk).schedule == NEW[name], name
        assert new.objects.get(pk=on_its_way).pending == {**change, "schedule": NEW["Mon, Wed"]}

        executor = MigrationExecutor(connection)
        executor.migrate([BEFORE])
        for name, pk in rows.items():
            assert old.objects.get(pk=pk).schedule == OLD[name], name
        assert old.objects.get(pk=on_its_way).pending == change
    finally:
        MigrationExecutor(connection).migrate(latest)
