"""When a cloud project's locks are read later than the events safety net promises (its call budget or its workers do
not keep up, issue #15 item 3), the owners get one alert for the project, in their language, until it has caught up;
a stream that is failing has its own error and back-off and does not count; the set-up page shows how far behind."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from locks import alert_scans
from locks.models import Alert, CloudAccount, Lock, SyncCursor
from tenants.models import Membership, Organisation, Role

pytestmark = pytest.mark.django_db
Kind = Alert.Kind


def project(name: str, locks: int, django_user_model: Any) -> list[Lock]:
    organisation = Organisation.objects.create(name=name, slug=name.lower())
    owner = django_user_model.objects.create_user(f"owner-{name}", email=f"owner@{name.lower()}.example")
    Membership.objects.create(user=owner, organisation=organisation, role=Role.OWNER)
    account = CloudAccount.objects.create(
        organisation=organisation, name=f"{name} EU", endpoint="http://localhost", access_id=name, access_secret="s"
    )
    return Lock.objects.bulk_create(
        Lock(organisation=organisation, cloud_account=account, device_id=f"{name}-{n}", name=f"Door {n}", kind="wifi")
        for n in range(locks)
    )


def read(lock: Lock, hours_ago: float, *, failures: int = 0, stream: str = "open-logs") -> None:
    SyncCursor.objects.update_or_create(
        lock=lock,
        stream=stream,
        defaults={"last_synced_at": timezone.now() - timedelta(hours=hours_ago), "failures": failures},
    )


def test_a_project_read_too_late_is_one_alert_until_it_catches_up(
    django_user_model, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    late, failing, fine = (project(name, 3, django_user_model) for name in ("Late", "Failing", "Fine"))
    for lock in late:
        read(lock, 0.1)
    read(late[0], 7)  # safety net 6 h + the sync's minute: behind
    read(late[1], 9, stream="alarm-logs")
    read(failing[0], 48, failures=4)  # failing: its own error and back-off, not a budget that does not keep up
    read(fine[0], 5.9)

    with django_capture_on_commit_callbacks(execute=True):  # the e-mail goes once the alert is committed
        assert alert_scans.scan_events_behind() == 1
        alert_scans.scan_events_behind()
    alert = Alert.objects.get(kind=Kind.EVENTS_BEHIND)
    assert (alert.organisation_id, alert.lock_id) == (late[0].organisation_id, None)
    assert alert.resolved_at is None
    assert alert.count == 1
    assert "“Late EU” is behind" in alert.english_text
    assert "6 hours" in alert.english_text
    with translation.override("de"):
        assert "„Late EU“ ist im Rückstand" in alert.text
    assert [m.to for m in mailoutbox] == [["owner@late.example"]]  # e-mailed once

    for lock in late[:2]:
        read(lock, 0, stream="alarm-logs" if lock == late[1] else "open-logs")
    assert alert_scans.scan_events_behind() == 0
    alert.refresh_from_db()
    assert alert.resolved_at is not None


def test_the_scan_costs_the_same_for_three_projects_behind_as_for_thirty(django_user_model) -> None:
    costs = []
    for size in (3, 30):
        for n in range(size):
            for lock in project(f"P{size}x{n}", 2, django_user_model):
                read(lock, 8)
        with CaptureQueriesContext(connection) as queries:
            alert_scans.scan_events_behind()
        costs.append(len(queries))
        Alert.objects.all().delete()
    assert costs[0] == costs[1]


@pytest.mark.django_db(transaction=True)
def test_the_setup_page_leaves_a_failing_stream_out_of_how_far_behind(owner_client, make_lock) -> None:
    lock = make_lock("wifi")
    read(lock, 0.1)
    read(lock, 30, failures=3, stream="alarm-logs")
    page = owner_client.get(reverse("locks:setup")).content.decode()
    assert "Event sync is behind" not in page  # the failing stream says so itself, on the lock
    read(lock, 8)
    page = owner_client.get(reverse("locks:setup")).content.decode()
    assert "Event sync is behind: a lock of this project was last read 8" in page
