"""The audit trail's one table (kept under its first name, locks_auditevent, with every row it had)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenants.models import ApiKey, Organisation, Reach, ScopedQuerySet


class AuditQuerySet(ScopedQuerySet["AuditEvent"]):
    def _reach(self, membership: Reach) -> Q:
        reach = super()._reach(membership)
        if membership.limited_property_ids is not None:
            # The trail names guests and rooms of every property: a limited front desk sees its own actions only.
            own = Q(actor_id=membership.user_id) if membership.user_id is not None else Q(pk__in=[])
            reach &= own
        return reach


class AuditEvent(models.Model):
    """Append-only: who did what, when, from where. Rows are never updated or deleted by the app."""

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # Set when the actor was an API key (then `actor` is empty): which key, named in the trail.
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        db_table = "locks_auditevent"  # moved from the locks app with its rows (audit/migrations/0001)
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        who = self.api_key if self.api_key_id else self.actor
        return f"{self.at:%Y-%m-%d %H:%M %Z} {who} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("Audit events are append-only.")
