"""What a door code's status chip says, and whether the page should keep asking for news of it."""

from __future__ import annotations

from django import template

from locks.models import AccessCode

register = template.Library()
Status, Desired = AccessCode.Status, AccessCode.Desired


def chip(code: AccessCode) -> tuple[str, str, bool]:
    """(css class, label, in progress). In progress while the lock has not yet confirmed what we want."""
    if code.desired == Desired.REMOVED:
        if code.status in (Status.REMOVED, Status.EXPIRED):
            return "removed", "Removed from the lock", False
        if code.status == Status.FAILED:
            return "failed", "Removal failed", False
        return "removing", "Removing…", True
    if code.status == Status.SET:
        if code.needs_modify:
            return "sending", "Updating…", True
        if code.desired == Desired.FROZEN:
            return "sending", "Freezing…", True
        return "set", "On the lock", False
    if code.status == Status.FROZEN and code.desired == Desired.ACTIVE:
        return "sending", "Unfreezing…", True
    labels = {
        Status.REQUESTED: ("requested", "Requested…", True),
        Status.SENDING: ("sending", "Sending to the lock…", True),
        Status.UNKNOWN: ("unknown", "Unknown: checking…", True),
        Status.REMOVING: ("removing", "Removing…", True),
        Status.REMOVED: ("sending", "Sending again…", True),
        Status.FAILED: ("failed", "Failed", False),
        Status.EXPIRED: ("expired", "Expired", False),
        Status.FROZEN: ("frozen", "Frozen", False),
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
