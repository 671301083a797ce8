"""Alerts: one per incident, counted after that, e-mailed once; acknowledged by owners and managers (audited).

Events are stored here as the events sync stores them (one LockEvent per record) and handed to
`alerts.on_new_events`; lock state, codes and cloud accounts come from the simulator over HTTP."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import django_rq
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from locks import alert_scans, alerts, codes, convergence, jobs
from locks.models import AccessCode, Alert, Lock, LockEvent
from tenants.models import Membership, Organisation, Role
from tests.locks.conftest import event_place, run_workers, window

pytestmark = pytest.mark.django_db(transaction=True)
Kind = Alert.Kind
HTMX = {"HX-Request": "true"}
_keys = itertools.count(1)


@pytest.fixture
def viewer(org: Organisation, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("viewer", email="viewer@example.com", password="pw-viewer-1")
    Membership.objects.create(user=user, organisation=org, role=Role.VIEWER)
    return user


def record(lock: Lock, dp_code: str, dp_value: str, words: str, at: datetime | None = None, **extra: Any) -> LockEvent:
    """One stored record, as the events sync stores it, handed to the alerts like the sync does."""
    event = LockEvent.objects.create(
        organisation=lock.organisation,
        lock=lock,
        **event_place(lock),
        category=LockEvent.Category.ALARM,
        dp_code=dp_code,
        dp_value=dp_value,
        classification=words,
        occurred_at=at or timezone.now(),
        natural_key=f"test-{next(_keys)}",
        **extra,
    )
    alerts.on_new_events([event])
    return event


def test_a_wrong_code_burst_is_one_alert_whose_count_grows_and_one_email(make_lock, owner, mailoutbox) -> None:
    lock = make_lock("wifi")
    start = timezone.now() - timedelta(minutes=3)
    record(lock, "alarm_lock", "wrong_finger", "wrong fingerprint", start)
    record(lock, "alarm_lock", "wrong_card", "wrong card", start + timedelta(seconds=20))
    assert not Alert.objects.exists()  # two wrong tries are a guest fumbling, not a burst
    for n in range(2, 6):
        record(lock, "alarm_lock", "wrong_finger", "wrong fingerprint", start + timedelta(seconds=20 * n))
    alert = Alert.objects.get()
    assert alert.kind == Kind.WRONG_CODE_BURST
    assert alert.count == 6
    assert alert.lock == lock
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["owner@example.com"]
    assert lock.name in mailoutbox[0].subject


def test_wrong_codes_far_apart_raise_nothing_and_a_later_burst_is_a_new_incident(make_lock, owner, mailoutbox) -> None:
    lock = make_lock("wifi")
    start = timezone.now() - timedelta(hours=2)
    for n in range(3):
        record(lock, "alarm_lock", "wrong_finger", "wrong fingerprint", start + timedelta(minutes=10 * n))
    assert not Alert.objects.exists()
    for n in range(3):
        record(lock, "alarm_lock", "wrong_finger", "wrong fingerprint", start + timedelta(minutes=60, seconds=n))
    for n in range(3):
        record(lock, "alarm_lock", "wrong_finger", "wrong fingerprint", start + timedelta(minutes=90, seconds=n))
    assert Alert.objects.filter(kind=Kind.WRONG_CODE_BURST).count() == 2
    assert Alert.objects.filter(resolved_at__isnull=True).count() == 1
    assert len(mailoutbox) == 2


def test_the_locks_own_wrong_password_alarm_is_a_burst_by_itself(make_lock, owner, mailoutbox) -> None:
    lock = make_lock("wifi")
    record(lock, "alarm_lock", "wrong_password", "wrong code")  # the lock raises it after several in a row
    assert Alert.objects.get().kind == Kind.WRONG_CODE_BURST
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    ("dp_code", "dp_value", "words", "kind"),
    [
        ("alarm_lock", "pry", "pry", Kind.TAMPER),
        ("hijack", "unlock_fingerprint-02", "duress", Kind.DURESS),
        ("alarm_lock", "low_battery", "low battery", Kind.LOW_BATTERY),
    ],
)
def test_each_alarm_raises_exactly_one_alert_and_one_email(
    make_lock, owner, mailoutbox, dp_code, dp_value, words, kind
) -> None:
    lock = make_lock("wifi_video")
    now = timezone.now()
    record(lock, dp_code, dp_value, words, now - timedelta(minutes=2))
    record(lock, dp_code, dp_value, words, now - timedelta(minutes=1))
    alert = Alert.objects.get()
    assert (alert.kind, alert.count, alert.lock) == (kind, 2, lock)
    assert alert.event is not None
    assert len(mailoutbox) == 1
    assert alert.emailed_at is not None


def test_history_from_a_first_sync_does_not_alert(make_lock, owner, mailoutbox) -> None:
    lock = make_lock("wifi")
    record(lock, "alarm_lock", "pry", "pry", timezone.now() - timedelta(days=20))
    assert not Alert.objects.exists()
    assert mailoutbox == []


def test_ordinary_unlocks_raise_nothing(make_lock, owner, mailoutbox) -> None:
    lock = make_lock("wifi")
    for _ in range(5):
        event = LockEvent.objects.create(
            organisation=lock.organisation,
            lock=lock,
            **event_place(lock),
            category=LockEvent.Category.UNLOCK,
            dp_code="unlock_fingerprint",
            dp_value="1",
            classification="fingerprint",
            occurred_at=timezone.now(),
            natural_key=f"test-{next(_keys)}",
        )
        alerts.on_new_events([event])
    assert not Alert.objects.exists()


def test_a_lock_that_goes_offline_is_one_alert_until_it_is_back_then_a_new_one(
    make_lock, world, owner, mailoutbox
) -> None:
    lock = make_lock("wifi")
    assert alert_scans.check_lock_health(lock.pk) == "online"
    assert not Alert.objects.exists()
    world.online(lock.device_id, False)
    for _ in range(3):
        assert alert_scans.check_lock_health(lock.pk) == "offline"
        alert_scans.scan()
    lock.refresh_from_db()
    assert lock.online is False
    alert = Alert.objects.get()
    assert alert.kind == Kind.OFFLINE
    assert alert.resolved_at is None
    assert len(mailoutbox) == 1
    world.online(lock.device_id, True)
    alert_scans.check_lock_health(lock.pk)
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    world.online(lock.device_id, False)
    alert_scans.check_lock_health(lock.pk)
    assert Alert.objects.filter(kind=Kind.OFFLINE).count() == 2
    assert Alert.objects.filter(kind=Kind.OFFLINE, resolved_at__isnull=True).count() == 1
    assert len(mailoutbox) == 2


def test_a_low_battery_from_the_alarm_and_from_the_locks_state_is_one_alert(make_lock, world, owner, mailoutbox):
    lock = make_lock("wifi")
    world.call("PATCH", f"/_sim/devices/{lock.device_id}", {"battery": 8})
    record(lock, "alarm_lock", "low_battery", "low battery")
    alert_scans.check_lock_health(lock.pk)
    lock.refresh_from_db()
    assert lock.battery == 8
    alert = Alert.objects.get()
    assert alert.kind == Kind.LOW_BATTERY
    assert len(mailoutbox) == 1
    world.call("PATCH", f"/_sim/devices/{lock.device_id}", {"battery": 100})  # replaced
    alert_scans.check_lock_health(lock.pk)
    alert.refresh_from_db()
    assert alert.resolved_at is not None


def issue(lock: Lock, django_capture_on_commit_callbacks: Any) -> AccessCode:
    starts, ends = window()
    with django_capture_on_commit_callbacks(execute=True):
        return codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends)


def test_a_code_that_failed_to_be_set_is_one_alert_closed_when_it_is_resent(
    make_lock, world, settings, owner, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    settings.SIM_ISSUE_PASSWORD_INTERVAL = 0
    lock = make_lock("zigbee")
    world.online(lock.device_id, False)
    code = issue(lock, django_capture_on_commit_callbacks)
    run_workers()
    for _ in range(4):
        convergence.converge_access_code(code.pk)
    code.refresh_from_db()
    assert code.status == AccessCode.Status.FAILED
    alert_scans.scan()
    alert_scans.scan()
    alert = Alert.objects.get(kind=Kind.CODE_NOT_SET)
    assert "Ada" in alert.text
    assert code.pin not in alert.text
    assert len([m for m in mailoutbox if "could not be set" in m.body]) == 1
    assert all(code.pin not in m.body and code.pin not in m.subject for m in mailoutbox)
    world.online(lock.device_id, True)
    codes.resend_access_code(code)
    alert_scans.scan()
    alert.refresh_from_db()
    assert alert.resolved_at is not None


def test_a_code_stuck_in_removal_is_one_alert(make_lock, world, owner, mailoutbox, django_capture_on_commit_callbacks):
    lock = make_lock("wifi")
    code = issue(lock, django_capture_on_commit_callbacks)
    run_workers()
    code.refresh_from_db()
    assert code.status == AccessCode.Status.SET
    world.fault(endpoint="temp_password_delete", kind="tuya_code", code=2001)  # the lock is unreachable
    codes.remove_access_code(code)
    for _ in range(alert_scans.CODE_STUCK_ATTEMPTS):
        AccessCode.objects.filter(pk=code.pk).update(next_attempt_at=None)
        Lock.objects.filter(pk=lock.pk).update(paused_until=None)
        convergence.converge_access_code(code.pk)
    code.refresh_from_db()
    assert code.status != AccessCode.Status.REMOVED
    alert_scans.scan()
    alert_scans.scan()
    alert = Alert.objects.get(kind=Kind.CODE_NOT_REMOVED)
    assert alert.lock == lock
    assert len([m for m in mailoutbox if "could not be removed" in m.body]) == 1


def test_a_refused_cloud_account_is_one_alert(
    make_lock, world, owner, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    lock = make_lock("wifi")
    other = make_lock("zigbee")
    world.fault(endpoint="temp_password_create", kind="tuya_code", code=1106)  # permission deny (subscription)
    issue(lock, django_capture_on_commit_callbacks)
    issue(other, django_capture_on_commit_callbacks)
    run_workers()
    alert_scans.scan()
    alert_scans.scan()
    alert = Alert.objects.get(kind=Kind.CLOUD_REFUSED)
    assert "1106" in alert.text
    assert lock.cloud_account.access_secret not in alert.text
    assert len(mailoutbox) == 1

    # The subscription is renewed: the next code that reaches a lock ends the refusal, and the scan its alert.
    world.call("DELETE", "/_sim/faults")
    Lock.objects.filter(cloud_account=lock.cloud_account).update(paused_until=None)
    AccessCode.objects.update(next_attempt_at=None)
    jobs.sweep_access_codes()
    run_workers()
    alert_scans.scan()
    alert.refresh_from_db()
    assert alert.resolved_at is not None


def test_an_email_that_could_not_be_sent_is_sent_later_once(make_lock, owner, mailoutbox, settings) -> None:
    lock = make_lock("wifi")
    settings.EMAIL_BACKEND = "tests.locks.test_alerts.BrokenMail"
    record(lock, "alarm_lock", "pry", "pry")
    alert = Alert.objects.get()
    assert alert.emailed_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    alert_scans.scan()
    alert_scans.scan()
    assert len(mailoutbox) == 1
    alert.refresh_from_db()
    assert alert.emailed_at is not None


class BrokenMail:
    """An SMTP server that is down."""

    def __init__(self, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise ConnectionRefusedError("smtp down")


# --- the page and acknowledging -----------------------------------------------------------------------------


def test_the_alerts_page_lists_open_alerts_and_an_owner_acknowledges_once(client: Client, make_lock, owner) -> None:
    lock = make_lock("wifi")
    record(lock, "alarm_lock", "pry", "pry")
    alert = Alert.objects.get()
    client.force_login(owner)
    page = client.get(reverse("locks:alerts"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Pry or tamper" in html
    assert reverse("locks:lock", args=[lock.pk]) in html
    assert reverse("locks:alert-acknowledge", args=[alert.pk]) in html
    assert page.context["open_alert_count"] == 1
    url = reverse("locks:alert-acknowledge", args=[alert.pk])
    response = client.post(url, headers=HTMX)
    assert response.status_code == 200
    assert "acknowledged by owner" in response.content.decode().lower()
    client.post(url, headers=HTMX)
    alert.refresh_from_db()
    assert alert.acknowledged_by == owner
    assert alert.resolved_at is not None  # an event's alert is closed by acknowledging it
    assert AuditEvent.objects.filter(action="alert.acknowledge", object_id=str(alert.pk)).count() == 1
    page = client.get(reverse("locks:alerts"))
    assert page.context["open_alert_count"] == 0
    assert "Closed" in page.content.decode()  # listed under the closed ones, without a button
    assert reverse("locks:alert-acknowledge", args=[alert.pk]) not in page.content.decode()
    record(lock, "alarm_lock", "pry", "pry")  # the next pry is a new incident
    assert Alert.objects.filter(kind=Kind.TAMPER).count() == 2


def test_a_viewer_may_not_acknowledge_and_another_organisation_gets_404(
    client: Client, make_lock, viewer, django_user_model
) -> None:
    lock = make_lock("wifi")
    record(lock, "alarm_lock", "pry", "pry")
    alert = Alert.objects.get()
    url = reverse("locks:alert-acknowledge", args=[alert.pk])
    client.force_login(viewer)
    assert "Acknowledge</button>" not in client.get(reverse("locks:alerts")).content.decode()
    assert client.post(url, headers=HTMX).status_code == 403
    stranger = django_user_model.objects.create_user("stranger", password="pw-stranger-1")
    other = Organisation.objects.create(name="Other", slug="other")
    Membership.objects.create(user=stranger, organisation=other, role=Role.OWNER)
    client.force_login(stranger)
    assert client.post(url, headers=HTMX).status_code == 404
    assert "Pry" not in client.get(reverse("locks:alerts")).content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    assert AuditEvent.objects.filter(action="alert.acknowledge_refused").count() == 1


def test_through_the_events_sync_wrong_codes_and_a_pry_at_the_door_are_two_alerts_once(
    make_lock, world, owner, mailoutbox
) -> None:
    lock = make_lock("wifi")
    for pin in ("1111111", "2222222", "3333333"):
        assert not world.opens(lock.device_id, pin)  # the lock raises its wrong-password alarm on the third
    world.call("POST", f"/_sim/devices/{lock.device_id}/alarm", {"alarm": "pry"})
    for _ in range(2):  # a second sync finds the same records again: nothing new
        django_rq.get_queue("sync").enqueue(jobs.sync_lock_events, lock.pk)
        run_workers()
    assert sorted(Alert.objects.values_list("kind", "count")) == [(Kind.TAMPER, 1), (Kind.WRONG_CODE_BURST, 1)]
    assert len(mailoutbox) == 2
    assert all("1111111" not in m.body for m in mailoutbox)


def test_an_email_whose_sender_died_mid_send_is_sent_after_the_claim_lapses(make_lock, owner, mailoutbox) -> None:
    from datetime import timedelta

    from django.utils import timezone

    lock = make_lock("wifi")
    record(lock, "alarm_lock", "pry", "pry")
    alert = Alert.objects.get()
    assert len(mailoutbox) == 1
    # Another incident whose sender claimed it and was killed before sending (no emailed_at).
    Alert.objects.filter(pk=alert.pk).update(emailed_at=None, email_claimed_at=timezone.now())
    alert_scans.scan()
    assert len(mailoutbox) == 1  # the claim is fresh: its sender may still be at it
    Alert.objects.filter(pk=alert.pk).update(email_claimed_at=timezone.now() - alerts.EMAIL_CLAIM - timedelta(1))
    alert_scans.scan()
    alert_scans.scan()
    assert len(mailoutbox) == 2  # sent again once, not lost
    alert.refresh_from_db()
    assert alert.emailed_at is not None


def test_unsent_emails_are_resent_in_a_few_queries_whatever_their_number(
    org, owner, django_user_model, mailoutbox
) -> None:
    """The periodic re-send claims, sends and marks its alerts together (it made four queries an alert), and an
    organisation whose owners have no address yet gets its alerts back unclaimed, for when one is added."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    silent = Organisation.objects.create(name="No Address", slug="no-address")
    Membership.objects.create(user=django_user_model.objects.create_user("mute"), organisation=silent, role=Role.OWNER)

    def unsent(organisation: Organisation, n: int) -> None:
        Alert.objects.bulk_create(
            Alert(
                organisation=organisation,
                kind=Kind.OFFLINE,
                dedup_key=f"{organisation.slug}:{i}",
                message="Down",
                first_seen_at=timezone.now(),
                last_seen_at=timezone.now(),
            )
            for i in range(n)
        )

    def resend() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            sent = alert_scans.email_unsent()
        return sent, len(queries)

    unsent(org, 2)
    unsent(silent, 1)
    few = resend()
    Alert.objects.all().delete()
    mailoutbox.clear()
    unsent(org, 30)
    unsent(silent, 10)
    many = resend()
    assert (few[0], many[0]) == (2, 30)
    assert many[1] == few[1]  # claim, load, each organisation's readers, mark sent, release the rest
    assert len(mailoutbox) == 30
    assert all(m.to == ["owner@example.com"] for m in mailoutbox)
    assert not Alert.objects.filter(organisation=org, emailed_at=None).exists()
    left = Alert.objects.filter(organisation=silent)
    assert left.count() == 10
    assert not left.filter(email_claimed_at__isnull=False).exists()
