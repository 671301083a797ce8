"""What the API keeps of its own: the answers to requests sent with an Idempotency-Key."""

from __future__ import annotations

from django.db import models

from locks.fields import EncryptedTextField
from tenants.models import ApiKey


class IdempotentRequest(models.Model):
    """The first answer to a POST sent with an `Idempotency-Key`: a retry with the same key and body gets it again
    (nothing is done twice), one with another body is refused. Kept 24 hours (`api.idempotency.purge_expired`)."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of method, path and body
    status = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    # Encrypted: an answer names guests, their e-mail and phone (PINs are never kept: reveals are not replayed).
    body = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "key"], name="one_answer_per_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status or 'running'})"
