"""Delivering: signed as Standard Webhooks says (checked with the `standardwebhooks` package), retried on a schedule
that spans more than a day, given up, an endpoint failing for days disabled with its owners told, and at least once
with one webhook-id through a killed worker, never sent by two workers at once."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from datetime import timedelta

import django_rq
import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from tests.locks.conftest import run_workers
from tests.webhooks.conftest import alert_data
from webhooks import delivery, emit, payloads
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db(transaction=True)
Status = WebhookDelivery.Status


def emitted(org, event_type: str = "lock.alert", data: payloads.Data | None = None):
    message = emit.emit(org.pk, event_type, data or alert_data())
    assert message is not None
    return message


def one_delivery(message) -> WebhookDelivery:
    return WebhookDelivery.objects.get(message=message)


def due_now(row: WebhookDelivery) -> None:
    """The time of its next attempt has come (what waiting for the schedule would do)."""
    WebhookDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())


def test_a_delivery_is_signed_as_standard_webhooks_verifies_it(org, make_endpoint, receiver, queues) -> None:
    endpoint, secret = make_endpoint()
    assert secret.startswith("whsec_")
    assert len(secret) > 40
    message = emitted(org)
    run_workers()  # the job enqueued after commit, on the webhooks queue

    [request] = receiver.requests
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload["type"] == "lock.alert"
    assert payload["data"] == {
        "id": 7,
        "lock_id": None,
        "kind": "tamper",
        "message": "Pry alarm",
        "at": payload["data"]["at"],
    }
    assert "+00:00" in payload["timestamp"]  # ISO 8601 with its offset
    assert request.headers["webhook-id"] == message.msg_id
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("Doors-Webhooks/")
    assert abs(int(request.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 10
    assert request.body == message.body.encode()  # the frozen body, byte for byte
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "QUJD" * 11).verify(request.body, request.headers)  # another secret does not verify

    row = one_delivery(message)
    assert (row.status, row.last_status_code, row.claimed_until) == (Status.DELIVERED, 200, None)
    [attempt] = WebhookAttempt.objects.filter(delivery=row)
    assert attempt.status_code == 200
    assert attempt.duration_ms >= 0
    assert attempt.response_body == '{"ok": true}'
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).failing_since is None


def test_a_500_is_retried_after_the_first_wait_with_the_same_webhook_id(org, make_endpoint, receiver, queues) -> None:
    make_endpoint()
    receiver.answers = [500]
    message = emitted(org)
    run_workers()
    row = one_delivery(message)
    assert (row.status, row.attempts, row.last_status_code) == (Status.PENDING, 1, 500)
    assert "HTTP 500" in row.last_error
    wait = (row.next_attempt_at - timezone.now()).total_seconds()
    assert 3.5 < wait <= 5.5  # 5 s ± 10 %
    assert delivery.sweep() == 0  # not due yet: the sweeper leaves it

    due_now(row)
    assert delivery.sweep() == 1
    run_workers()
    row.refresh_from_db()
    assert (row.status, row.last_status_code, row.last_error) == (Status.DELIVERED, 200, "")
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == message.msg_id
    assert first.body == second.body
    log = list(WebhookAttempt.objects.filter(delivery=row).order_by("at"))
    assert [a.status_code for a in log] == [500, 200]
    assert log[0].response_body == "receiver says no"


def test_the_schedule_spans_more_than_a_day_and_then_gives_up(org, make_endpoint, receiver) -> None:
    shortest = sum((d * (1 - delivery.JITTER) for d in delivery.SCHEDULE), timedelta())
    assert shortest >= timedelta(hours=24)
    waits = [delivery.delay_after(n, jitter=0) for n in range(1, len(delivery.SCHEDULE) + 2)]
    assert waits[:3] == [timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30)]
    assert waits[-1] is None
    assert all(a < b for a, b in zip(waits[:5], waits[1:6], strict=False))  # growing

    make_endpoint()
    receiver.default = 503
    row = one_delivery(emitted(org))
    for _ in range(len(delivery.SCHEDULE) + 1):
        due_now(row)
        assert delivery.deliver(row.pk) in ("retry", Status.FAILED)
    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert row.attempts == len(delivery.SCHEDULE) + 1
    assert WebhookAttempt.objects.filter(delivery=row).count() == len(delivery.SCHEDULE) + 1
    assert {r.headers["webhook-id"] for r in receiver.requests} == {row.message.msg_id}
    due_now(row)
    assert delivery.deliver(row.pk) == "not due"  # given up: nothing more is sent


def test_an_endpoint_failing_for_days_is_disabled_and_its_owners_told(
    org, owner, make_endpoint, receiver, settings
) -> None:
    settings.ALERT_EMAIL_TO = []
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 5
    endpoint, _ = make_endpoint()
    receiver.default = 500
    failing, waiting = one_delivery(emitted(org)), one_delivery(emitted(org))
    # Four days of failures: still on.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=4))
    assert delivery.deliver(failing.pk) == "retry"
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).enabled
    assert not mail.outbox

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=6))
    due_now(failing)
    delivery.deliver(failing.pk)
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert endpoint.disabled_for_failing
    assert "failed for 6 days" in endpoint.disabled_reason
    waiting.refresh_from_db()
    assert waiting.status == Status.FAILED
    assert "disabled" in waiting.last_error
    [email] = mail.outbox
    assert email.to == ["owner@example.com"]
    assert endpoint.url in email.subject
    assert "Canal Hotel" in email.subject
    assert endpoint.owners_told_at is not None

    # Disabled: new events get no delivery to it, and the sweeper sends nothing more.
    assert emit.emit(org.pk, "lock.alert", alert_data()) is None
    assert delivery.sweep() == 0
    assert len(mail.outbox) == 1


def test_the_sweeper_disables_a_failing_endpoint_and_retries_the_e_mail(
    org, owner, make_endpoint, settings, monkeypatch
) -> None:
    settings.ALERT_EMAIL_TO = []
    endpoint, _ = make_endpoint()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=9))

    def smtp_down(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr("webhooks.notices.send_mail", smtp_down)
    delivery.sweep()
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert endpoint.owners_told_at is None
    monkeypatch.undo()
    delivery.sweep()
    assert len(mail.outbox) == 1
    delivery.sweep()
    assert len(mail.outbox) == 1  # once


def test_a_worker_killed_mid_delivery_is_replaced_and_the_same_webhook_id_is_sent(
    org, make_endpoint, receiver, queues
) -> None:
    endpoint, secret = make_endpoint()
    message = emitted(org)
    row = one_delivery(message)
    receiver.hold = threading.Event()  # the receiver takes the request and does not answer yet

    connections.close_all()  # the child opens its own connections; the parent's stay untouched
    child = os.fork()
    if child == 0:  # the worker
        try:
            delivery.deliver(row.pk)
        finally:
            os._exit(0)
    receiver.wait_for(1)
    os.kill(child, signal.SIGKILL)  # killed mid-delivery: no outcome recorded, the lease never released
    os.waitpid(child, 0)
    receiver.hold = None

    row.refresh_from_db()
    assert row.status == Status.PENDING
    assert row.claimed_until is not None
    assert not WebhookAttempt.objects.filter(delivery=row).exists()
    assert delivery.sweep() == 0  # the lease still holds: nobody else sends it meanwhile
    assert delivery.deliver(row.pk) == "not due"

    # The lease lapses (LEASE later) and the sweeper hands it out again.
    WebhookDelivery.objects.filter(pk=row.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert delivery.sweep() == 1
    run_workers()
    row.refresh_from_db()
    assert row.status == Status.DELIVERED
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == message.msg_id
    assert Webhook(secret).verify(second.body, second.headers)["type"] == "lock.alert"
    assert WebhookAttempt.objects.filter(delivery=row).count() == 1
    assert delivery.sweep() == 0  # delivered: never again


def test_two_workers_never_send_the_same_delivery_at_once(org, make_endpoint, receiver) -> None:
    make_endpoint()
    row = one_delivery(emitted(org))
    receiver.hold = threading.Event()
    results: list[str] = []

    def worker() -> None:
        try:
            results.append(delivery.deliver(row.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    receiver.wait_for(1)
    # The others find it taken while the first one waits for its answer.
    deadline = time.monotonic() + 5
    while len(results) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    receiver.hold.set()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == ["delivered", "not due", "not due", "not due"]
    assert len(receiver.requests) == 1


def test_a_private_address_is_refused_when_sending_too(org, make_endpoint, receiver, settings) -> None:
    endpoint, _ = make_endpoint()
    # Saved while allowed; then the setting is off: the worker does not call it.
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    row = one_delivery(emitted(org))
    assert delivery.deliver(row.pk) == "retry"
    row.refresh_from_db()
    assert "https" in row.last_error
    assert not receiver.requests

    # An https URL whose name resolves to a loopback address: refused on the address the connection would reach.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="https://localhost:9/hooks")
    due_now(row)
    assert delivery.deliver(row.pk) == "retry"
    row.refresh_from_db()
    assert row.last_error == "localhost is a private or local address; this server does not call those."
    assert row.last_status_code is None


def test_a_redirect_is_not_followed(org, make_endpoint, receiver) -> None:
    make_endpoint()
    receiver.answers = [302]
    row = one_delivery(emitted(org))
    assert delivery.deliver(row.pk) == "retry"
    row.refresh_from_db()
    assert row.last_status_code == 302
    assert "Redirects are not followed" in row.last_error
    assert len(receiver.requests) == 1


def test_an_unreachable_receiver_is_a_logged_attempt(org, make_endpoint) -> None:
    make_endpoint(url="http://127.0.0.1:9/nobody-listens")
    row = one_delivery(emitted(org))
    assert delivery.deliver(row.pk) == "retry"
    [attempt] = WebhookAttempt.objects.filter(delivery=row)
    assert attempt.status_code is None
    assert "Could not connect to 127.0.0.1" in attempt.error


def test_a_lost_job_is_found_by_the_sweeper(org, make_endpoint, receiver, queues) -> None:
    make_endpoint()
    message = emitted(org)
    django_rq.get_connection("webhooks").flushdb()  # Redis lost the job, and its marker with it
    assert delivery.sweep() == 1
    run_workers()
    assert one_delivery(message).status == Status.DELIVERED
    assert json.loads(receiver.requests[0].body)["type"] == "lock.alert"
