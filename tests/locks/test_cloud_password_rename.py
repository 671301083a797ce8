"""A code's password id in the cloud lost its vendor's name (issue 12 item 2): `tuya_password_id` became
`cloud_password_id` by a rename, so the ids of codes already on locks stay, and so does the rule that one cloud
password is one code (the constraint, made again on the new column)."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

RENAME = import_module("locks.migrations.0016_access_code_cloud_password_id").Migration
BEFORE = RENAME.dependencies[0]
AFTER = ("locks", "0016_access_code_cloud_password_id")


def migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)  # reads the applied migrations again
    executor.migrate([target])


@pytest.mark.django_db(transaction=True)
def test_password_ids_survive_the_rename_both_ways() -> None:
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate([BEFORE])
    try:
        old = executor.loader.project_state([BEFORE]).apps
        organisation = old.get_model("tenants", "Organisation").objects.create(name="Alpha", slug="alpha")
        account = old.get_model("locks", "CloudAccount").objects.create(
            organisation=organisation, name="c", endpoint="eu", access_id="a", access_secret="x"
        )
        lock = old.get_model("locks", "Lock").objects.create(
            organisation=organisation, cloud_account=account, device_id="vdevrename", name="Door", kind="wifi"
        )
        now = timezone.now()
        window = {"starts_at": now, "ends_at": now + timedelta(days=1), "time_zone": "Europe/Amsterdam"}
        codes = old.get_model("locks", "AccessCode").objects
        kept = codes.create(
            organisation=organisation, lock=lock, label="Kept", pin="480213", tuya_password_id=4242, **window
        )
        codes.create(organisation=organisation, lock=lock, label="Unsent", pin="480214", **window)

        migrate(AFTER)
        # The model as it stood then: today's has columns later migrations add.
        renamed = MigrationExecutor(connection).loader.project_state([AFTER]).apps.get_model("locks", "AccessCode")
        code = renamed.objects.get(pk=kept.pk)
        assert (code.cloud_password_id, code.pin, code.label) == (4242, "480213", "Kept")
        assert renamed.objects.get(label="Unsent").cloud_password_id is None
        duplicate = {"organisation_id": organisation.pk, "lock_id": lock.pk, "pin": "480215", **window}
        with pytest.raises(IntegrityError), transaction.atomic():
            renamed.objects.create(label="Twice", cloud_password_id=4242, **duplicate)
        renamed.objects.create(label="Also unsent", **duplicate)  # no id yet: any number of them

        migrate(BEFORE)
        back = MigrationExecutor(connection).loader.project_state([BEFORE]).apps.get_model("locks", "AccessCode")
        assert back.objects.get(pk=kept.pk).tuya_password_id == 4242
    finally:
        MigrationExecutor(connection).migrate(latest)
