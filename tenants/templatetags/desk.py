"""What a door code's status chip says, and whether the page should keep asking for news of it."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from locks.models import AccessCode

register = template.Library()
Status, Desired = AccessCode.Status, AccessCode.Desired


def chip(code: AccessCode) -> tuple[str, str, bool]:
    """(css class, label, in progress). In progress while the lock has not yet confirmed what we want."""
    if code.desired == Desired.REMOVED:
        if code.status in (Status.REMOVED, Status.EXPIRED):
            return "removed", _("Removed from the lock"), False
        if code.status == Status.FAILED:
            return "failed", _("Removal failed"), False
        return "removing", _("Removing…"), True
    if code.status == Status.SET:
        if code.needs_modify:
            return "sending", _("Updating…"), True
        if code.desired == Desired.FROZEN:
            return "sending", _("Freezing…"), True
        return "set", _("On the lock"), False
    if code.status == Status.FROZEN and code.desired == Desired.ACTIVE:
        return "sending", _("Unfreezing…"), True
    labels = {
        Status.REQUESTED: ("requested", _("Requested…"), True),
        Status.SENDING: ("sending", _("Sending to the lock…"), True),
        Status.UNKNOWN: ("unknown", _("Unknown: checking…"), True),
        Status.REMOVING: ("removing", _("Removing…"), True),
        Status.REMOVED: ("sending", _("Sending again…"), True),
        Status.FAILED: ("failed", _("Failed"), False),
        Status.EXPIRED: ("expired", _("Expired"), False),
        Status.FROZEN: ("frozen", _("Frozen"), False),
    }
    return labels[Status(code.status)]


@register.filter
def chip_class(code: AccessCode) -> str:
    return chip(code)[0]


@register.filter
def chip_label(code: AccessCode) -> str:
    return chip(code)[1]


@register.filter
def in_progress(code: AccessCode) -> bool:
    return chip(code)[2]
