"""A stay's guest page link: made once per stay, its token stored hashed (looked up by the hash) and encrypted (so
the desk and the guest's messages can give the same link again)."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from bookings.models import GuestPass
from tenants.models import Stay


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def pass_for(stay: Stay) -> GuestPass:
    """The stay's guest pass, made on first use; racing callers get the same one."""
    existing = GuestPass.objects.filter(stay=stay).first()
    if existing is not None:
        return existing
    token = secrets.token_urlsafe(24)  # 192 bits
    try:
        with transaction.atomic():
            return GuestPass.objects.create(stay=stay, token_hash=token_hash(token), token=token)
    except IntegrityError:  # another request made it first
        return GuestPass.objects.get(stay=stay)


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
