"""Owners' webhook endpoints: register, change, enable, disable, rotate the secret, delete, and send a message again.

The dashboard (webhooks/views.py) and the public API call these; each writes its audit row in its transaction and
refuses bad input with a ValidationError naming the field (`url`, `event_types`, `description`). Who may call them
(owners) is the caller's check, as with every service. The secret is returned once, by `create_endpoint` and
`rotate_secret`, and never logged or written to the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit
from locks import queues
from tenants.models import Actor, Organisation, has_control_characters, user_of
from webhooks import delivery, signing, targets
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage
from webhooks.payloads import ALL_TYPES

MAX_ENDPOINTS = 20  # per organisation: each one multiplies every event's deliveries
DESCRIPTION_MAX = 200


def clean_event_types(event_types: Iterable[str] | None) -> list[str]:
    """The types in the dashboard's order; ValidationError on `event_types` for none or an unknown one."""
    chosen = [str(value).strip() for value in (event_types or [])]
    unknown = sorted({value for value in chosen if value not in ALL_TYPES})
    if unknown:
        raise ValidationError(
            {"event_types": f"Unknown event type: {', '.join(unknown)}. Choose from {', '.join(ALL_TYPES)}."}
        )
    if not chosen:
        raise ValidationError({"event_types": "Choose at least one event type (or all of them)."})
    return [value for value in ALL_TYPES if value in chosen]


def clean_description(description: str | None) -> str:
    value = (description or "").strip()
    if len(value) > DESCRIPTION_MAX:
        raise ValidationError({"description": f"Use at most {DESCRIPTION_MAX} characters."})
    if has_control_characters(value):
        raise ValidationError({"description": "Use one line of plain text, without line breaks or tabs."})
    return value


@contextmanager
def _collected(errors: dict[str, list[str]]) -> Iterator[None]:
    """Gather each field's ValidationError, so one refusal names every field that is wrong."""
    try:
        yield
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)


def _summary(endpoint: WebhookEndpoint) -> str:
    return f"{endpoint.url} ({len(endpoint.event_types)} event types)"


@transaction.atomic
def create_endpoint(
    organisation: Organisation,
    *,
    url: str,
    event_types: Iterable[str],
    description: str = "",
    actor: Actor = None,
    ip: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its secret, which is shown this once."""
    errors: dict[str, list[str]] = {}
    with _collected(errors):
        url = targets.check_url(url)
    with _collected(errors):
        types = clean_event_types(event_types)
    with _collected(errors):
        description = clean_description(description)
    if not errors and WebhookEndpoint.objects.filter(organisation=organisation).count() >= MAX_ENDPOINTS:
        errors["url"] = [f"An organisation may have at most {MAX_ENDPOINTS} endpoints: delete one first."]
    if errors:
        raise ValidationError(errors)
    secret = signing.new_secret()
    endpoint = WebhookEndpoint.objects.create(
        organisation=organisation,
        url=url,
        event_types=types,
        description=description,
        secret=secret,
        created_by=user_of(actor),
    )
    audit("webhook.create", actor=actor, organisation=organisation, obj=endpoint, summary=_summary(endpoint), ip=ip)
    return endpoint, secret


def _locked(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update().select_related("organisation").get(pk=endpoint.pk)


@transaction.atomic
def update_endpoint(
    endpoint: WebhookEndpoint,
    *,
    url: str | None = None,
    event_types: Iterable[str] | None = None,
    description: str | None = None,
    actor: Actor = None,
    ip: str | None = None,
) -> WebhookEndpoint:
    """Change what is given (None: unchanged). New types apply to events from now on."""
    endpoint = _locked(endpoint)
    errors: dict[str, list[str]] = {}
    if url is not None:
        with _collected(errors):
            endpoint.url = targets.check_url(url)
    if event_types is not None:
        with _collected(errors):
            endpoint.event_types = clean_event_types(event_types)
    if description is not None:
        with _collected(errors):
            endpoint.description = clean_description(description)
    if errors:
        raise ValidationError(errors)
    endpoint.save()
    audit(
        "webhook.update",
        actor=actor,
        organisation=endpoint.organisation,
        obj=endpoint,
        summary=_summary(endpoint),
        ip=ip,
    )
    return endpoint


@transaction.atomic
def delete_endpoint(endpoint: WebhookEndpoint, *, actor: Actor = None, ip: str | None = None) -> None:
    """The endpoint goes, with its deliveries and their log (the messages stay for the other endpoints)."""
    endpoint = _locked(endpoint)
    audit("webhook.delete", actor=actor, organisation=endpoint.organisation, obj=endpoint, summary=endpoint.url, ip=ip)
    endpoint.delete()


@transaction.atomic
def enable_endpoint(endpoint: WebhookEndpoint, *, actor: Actor = None, ip: str | None = None) -> WebhookEndpoint:
    """Send to it again, from the next event on (failed deliveries are sent again one by one, `send_again`)."""
    endpoint = _locked(endpoint)
    if endpoint.enabled:
        return endpoint
    # A URL that was fine when saved may not be any more (the setting, or its DNS): say so before enabling.
    targets.check_url(endpoint.url)
    endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = True, None, ""
    endpoint.disabled_for_failing, endpoint.failing_since, endpoint.owners_told_at = False, None, None
    endpoint.save()
    audit("webhook.enable", actor=actor, organisation=endpoint.organisation, obj=endpoint, summary=endpoint.url, ip=ip)
    return endpoint


@transaction.atomic
def disable_endpoint(
    endpoint: WebhookEndpoint, *, actor: Actor = None, ip: str | None = None, reason: str = ""
) -> WebhookEndpoint:
    """Stop sending to it: no new deliveries, and its pending ones fail (they can be sent again once enabled)."""
    endpoint = _locked(endpoint)
    if not endpoint.enabled:
        return endpoint
    who = getattr(user_of(actor), "username", "") or "the app"
    endpoint.enabled, endpoint.disabled_at = False, timezone.now()
    endpoint.disabled_reason = (clean_description(reason) or f"Disabled by {who}.")[:300]
    endpoint.disabled_for_failing = False
    endpoint.save()
    delivery.fail_pending(endpoint.pk)
    audit("webhook.disable", actor=actor, organisation=endpoint.organisation, obj=endpoint, summary=endpoint.url, ip=ip)
    return endpoint


@transaction.atomic
def rotate_secret(endpoint: WebhookEndpoint, *, actor: Actor = None, ip: str | None = None) -> str:
    """A new secret, returned this once. For a day the old one signs too (a second signature in the header), so the
    receiver can switch over without losing a delivery."""
    endpoint = _locked(endpoint)
    new = signing.new_secret()
    endpoint.previous_secret, endpoint.secret = endpoint.secret, new
    endpoint.previous_secret_until = timezone.now() + delivery.PREVIOUS_SECRET_FOR
    endpoint.save()
    audit("webhook.rotate_secret", actor=actor, organisation=endpoint.organisation, obj=endpoint, ip=ip)
    return new


@transaction.atomic
def send_again(
    target: WebhookDelivery | WebhookMessage, *, actor: Actor = None, ip: str | None = None
) -> list[WebhookDelivery]:
    """Send a delivery (or every delivery of a message) again now, with the same `webhook-id` and body; its retry
    schedule starts over. Refused (on `endpoint`) for a disabled endpoint: enable it first."""
    now = timezone.now()
    if isinstance(target, WebhookDelivery):
        rows = Q(pk=target.pk)
        message = target.message
        if not WebhookEndpoint.objects.filter(pk=target.endpoint_id, enabled=True).exists():
            raise ValidationError({"endpoint": "This endpoint is disabled: enable it, then send again."})
    else:
        rows = Q(message=target)
        message = target
    chosen = WebhookDelivery.objects.select_for_update().filter(rows, endpoint__enabled=True)
    ids = list(chosen.values_list("pk", flat=True))
    if not ids:
        raise ValidationError({"endpoint": "No enabled endpoint receives this message: enable one, then send again."})
    WebhookDelivery.objects.filter(pk__in=ids).update(
        status=WebhookDelivery.Status.PENDING, attempts=0, next_attempt_at=now, delivered_at=None
    )
    audit(
        "webhook.send_again",
        actor=actor,
        organisation=message.organisation,
        obj=message,
        summary=f"{message.event_type} {message.msg_id}",
        ip=ip,
    )
    transaction.on_commit(lambda: [queues.enqueue_webhook_delivery(pk) for pk in ids])
    return list(WebhookDelivery.objects.filter(pk__in=ids))
