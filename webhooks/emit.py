"""Emitting an event: one message, and one pending delivery for each enabled endpoint of the organisation that
subscribed to its type, written in the caller's transaction, handed to the `webhooks` workers after commit.

Called by the services where things happen (stays, codes, events, alerts, a lock's online state, doorbells), inside
their transaction: the event exists exactly when what it tells was committed. A job lost after commit is found again
by the sweeper (webhooks/delivery.py), so nothing is lost; nothing is written when nobody listens.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from locks import queues
from webhooks import payloads
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage


def encode(payload: dict[str, object]) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def emit(
    organisation_id: int, event_type: str, data: payloads.Data, *, at: datetime | None = None
) -> WebhookMessage | None:
    """Record the event for every endpoint that wants it; None when none does. Call inside the transaction that
    makes the event true (the services' own)."""
    expected = payloads.EVENT_TYPES[event_type]  # a KeyError here is a programming error: an unknown type
    if not isinstance(data, expected):
        raise TypeError(f"{event_type} carries {expected.__name__}, not {type(data).__name__}")
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(organisation_id=organisation_id, enabled=True).only(
            "pk", "event_types"
        )
        if event_type in endpoint.event_types
    ]
    if not endpoints:
        return None
    now = timezone.now()
    body = encode(payloads.envelope(event_type, at or now, data))
    message = WebhookMessage.objects.create(organisation_id=organisation_id, event_type=event_type, body=body)
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(organisation_id=organisation_id, message=message, endpoint=endpoint, next_attempt_at=now)
            for endpoint in endpoints
        ]
    )
    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: _enqueue(ids))
    return message


def _enqueue(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        queues.enqueue_webhook_delivery(delivery_id)
