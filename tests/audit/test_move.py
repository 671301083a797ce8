"""The audit trail moved from the locks app to its own (issue 12 item 5): the table, its rows and the permissions
granted on it stay; only Django's record of which app owns the model changed."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from audit.models import AuditEvent

MOVE = import_module("locks.migrations.0014_auditevent_moves_to_audit").Migration
BEFORE = MOVE.dependencies[0]  # the last state with AuditEvent in locks


@pytest.mark.django_db(transaction=True)
def test_rows_and_permissions_survive_the_move() -> None:
    view = Permission.objects.get(content_type__app_label="audit", codename="view_auditevent")
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps
    assert Permission.objects.get(pk=view.pk).content_type.app_label == "locks"  # as it was before the move
    organisation = old.get_model("tenants", "Organisation").objects.create(name="Alpha", slug="alpha")
    old.get_model("locks", "AuditEvent").objects.create(
        organisation=organisation, action="code.issue", object_type="AccessCode", object_id="7", summary="kept"
    )

    executor = MigrationExecutor(connection)  # reads the applied migrations again
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert AuditEvent._meta.db_table == "locks_auditevent"
    row = AuditEvent.objects.get(action="code.issue")
    assert (row.organisation_id, row.object_id, row.summary) == (organisation.pk, "7", "kept")
    assert Permission.objects.get(pk=view.pk).content_type.app_label == "audit"  # the same permission row
