"""A property's arrival and message settings: its booking policy and its message templates, changed by owners and
managers, each change audited. Forms validate the input; these re-check what matters and write."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from audit.services import audit
from bookings.messages import validate_template
from bookings.models import BookingPolicy, MessageTemplate
from tenants.models import MANAGER_ROLES, Actor, Property, role_in

MAX_CHECK_HOURS = 14 * 24  # two weeks ahead is the furthest a check makes sense


def may_change(actor: Actor, prop: Property) -> bool:
    return role_in(actor, prop.organisation_id, MANAGER_ROLES)


def _require(actor: Actor, prop: Property, ip: str | None) -> None:
    if not may_change(actor, prop):
        audit("booking_policy.change_refused", actor=actor, organisation=prop.organisation, obj=prop, ip=ip)
        raise PermissionDenied("Only owners and managers may change a property's arrival and message settings.")


@dataclass(frozen=True)
class PolicyValues:
    arrival_check_hours: list[int]
    code_message_hours: int
    checkout_reminder_hours: int | None  # None: no reminder
    feed_alert_after_hours: int


@transaction.atomic
def save_policy(prop: Property, values: PolicyValues, *, actor: Actor, ip: str | None = None) -> BookingPolicy:
    _require(actor, prop, ip)
    hours = sorted(set(values.arrival_check_hours), reverse=True)
    if not hours or any(not 1 <= hour <= MAX_CHECK_HOURS for hour in hours):
        raise ValidationError(
            {"arrival_check_hours": f"Give one or more whole hours before check-in, each from 1 to {MAX_CHECK_HOURS}."}
        )
    policy, _ = BookingPolicy.objects.select_for_update().get_or_create(property=prop)
    policy.arrival_check_hours = hours
    policy.code_message_hours = values.code_message_hours
    policy.checkout_reminder_hours = values.checkout_reminder_hours
    policy.feed_alert_after_hours = values.feed_alert_after_hours
    policy.full_clean()
    policy.save()
    reminder = "off" if values.checkout_reminder_hours is None else f"{values.checkout_reminder_hours} h"
    summary = (
        f"checks {', '.join(str(h) for h in hours)} h; code message {values.code_message_hours} h; "
        f"check-out reminder {reminder}; feed alert {values.feed_alert_after_hours} h"
    )
    audit("booking_policy.change", actor=actor, organisation=prop.organisation, obj=prop, summary=summary, ip=ip)
    return policy


def save_template(
    prop: Property,
    *,
    kind: str,
    language: str,
    subject: str,
    body: str,
    template: MessageTemplate | None = None,
    actor: Actor,
    ip: str | None = None,
) -> MessageTemplate:
    """Add a template (or change `template`); its words are refused in words if a placeholder is unknown."""
    _require(actor, prop, ip)
    validate_template(kind, subject, body)
    language = language.strip().lower()
    row = template or MessageTemplate(property=prop)
    if row.property_id != prop.pk:
        raise ValidationError(gettext("This template belongs to another property."))
    row.kind, row.language, row.subject, row.body = kind, language, subject.strip(), body
    row.full_clean(validate_unique=False, validate_constraints=False)  # the database says, in our words below
    try:
        with transaction.atomic():
            row.save()
            audit(
                "message_template.change" if template else "message_template.add",
                actor=actor,
                organisation=prop.organisation,
                obj=prop,
                summary=f"{row.get_kind_display()} ({language})",
                ip=ip,
            )
    except IntegrityError:
        raise ValidationError(
            {"language": f"There is already a “{row.get_kind_display()}” template in “{language}”: change that one."}
        ) from None
    return row


@transaction.atomic
def delete_template(template: MessageTemplate, *, actor: Actor, ip: str | None = None) -> None:
    prop = template.property
    _require(actor, prop, ip)
    summary = f"{template.get_kind_display()} ({template.language})"
    template.delete()
    audit("message_template.delete", actor=actor, organisation=prop.organisation, obj=prop, summary=summary, ip=ip)
