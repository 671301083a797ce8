"""The endpoint services: bad input refused field by field, private and plain-http URLs refused unless allowed, the
secret shown once and encrypted at rest, rotation without a lost delivery, send again, enable and disable, audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from standardwebhooks.webhooks import Webhook

from audit.models import AuditEvent
from tests.locks.conftest import run_workers
from tests.webhooks.conftest import alert_data
from webhooks import delivery, emit, services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.payloads import ALL_TYPES

pytestmark = pytest.mark.django_db(transaction=True)


def refusal(org, **given) -> dict[str, list[str]]:
    options = {"url": "https://hooks.example.com/doors", "event_types": ["stay.created"], **given}
    with pytest.raises(ValidationError) as caught:
        services.create_endpoint(org, **options)
    return caught.value.message_dict


def test_bad_input_is_refused_with_every_field_named(org) -> None:
    errors = refusal(org, url="not a url", event_types=[], description="two\nlines")
    assert set(errors) == {"url", "event_types", "description"}
    assert "full http(s) URL" in errors["url"][0]
    assert "at least one event type" in errors["event_types"][0]
    assert (
        "Unknown event type: stay.eaten" in refusal(org, event_types=["stay.created", "stay.eaten"])["event_types"][0]
    )
    assert "ftp" not in refusal(org, url="ftp://example.com/x")["url"][0]  # told what to use instead
    assert "passwords" in refusal(org, url="https://user:pw@example.com/x")["url"][0]
    assert "at most 500" in refusal(org, url="https://example.com/" + "a" * 500)["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_all_types_are_a_written_out_list_in_a_fixed_order(org) -> None:
    endpoint, _ = services.create_endpoint(org, url="http://127.0.0.1:1/x", event_types=reversed(ALL_TYPES))
    assert endpoint.event_types == list(ALL_TYPES)
    assert set(ALL_TYPES) >= {
        "stay.created",
        "stay.changed",
        "stay.checked_in",
        "stay.checked_out",
        "stay.cancelled",
        "access_code.set",
        "access_code.failed",
        "access_code.removed",
        "lock.unlocked",
        "lock.alert",
        "lock.offline",
        "lock.online",
        "remote_unlock.requested",
    }


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://127.0.0.1/hook", "127.0.0.1 is a private or local address"),
        ("https://10.1.2.3/hook", "10.1.2.3 is a private or local address"),
        ("https://169.254.169.254/latest/meta-data", "is a private or local address"),
        ("https://[::1]/hook", "is a private or local address"),
        ("https://localhost/hook", "localhost is a private or local address"),
        ("https://no-such-host.invalid/hook", "no such host name could be found"),
        ("http://93.184.215.14/hook", "Use an https URL"),
    ],
)
def test_private_loopback_and_plain_http_urls_are_refused_unless_allowed(org, settings, url, words) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    assert words in refusal(org, url=url)["url"][0]


def test_a_public_https_url_is_taken(org, settings) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    endpoint, _ = services.create_endpoint(org, url="https://93.184.215.14/hook", event_types=["lock.alert"])
    assert endpoint.enabled


def test_the_secret_is_returned_once_and_encrypted_at_rest(org, owner) -> None:
    endpoint, secret = services.create_endpoint(
        org, url="http://127.0.0.1:1/x", event_types=["lock.alert"], actor=owner, ip="192.0.2.1"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_webhookendpoint WHERE id = %s", [endpoint.pk])
        (stored,) = cursor.fetchone()
    assert secret not in stored
    assert secret[6:] not in stored
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == secret
    row = AuditEvent.objects.get(action="webhook.create")
    assert (row.actor, row.ip_address, row.object_id) == (owner, "192.0.2.1", str(endpoint.pk))
    assert secret not in row.summary


def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(org, owner, make_endpoint, receiver) -> None:
    endpoint, old = make_endpoint()
    new = services.rotate_secret(endpoint, actor=owner)
    assert new != old
    assert new.startswith("whsec_")
    message = emit.emit(org.pk, "lock.alert", alert_data())
    delivery.deliver(WebhookDelivery.objects.get(message=message).pk)
    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(request.body, request.headers)
    Webhook(old).verify(request.body, request.headers)  # the receiver may still have the old one
    assert AuditEvent.objects.filter(action="webhook.rotate_secret").count() == 1


def send_once(org, receiver) -> WebhookDelivery:
    message = emit.emit(org.pk, "lock.alert", alert_data())
    row = WebhookDelivery.objects.get(message=message)
    delivery.deliver(row.pk)
    row.refresh_from_db()
    return row


def test_send_again_sends_the_same_message_now_and_restarts_the_schedule(org, owner, make_endpoint, receiver, queues):
    make_endpoint()
    receiver.default = 500
    row = send_once(org, receiver)
    assert row.attempts == 1
    WebhookDelivery.objects.filter(pk=row.pk).update(status=WebhookDelivery.Status.FAILED)

    receiver.default = 200
    [again] = services.send_again(row, actor=owner, ip="192.0.2.9")
    assert (again.status, again.attempts) == (WebhookDelivery.Status.PENDING, 0)
    run_workers()
    again.refresh_from_db()
    assert again.status == WebhookDelivery.Status.DELIVERED
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == row.message.msg_id
    assert WebhookAttempt.objects.filter(delivery=row).count() == 2
    assert AuditEvent.objects.filter(action="webhook.send_again", ip_address="192.0.2.9").count() == 1

    # A delivered message may be sent again too (the receiver lost it): the same id once more.
    services.send_again(row.message, actor=owner)
    run_workers()
    assert [r.headers["webhook-id"] for r in receiver.requests] == [row.message.msg_id] * 3


def test_a_disabled_endpoint_gets_nothing_and_is_not_sent_again(org, owner, make_endpoint, receiver) -> None:
    endpoint, _ = make_endpoint()
    receiver.default = 500
    row = send_once(org, receiver)
    services.disable_endpoint(endpoint, actor=owner)
    row.refresh_from_db()
    assert row.status == WebhookDelivery.Status.FAILED  # its pending delivery stops
    assert emit.emit(org.pk, "lock.alert", alert_data()) is None
    with pytest.raises(ValidationError) as caught:
        services.send_again(row, actor=owner)
    assert "enable it" in caught.value.message_dict["endpoint"][0]

    services.enable_endpoint(endpoint, actor=owner)
    endpoint.refresh_from_db()
    assert endpoint.enabled
    assert (endpoint.disabled_reason, endpoint.failing_since) == ("", None)
    assert emit.emit(org.pk, "lock.alert", alert_data()) is not None
    actions = list(AuditEvent.objects.filter(action__startswith="webhook.").values_list("action", flat=True))
    assert {"webhook.create", "webhook.disable", "webhook.enable"} <= set(actions)


def test_update_and_delete(org, owner, make_endpoint, receiver) -> None:
    endpoint, secret = make_endpoint()
    row = send_once(org, receiver)
    with pytest.raises(ValidationError) as caught:
        services.update_endpoint(endpoint, event_types=[], url="nope", actor=owner)
    assert set(caught.value.message_dict) == {"event_types", "url"}
    updated = services.update_endpoint(endpoint, event_types=["lock.online"], description="Channel manager")
    assert (updated.event_types, updated.description, updated.secret) == (["lock.online"], "Channel manager", secret)
    assert emit.emit(org.pk, "lock.alert", alert_data()) is None  # no longer subscribed

    services.delete_endpoint(endpoint, actor=owner)
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.filter(pk=row.pk).exists()
    assert AuditEvent.objects.filter(action="webhook.delete", summary=endpoint.url).exists()
