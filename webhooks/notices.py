"""Telling an organisation's owners that one of their webhook endpoints was disabled for failing.

E-mailed once, as alerts are (locks/alerts.py): to ALERT_EMAIL_TO when set, else to the organisation's owners (those
who manage webhooks). The endpoint is claimed through `owners_told_at` before sending and released if sending fails,
so the sweeper tries again; a sender killed between the two loses that one e-mail (the dashboard still says why the
endpoint is off).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from tenants.models import Membership, Role
from webhooks.models import WebhookEndpoint

logger = logging.getLogger(__name__)


def recipients(organisation_id: int) -> list[str]:
    if settings.ALERT_EMAIL_TO:
        return list(settings.ALERT_EMAIL_TO)
    emails = Membership.objects.filter(organisation_id=organisation_id, role=Role.OWNER).values_list(
        "user__email", flat=True
    )
    return sorted({email for email in emails if email})


def tell_owners_disabled(endpoint_id: int) -> bool:
    if not WebhookEndpoint.objects.filter(
        pk=endpoint_id, enabled=False, disabled_for_failing=True, owners_told_at__isnull=True
    ).update(owners_told_at=timezone.now()):
        return False  # told already, being told, or enabled again meanwhile
    endpoint = WebhookEndpoint.objects.select_related("organisation").get(pk=endpoint_id)
    to = recipients(endpoint.organisation_id)
    if not to:
        return False  # nobody to tell: keep it marked, the dashboard shows the reason
    subject = f"[{endpoint.organisation.name}] Webhook endpoint disabled: {endpoint.url}"[:200]
    body = (
        f"Doors stopped sending webhooks to {endpoint.url}.\n\n"
        f"{endpoint.disabled_reason}\n\n"
        "Events since then are kept as failed deliveries. Once the receiver answers again, enable the endpoint on the "
        "Webhooks page of your dashboard (Set-up → Webhooks) and send again the deliveries you need.\n"
    )
    try:
        send_mail(subject, body, None, to)
    except Exception as error:  # SMTP down, refused, timeout: the sweeper tries again
        logger.warning("webhook endpoint %s: e-mail not sent (%s); will retry", endpoint_id, type(error).__name__)
        WebhookEndpoint.objects.filter(pk=endpoint_id).update(owners_told_at=None)
        return False
    return True


def tell_owners_not_told() -> int:
    """The sweeper's part: endpoints disabled for failing whose owners' e-mail is still to be sent."""
    pending = WebhookEndpoint.objects.filter(enabled=False, disabled_for_failing=True, owners_told_at__isnull=True)
    return sum(tell_owners_disabled(pk) for pk in pending.values_list("pk", flat=True)[:50])
