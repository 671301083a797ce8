"""Webhooks: the endpoints owners register, the messages events become, and each message's delivery to each endpoint
with the log of its attempts (docs/architecture.md, "Webhooks").

A message is written once, in the transaction of what it tells (its body frozen then, its `msg_id` the
`webhook-id` of every attempt, so receivers can deduplicate); a delivery is the outbox row of one message for one
endpoint: pending until a 2xx answer or until the retry schedule gives up.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from locks.fields import EncryptedTextField
from tenants.models import Organisation, scoped


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class WebhookEndpoint(models.Model):
    """Where an organisation wants its events POSTed, which ones, and the secret they are signed with."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)  # never empty: every type is its full list, written out
    # Standard Webhooks form, "whsec_<base64 of 32 random bytes>"; encrypted at rest, shown once.
    secret = EncryptedTextField()
    # After a rotation the old secret also signs for a day (a second signature), so receivers can switch over.
    previous_secret = EncryptedTextField(blank=True, default="")
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # Disabled by the app after failing for days (not by a person): its owners are e-mailed once (owners_told_at).
    disabled_for_failing = models.BooleanField(default=False)
    owners_told_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)  # first failed attempt since the last success
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped("organisation")

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["organisation", "enabled"])]

    def __str__(self) -> str:
        return self.url


class WebhookMessage(models.Model):
    """One event for one organisation, as every endpoint receives it."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="webhook_messages")
    event_type = models.CharField(max_length=40)
    msg_id = models.CharField(max_length=40, unique=True, default=new_message_id)  # the `webhook-id` header
    # The exact bytes POSTed, fixed when the event happened: every attempt sends the same body (a JSON field would
    # come back from PostgreSQL's jsonb with its keys reordered).
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped("organisation")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organisation", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.msg_id}"


class WebhookDelivery(models.Model):
    """One message to one endpoint: the outbox row the workers and the sweeper work through."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")  # the retry schedule gave up, or the endpoint was disabled

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="webhook_deliveries")
    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)  # failed tries since it was (re)started
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)  # a worker is sending it until then
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = scoped("organisation")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["message", "endpoint"], name="one_delivery_per_message_and_endpoint")
        ]
        indexes = [
            # The sweeper's query reads only the pending rows that are due: its cost is what is due, not the history.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.message} → {self.endpoint}"


class WebhookAttempt(models.Model):
    """One POST of a delivery: the per-delivery log (status, response code, duration, error)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # none: no answer (the error says why)
    duration_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=300, blank=True)
    response_body = models.TextField(blank=True)  # its first kilobyte

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["delivery", "-at"])]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
