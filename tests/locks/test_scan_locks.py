"""The periodic scan of the locks' state (`alert_scans.scan_locks`): a fixed number of queries however many locks are
offline or low on battery, and the same alerts as the lock-by-lock rules (`alerts.note_lock_state`): one per incident,
counted once, never flapping, resolved when the condition ends, e-mailed and told to webhooks once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from locks import alert_scans, alerts
from locks.models import AccessCode, Alert, CloudAccount, Lock
from tenants.models import Membership, Organisation, Role
from webhooks.models import WebhookEndpoint, WebhookMessage

pytestmark = pytest.mark.django_db
Kind = Alert.Kind


def fleet(name: str, size: int, django_user_model: Any) -> list[Lock]:
    """An organisation with an owner to e-mail, a webhook endpoint that wants alerts, and `size` locks."""
    organisation = Organisation.objects.create(name=name, slug=name.lower())
    owner = django_user_model.objects.create_user(f"owner-{name}", email=f"owner@{name}.example")
    Membership.objects.create(user=owner, organisation=organisation, role=Role.OWNER)
    WebhookEndpoint.objects.create(
        organisation=organisation, url="https://hooks.example/doors", event_types=["lock.alert"], secret="whsec_x"
    )
    account = CloudAccount.objects.create(
        organisation=organisation, name=name, endpoint="http://localhost", access_id=name, access_secret="secret"
    )
    return Lock.objects.bulk_create(
        Lock(organisation=organisation, cloud_account=account, device_id=f"{name}-{n}", name=f"Door {n}")
        for n in range(size)
    )


def scan_counting(capture: Callable[..., Any]) -> int:
    """Run the scan; its queries, not the e-mails sent after it commits (one per new incident, as ever)."""
    with capture(execute=True), CaptureQueriesContext(connection) as queries:
        alert_scans.scan_locks()
    return len(queries)


def state(locks: list[Lock], **fields: Any) -> None:
    Lock.objects.filter(pk__in=[lock.pk for lock in locks]).update(**fields)


def test_the_scan_costs_the_same_queries_for_3_and_for_30_flagged_locks(
    django_user_model: Any, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    costs = {}
    for size in (3, 30):
        locks = fleet(f"Fleet{size}", size, django_user_model)
        state(locks, online=False, battery=7)
        opened = scan_counting(django_capture_on_commit_callbacks)
        assert Alert.objects.filter(lock__in=locks, resolved_at__isnull=True).count() == 2 * size
        assert WebhookMessage.objects.filter(organisation_id=locks[0].organisation_id).count() == 2 * size
        still = scan_counting(django_capture_on_commit_callbacks)
        state(locks, online=True, battery=100)
        over = scan_counting(django_capture_on_commit_callbacks)
        assert not Alert.objects.filter(lock__in=locks, resolved_at__isnull=True).exists()
        costs[size] = (opened, still, over)
    assert costs[3] == costs[30], costs
    assert len(mailoutbox) == 2 * (3 + 30)  # one e-mail per incident, sent after the scan committed


def test_an_offline_lock_is_one_alert_seen_again_without_counting_and_resolved_when_back(
    django_user_model: Any, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    lock, fine = fleet("Canal", 2, django_user_model)
    state([lock], online=False)
    first = timezone.now() - timedelta(minutes=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_scans.scan_locks(first) == 1
    alert = Alert.objects.get()
    assert (alert.kind, alert.dedup_key, alert.lock_id, alert.count) == (
        Kind.OFFLINE,
        f"offline:lock:{lock.pk}",
        lock.pk,
        1,
    )
    assert alert.text == "Door 0 is offline: new codes cannot reach it (offline passwords still work)."
    assert alert.first_seen_at == alert.last_seen_at == first
    assert len(mailoutbox) == 1
    later = first + timedelta(minutes=1)
    for _ in range(3):  # no flapping: the same alert, seen again, not counted again, not e-mailed again
        with django_capture_on_commit_callbacks(execute=True):
            alert_scans.scan_locks(later)
    alert.refresh_from_db()
    assert (Alert.objects.count(), alert.count, alert.last_seen_at, alert.resolved_at) == (1, 1, later, None)
    assert len(mailoutbox) == 1
    assert WebhookMessage.objects.filter(event_type="lock.alert").count() == 1
    state([lock], online=True)
    back = later + timedelta(minutes=1)
    alert_scans.scan_locks(back)
    alert.refresh_from_db()
    assert (alert.resolved_at, alert.dedup_key) == (back, f"offline:lock:{lock.pk}#{alert.pk}")
    state([lock], online=False)  # offline again: a new incident, a new e-mail
    with django_capture_on_commit_callbacks(execute=True):
        alert_scans.scan_locks()
    assert Alert.objects.filter(kind=Kind.OFFLINE, resolved_at__isnull=True).get().pk != alert.pk
    assert len(mailoutbox) == 2
    assert not Alert.objects.filter(lock=fine).exists()


def test_a_low_battery_is_one_alert_resolved_when_replaced_and_an_unknown_battery_says_nothing(
    django_user_model: Any, django_capture_on_commit_callbacks: Any
) -> None:
    low, unknown = fleet("Canal", 2, django_user_model)
    state([low], battery=alerts.LOW_BATTERY_PERCENT - 1)
    # An alarm from the lock opened this one; the lock's battery reading is not known, so nothing closes it.
    alarm = alerts.raise_alert(
        organisation_id=unknown.organisation_id,
        kind=Kind.LOW_BATTERY,
        key=f"low_battery:lock:{unknown.pk}",
        message="low",
        lock=unknown,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_scans.scan_locks() == 1
        alert_scans.scan_locks()
    alert = Alert.objects.get(lock=low)
    assert (alert.kind, alert.count, alert.resolved_at) == (Kind.LOW_BATTERY, 1, None)
    assert alert.text == f"The battery of Door 0 is at {alerts.LOW_BATTERY_PERCENT - 1} %: replace it soon."
    state([low], battery=alerts.LOW_BATTERY_PERCENT)
    alert_scans.scan_locks()
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    alarm.refresh_from_db()
    assert alarm.resolved_at is None
    state([unknown], battery=90)
    alert_scans.scan_locks()
    alarm.refresh_from_db()
    assert alarm.resolved_at is not None


def test_an_incident_another_worker_opened_meanwhile_is_seen_not_opened_twice(
    django_user_model: Any, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The health check and the push consumer raise the same incidents: one opened between the scan's read and its
    insert is counted on, never duplicated (the unique constraint), and the rest of the batch still opens."""
    racing, other = fleet("Canal", 2, django_user_model)
    state([racing, other], online=False)
    raced: list[bool] = []

    def race_then_conditions(lock: Lock) -> Any:
        if not raced:  # the other worker, after the scan read the open alerts and the locks
            raced.append(True)
            alerts.note_lock_state(Lock.objects.get(pk=racing.pk))
        return alerts.lock_conditions(lock)

    monkeypatch.setattr("locks.alert_scans.lock_conditions", race_then_conditions)
    with django_capture_on_commit_callbacks(execute=True):
        alert_scans.scan_locks()
    assert sorted(Alert.objects.values_list("lock_id", "count", "resolved_at")) == [
        (racing.pk, 1, None),
        (other.pk, 1, None),
    ]


def test_the_code_and_account_scans_cost_the_same_queries_for_3_and_for_30_problems(
    django_user_model: Any, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    """Failed codes and refused accounts: opened, kept and closed in a fixed number of statements (they were one
    transaction per alert, every minute)."""
    now = timezone.now()
    costs = {}
    for size in (3, 30):
        locks = fleet(f"Codes{size}", size, django_user_model)
        failed = AccessCode.objects.bulk_create(
            AccessCode(organisation_id=lock.organisation_id, lock=lock, label=f"Guest {n}", pin="482913",
                       starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=1), time_zone="UTC",
                       status=AccessCode.Status.FAILED, failure_reason="The lock did not accept the code.")
            for n, lock in enumerate(locks)
        )  # fmt: skip
        accounts = [
            CloudAccount.objects.create(organisation_id=locks[0].organisation_id, name=f"Project {n}",
                                        endpoint="http://localhost", access_id=f"c{size}-{n}", access_secret="s",
                                        last_error="permission deny (1106)")
            for n in range(size)
        ]  # fmt: skip
        counts = []
        for change in (None, "settle"):
            if change:
                AccessCode.objects.filter(pk__in=[c.pk for c in failed]).update(status=AccessCode.Status.SET)
                CloudAccount.objects.filter(pk__in=[a.pk for a in accounts]).update(last_error="")
            with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
                alert_scans.scan_codes()
                alert_scans.scan_accounts()
            counts.append(len(queries))
        org = locks[0].organisation_id
        alerts_of_org = Alert.objects.filter(organisation_id=org)
        assert alerts_of_org.filter(kind=Kind.CODE_NOT_SET).count() == size
        assert alerts_of_org.filter(kind=Kind.CLOUD_REFUSED).count() == size
        assert not alerts_of_org.filter(resolved_at__isnull=True).exists()  # all settled by the second scan
        costs[size] = counts
    assert costs[3] == costs[30]
