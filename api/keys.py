"""API keys: made (the secret shown once), revoked, and recognised on each request. Every change is audited."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit
from tenants.models import Actor, ApiKey, Organisation, Property, user_of

SCOPES = frozenset(ApiKey.Scope.values)
LAST_USED_RESOLUTION = timedelta(minutes=1)  # a key's last use is written at most once a minute, not per request


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AlreadyMade(Exception):
    """The form that makes a key was sent again: its key exists, and its secret was shown once already."""

    def __init__(self, key: ApiKey) -> None:
        super().__init__(key.name)
        self.key = key


@transaction.atomic
def create_key(
    *,
    organisation: Organisation,
    name: str,
    scopes: Iterable[str],
    properties: Iterable[Property] | None = None,
    request_token: uuid.UUID | None = None,
    actor: Actor = None,
    ip: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its secret, which is not stored and cannot be shown again. `properties` limits what the key
    sees to those properties (None: the whole organisation). A `request_token` already used raises AlreadyMade."""
    if request_token is not None:
        earlier = ApiKey.objects.filter(organisation=organisation, request_token=request_token).first()
        if earlier is not None:
            raise AlreadyMade(earlier)
    wanted = sorted(set(scopes))
    unknown = [scope for scope in wanted if scope not in SCOPES]
    if unknown:
        raise ValidationError({"scopes": f"Unknown scope {unknown[0]!r}; choose from {', '.join(sorted(SCOPES))}."})
    if not wanted:
        raise ValidationError({"scopes": "Choose at least one scope."})
    limit = list(properties) if properties is not None else None
    if limit and any(prop.organisation_id != organisation.pk for prop in limit):
        raise ValidationError({"properties": "Choose properties of this organisation."})
    secret = ApiKey.SECRET_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        organisation=organisation,
        name=name.strip(),
        scopes=wanted,
        prefix=secret[: len(ApiKey.SECRET_PREFIX) + 6],
        hashed_secret=hash_secret(secret),
        limited_to_properties=limit is not None,
        created_by=user_of(actor),
        request_token=request_token,
    )
    if not key.name:
        raise ValidationError({"name": "Give the key a name that says who uses it, such as the PMS's."})
    key.full_clean(exclude=["created_by", "request_token"])
    key.save()
    if limit is not None:
        key.properties.set(limit)
    summary = f"{key.name} ({key.prefix}…): {', '.join(wanted)}"
    audit("api_key.create", actor=actor, organisation=organisation, obj=key, summary=summary, ip=ip)
    return key, secret


@transaction.atomic
def revoke_key(key: ApiKey, *, actor: Actor = None, ip: str | None = None) -> ApiKey:
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        summary = f"{key.name} ({key.prefix}…)"
        audit("api_key.revoke", actor=actor, organisation=key.organisation, obj=key, summary=summary, ip=ip)
    return key


def authenticate(secret: str) -> ApiKey | None:
    """The active key with this secret, its last use noted; None for an unknown or revoked one."""
    if not secret.startswith(ApiKey.SECRET_PREFIX) or len(secret) > 100:
        return None
    key = ApiKey.objects.select_related("organisation").filter(hashed_secret=hash_secret(secret)).first()
    if key is None or key.revoked_at is not None:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
