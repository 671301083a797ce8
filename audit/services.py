"""Writing the audit trail: one function, imported at the top by every module that records an action."""

from __future__ import annotations

from typing import Any

from audit.models import AuditEvent
from tenants.models import Actor, ApiKey, Organisation, user_of


def audit(
    action: str,
    *,
    actor: Actor = None,
    organisation: Organisation | None = None,
    obj: Any = None,
    summary: str = "",
    ip: str | None = None,
) -> AuditEvent:
    """Append one row to the audit trail. Never put a PIN or a secret in `summary`."""
    return AuditEvent.objects.create(
        organisation=organisation,
        actor=user_of(actor),
        api_key=actor if isinstance(actor, ApiKey) else None,
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(getattr(obj, "pk", "") or ""),
        summary=summary[:300],
        ip_address=ip,
    )
