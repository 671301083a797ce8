"""A stay's guest page link: made once per stay, its token stored hashed (looked up by the hash) and encrypted (so
the desk and the guest's messages can give the same link again). The unit's arrival link and calendar export keep
their tokens the same way, through `made_once` and `give_new_token`."""

from __future__ import annotations

import hashlib
import secrets
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from bookings.models import GuestPass, UnitArrivalLink, UnitCalendarExport
from tenants.models import Stay

TokenRow = TypeVar("TokenRow", GuestPass, UnitArrivalLink, UnitCalendarExport)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def made_once(model: type[TokenRow], **owner: object) -> TokenRow:
    """The secret link's row of `owner` (a stay's pass, a unit's arrival link or calendar export), made on first use
    with a new token; racing callers get the same one."""
    rows = model._default_manager
    existing = rows.filter(**owner).first()
    if existing is not None:
        return existing
    token = secrets.token_urlsafe(24)  # 192 bits
    try:
        with transaction.atomic():
            return rows.create(token_hash=token_hash(token), token=token, **owner)
    except IntegrityError:  # another request made it first
        return rows.get(**owner)


def give_new_token(row: TokenRow) -> None:
    """A new token for the row (its old link answers 404 from now on), lifting a revocation where it has one."""
    token = secrets.token_urlsafe(24)
    row.token_hash, row.token = token_hash(token), token
    fields = ["token_hash", "token"]
    if not isinstance(row, UnitCalendarExport):  # an export is renewed, never revoked
        row.revoked_at = None
        fields.append("revoked_at")
    row.save(update_fields=fields)


def pass_for(stay: Stay) -> GuestPass:
    """The stay's guest pass, made on first use; racing callers get the same one."""
    return made_once(GuestPass, stay=stay)


def guest_link(stay: Stay) -> str:
    """The absolute address of the stay's guest page (PUBLIC_BASE_URL: workers have no request to ask); empty when
    the desk revoked it (a message then goes without it: a new link is the desk's call)."""
    made = pass_for(stay)
    if made.revoked_at is not None:
        return ""
    return settings.PUBLIC_BASE_URL + reverse("guest:stay", kwargs={"token": made.token})


def find(token: str) -> GuestPass | None:
    """The pass this token opens, revoked or not (the caller says what a revoked or out-of-window pass shows)."""
    if not token or len(token) > 100:
        return None
    return (
        GuestPass.objects.select_related("stay__unit__property", "stay__guest")
        .filter(token_hash=token_hash(token))
        .first()
    )
