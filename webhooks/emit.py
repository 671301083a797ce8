"""Emitting an event: one message, and one pending delivery for each enabled endpoint of the organisation that
subscribed to its type, written in the caller's transaction, handed to the `webhooks` workers after commit.

Called by the services where things happen (stays, codes, events, alerts, a lock's online state, doorbells), inside
their transaction: the event exists exactly when what it tells was committed. A job lost after commit is found again
by the sweeper (webhooks/delivery.py), so nothing is lost; nothing is written when nobody listens.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
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
    messages = emit_each(event_type, [(organisation_id, data, at or timezone.now())])
    return messages[0] if messages else None


def emit_each(event_type: str, events: Sequence[tuple[int, payloads.Data, datetime]]) -> list[WebhookMessage]:
    """Record many events of one type, each (organisation, data, when it happened), for every endpoint of its
    organisation that wants it: the messages of those somebody listens to. Three queries however many (a periodic
    scan's new alerts), as the same rows as one `emit` each."""
    expected = payloads.EVENT_TYPES[event_type]  # a KeyError here is a programming error: an unknown type
    for _, data, _ in events:
        if not isinstance(data, expected):
            raise TypeError(f"{event_type} carries {expected.__name__}, not {type(data).__name__}")
    listening: dict[int, list[WebhookEndpoint]] = defaultdict(list)
    organisation_ids = {organisation_id for organisation_id, _, _ in events}
    endpoints = WebhookEndpoint.objects.filter(organisation_id__in=organisation_ids, enabled=True)
    for endpoint in endpoints.only("pk", "organisation_id", "event_types"):
        if event_type in endpoint.event_types:
            listening[endpoint.organisation_id].append(endpoint)
    told = [
        WebhookMessage(
            organisation_id=organisation_id,
            event_type=event_type,
            body=encode(payloads.envelope(event_type, at, data)),
        )
        for organisation_id, data, at in events
        if organisation_id in listening
    ]
    if not told:
        return []
    now = timezone.now()
    messages = WebhookMessage.objects.bulk_create(told)
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            organisation_id=message.organisation_id, message=message, endpoint=endpoint, next_attempt_at=now
        )
        for message in messages
        for endpoint in listening[message.organisation_id]
    )
    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: _enqueue(ids))
    return messages


def _enqueue(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        queues.enqueue_webhook_delivery(delivery_id)
