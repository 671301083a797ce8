"""The upgrade locks nobody out: organisations that existed before the second factor do not require it; those created
after do."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tenants.models import Organisation


@pytest.mark.django_db(transaction=True)
def test_existing_organisations_do_not_require_a_second_factor_new_ones_do() -> None:
    before = ("tenants", "0007_organisation_idle_timeouts")
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate([before])
    try:
        old = executor.loader.project_state([before]).apps
        old.get_model("tenants", "Organisation").objects.create(name="Before", slug="before")
        MigrationExecutor(connection).migrate([("tenants", "0008_organisation_require_second_factor")])
    finally:
        MigrationExecutor(connection).migrate(latest)
    assert not Organisation.objects.get(slug="before").require_second_factor
    assert Organisation.objects.create(name="After", slug="after").require_second_factor
