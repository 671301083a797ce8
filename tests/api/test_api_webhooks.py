"""Webhook endpoints through the API: the webhooks scope, the secret once, changes, enable/disable, rotation,
deletion, the delivery log and send again; refusals as problems; the document's webhooks section."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEvent
from tenants.models import Organisation
from tests.api.conftest import ApiClient, document
from tests.webhooks.conftest import alert_data
from webhooks import emit
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.payloads import ALL_TYPES, EVENT_TYPES

pytestmark = pytest.mark.django_db
URL = "http://127.0.0.1:9/hooks"


def test_register_change_rotate_disable_and_delete(api: ApiClient, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    made = api.post("/webhook-endpoints", {"url": URL, "event_types": ["stay.created", "access_code.set"]})
    assert made.status_code == 201
    body = made.json()
    assert body["secret"].startswith("whsec_")
    endpoint_id = body["id"]
    shown = api.get(f"/webhook-endpoints/{endpoint_id}").json()
    assert "secret" not in shown
    assert shown["event_types"] == ["stay.created", "access_code.set"]
    changed = api.patch(f"/webhook-endpoints/{endpoint_id}", {"event_types": ["lock.unlocked"], "description": "PMS"})
    assert changed.json()["event_types"] == ["lock.unlocked"]
    rotated = api.post(f"/webhook-endpoints/{endpoint_id}/rotate-secret").json()["secret"]
    assert rotated != body["secret"]
    off = api.patch(f"/webhook-endpoints/{endpoint_id}", {"enabled": False}).json()
    assert off["enabled"] is False
    assert off["disabled_reason"]
    assert api.patch(f"/webhook-endpoints/{endpoint_id}", {"enabled": True}).json()["enabled"] is True
    assert [e["id"] for e in api.get("/webhook-endpoints").json()["items"]] == [endpoint_id]
    assert api.delete(f"/webhook-endpoints/{endpoint_id}").status_code == 204
    assert not WebhookEndpoint.objects.exists()
    actions = set(AuditEvent.objects.filter(api_key__isnull=False).values_list("action", flat=True))
    assert {"webhook.create", "webhook.update", "webhook.rotate_secret", "webhook.delete"} <= actions


def test_bad_endpoints_are_refused_with_fields(api: ApiClient, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    private = api.post("/webhook-endpoints", {"url": "https://127.0.0.1/hooks", "event_types": ["stay.created"]})
    assert private.status_code == 422
    assert private.json()["errors"][0]["field"] == "url"
    unknown = api.post("/webhook-endpoints", {"url": "https://example.com/h", "event_types": ["stay.exploded"]})
    assert unknown.status_code == 422
    none = api.post("/webhook-endpoints", {"url": "https://example.com/h", "event_types": []})
    assert none.status_code == 422
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_and_send_again(api: ApiClient, org: Any, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    endpoint_id = api.post("/webhook-endpoints", {"url": URL, "event_types": ["lock.alert"]}).json()["id"]
    emit.emit(org.pk, "lock.alert", alert_data())
    [delivery] = api.get(f"/webhook-endpoints/{endpoint_id}/deliveries").json()["items"]
    assert delivery["status"] == "pending"
    assert delivery["webhook_id"].startswith("msg_")
    WebhookDelivery.objects.update(status=WebhookDelivery.Status.FAILED)
    again = api.post(f"/webhook-deliveries/{delivery['id']}/send-again").json()
    assert again["status"] == "pending"
    assert again["webhook_id"] == delivery["webhook_id"]
    api.patch(f"/webhook-endpoints/{endpoint_id}", {"enabled": False})
    refused = api.post(f"/webhook-deliveries/{delivery['id']}/send-again")
    assert refused.status_code == 422
    assert "enable" in refused.json()["detail"]


def test_the_webhooks_scope_and_another_organisations_ids(api_as: Any, make_key: Any, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    reader = api_as(["read", "stays", "codes", "reveal-pins", "remote-unlock"])
    assert reader.get("/webhook-endpoints").status_code == 403
    assert reader.post("/webhook-endpoints", {"url": URL, "event_types": ["stay.created"]}).status_code == 403
    other = Organisation.objects.create(name="Other", slug="other")
    theirs = ApiClient(make_key(organisation=other)[1])
    their_id = theirs.post("/webhook-endpoints", {"url": URL, "event_types": ["stay.created"]}).json()["id"]
    mine = api_as()
    assert mine.get(f"/webhook-endpoints/{their_id}").status_code == 404
    assert mine.delete(f"/webhook-endpoints/{their_id}").status_code == 404
    assert mine.get("/webhook-endpoints").json()["items"] == []


def test_the_document_describes_every_event_type() -> None:
    section = document()["webhooks"]
    assert set(section) == set(ALL_TYPES)
    for event_type, model in EVENT_TYPES.items():
        body = section[event_type]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body["properties"]["data"]["$ref"].endswith(model.__name__)
        headers = {p["name"] for p in section[event_type]["post"]["parameters"]}
        assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
