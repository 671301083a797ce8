"""The Webhooks page: owners only (other roles 403, another organisation's ids 404), the secret shown once, field
errors for bad input, delete and rotate asked first without JavaScript, and "Send again" from the delivery log."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tenants.models import Membership, Organisation, Role
from tests.locks.conftest import run_workers
from tests.webhooks.conftest import alert_data
from webhooks import delivery, emit
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def owner_client(owner: Any) -> Client:
    client = Client()
    client.force_login(owner)
    return client


def member(org: Organisation, role: str, django_user_model: Any) -> Client:
    user = django_user_model.objects.create_user(f"user-{role}-{org.slug}", password="pw-x-12345")
    Membership.objects.create(user=user, organisation=org, role=role)
    client = Client()
    client.force_login(user)
    return client


def test_an_owner_adds_an_endpoint_and_sees_its_secret_once(owner_client: Client, receiver) -> None:
    page = owner_client.get(reverse("webhooks:endpoints"))
    assert page.status_code == 200
    assert b"Add an endpoint" in page.content
    response = owner_client.post(
        reverse("webhooks:create"),
        {"url": receiver.url, "description": "Channel manager", "event_types": ["stay.created", "lock.alert"]},
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.encode() in response.content
    assert b"shown this once" in response.content
    assert endpoint.event_types == ["stay.created", "lock.alert"]

    detail = owner_client.get(reverse("webhooks:endpoint", args=[endpoint.pk]))
    listing = owner_client.get(reverse("webhooks:endpoints"))
    for later in (detail, listing):
        assert later.status_code == 200
        assert endpoint.secret.encode() not in later.content  # never again
    assert b"Channel manager" in listing.content


def test_all_types_is_every_type_written_out(owner_client: Client, receiver) -> None:
    owner_client.post(reverse("webhooks:create"), {"url": receiver.url, "all_types": "on"})
    assert len(WebhookEndpoint.objects.get().event_types) == 13


def test_bad_input_is_shown_beside_its_fields(owner_client: Client, settings) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    response = owner_client.post(reverse("webhooks:create"), {"url": "https://127.0.0.1/x", "description": "x"})
    assert response.status_code == 400
    form = response.context["form"]
    assert "private or local address" in form.errors["url"][0]
    assert "at least one event type" in form.errors["event_types"][0]
    response = owner_client.post(reverse("webhooks:create"), {"url": "https://example.com/x", "event_types": ["nope"]})
    assert response.status_code == 400
    assert "event_types" in response.context["form"].errors
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("role", [Role.MANAGER, Role.FRONT_DESK, Role.VIEWER])
def test_other_roles_are_refused_and_not_offered_the_page(org, make_endpoint, django_user_model, role) -> None:
    endpoint, _ = make_endpoint()
    client = member(org, role, django_user_model)
    assert client.get(reverse("webhooks:endpoints")).status_code == 403
    assert client.get(reverse("webhooks:endpoint", args=[endpoint.pk])).status_code == 403
    assert client.post(reverse("webhooks:delete", args=[endpoint.pk]), {"confirmed": "yes"}).status_code == 403
    assert (
        client.post(reverse("webhooks:create"), {"url": "http://127.0.0.1:1/x", "all_types": "on"}).status_code == 403
    )
    assert WebhookEndpoint.objects.count() == 1
    assert b"/webhooks/" not in client.get(reverse("locks:alerts")).content  # no link in the nav


def test_another_organisations_endpoint_is_not_found(org, make_endpoint, django_user_model) -> None:
    endpoint, _ = make_endpoint()
    row = WebhookDelivery.objects.get(message=emit.emit(org.pk, "lock.alert", alert_data()))
    other = Organisation.objects.create(name="Other", slug="other")
    client = member(other, Role.OWNER, django_user_model)
    for name, args in [
        ("webhooks:endpoint", [endpoint.pk]),
        ("webhooks:update", [endpoint.pk]),
        ("webhooks:enable", [endpoint.pk]),
        ("webhooks:disable", [endpoint.pk]),
        ("webhooks:rotate", [endpoint.pk]),
        ("webhooks:delete", [endpoint.pk]),
        ("webhooks:send-again", [endpoint.pk, row.pk]),
    ]:
        method = client.get if name == "webhooks:endpoint" else client.post
        assert method(reverse(name, args=args), {"confirmed": "yes"}).status_code == 404, name
    endpoint.refresh_from_db()
    assert endpoint.enabled
    assert b"Other" in client.get(reverse("webhooks:endpoints")).content
    assert endpoint.url.encode() not in client.get(reverse("webhooks:endpoints")).content


def test_delete_asks_first_without_javascript(owner_client: Client, make_endpoint) -> None:
    endpoint, _ = make_endpoint()
    ask = owner_client.post(reverse("webhooks:delete", args=[endpoint.pk]))
    assert ask.status_code == 200
    assert b"Delete this endpoint?" in ask.content
    assert b'name="confirmed" value="yes"' in ask.content
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    done = owner_client.post(reverse("webhooks:delete", args=[endpoint.pk]), {"confirmed": "yes"})
    assert done.status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_rotate_asks_first_then_shows_the_new_secret_once(owner_client: Client, make_endpoint) -> None:
    endpoint, old = make_endpoint()
    ask = owner_client.post(reverse("webhooks:rotate", args=[endpoint.pk]))
    assert b"Rotate the secret?" in ask.content
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == old
    shown = owner_client.post(reverse("webhooks:rotate", args=[endpoint.pk]), {"confirmed": "yes"})
    new = WebhookEndpoint.objects.get(pk=endpoint.pk).secret
    assert new != old
    assert new.encode() in shown.content
    assert shown["Cache-Control"] == "no-store"


def test_the_delivery_log_and_send_again(owner_client: Client, org, make_endpoint, receiver, queues) -> None:
    endpoint, _ = make_endpoint()
    receiver.default = 500
    row = WebhookDelivery.objects.get(message=emit.emit(org.pk, "lock.alert", alert_data()))
    delivery.deliver(row.pk)
    page = owner_client.get(reverse("webhooks:endpoint", args=[endpoint.pk]))
    assert b"lock.alert" in page.content
    assert b"HTTP 500" in page.content
    assert row.message.msg_id.encode() in page.content
    assert b"Send again" in page.content

    receiver.default = 200
    response = owner_client.post(reverse("webhooks:send-again", args=[endpoint.pk, row.pk]))
    assert response.status_code == 302
    run_workers()
    row.refresh_from_db()
    assert row.status == WebhookDelivery.Status.DELIVERED
    assert WebhookAttempt.objects.filter(delivery=row).count() == 2
    assert AuditEvent.objects.filter(action="webhook.send_again").exists()


def test_disable_and_enable_from_the_page(owner_client: Client, make_endpoint) -> None:
    endpoint, _ = make_endpoint()
    owner_client.post(reverse("webhooks:disable", args=[endpoint.pk]))
    assert not WebhookEndpoint.objects.get(pk=endpoint.pk).enabled
    owner_client.post(reverse("webhooks:enable", args=[endpoint.pk]))
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).enabled


def test_edit_refuses_no_types_and_saves_new_ones(owner_client: Client, make_endpoint) -> None:
    endpoint, _ = make_endpoint()
    url = reverse("webhooks:update", args=[endpoint.pk])
    refused = owner_client.post(url, {"url": endpoint.url})
    assert refused.status_code == 400
    assert "event_types" in refused.context["form"].errors
    owner_client.post(url, {"url": endpoint.url, "event_types": ["lock.offline", "lock.online"]})
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).event_types == ["lock.offline", "lock.online"]


def test_the_owner_finds_the_page_from_the_nav_and_the_set_up_page(owner_client: Client) -> None:
    assert b'href="/webhooks/"' in owner_client.get(reverse("locks:setup")).content
    assert b'href="/webhooks/"' in owner_client.get(reverse("locks:alerts")).content
