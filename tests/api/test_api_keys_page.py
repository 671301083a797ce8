"""The dashboard's API keys page: owners make a key (shown once) and revoke it (asked first); nobody else may."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from api import keys
from audit.models import AuditEvent
from locks.models import Lock
from tenants.models import ApiKey, Membership, Property, Role
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_an_owner_makes_a_key_that_works_and_is_shown_once(owner_client: Client, lock: Lock) -> None:
    page = owner_client.get("/integrations/api-keys/")
    assert page.status_code == 200
    assert b"Make a key" in page.content
    made = owner_client.post("/integrations/api-keys/new", {"name": "Opera PMS", "scopes": ["read", "stays"]})
    assert made.status_code == 200
    assert made["Cache-Control"] == "no-store"
    secret = made.context["secret"]
    assert secret.encode() in made.content
    assert ApiClient(secret).get("/locks").json()["items"][0]["id"] == lock.pk
    again = owner_client.get("/integrations/api-keys/")
    assert secret.encode() not in again.content
    assert b"Opera PMS" in again.content
    event = AuditEvent.objects.get(action="api_key.create")
    assert event.actor is not None
    assert secret not in event.summary


def test_a_key_limited_to_a_property(owner_client: Client, org: Any, lock: Lock) -> None:
    annex = Property.objects.create(organisation=org, name="Annex", time_zone="Europe/Amsterdam")
    made = owner_client.post(
        "/integrations/api-keys/new", {"name": "Annex PMS", "scopes": ["read"], "properties": [annex.pk]}
    )
    assert ApiClient(made.context["secret"]).get("/locks").json()["items"] == []


def test_bad_input_is_shown_beside_the_fields(owner_client: Client) -> None:
    refused = owner_client.post("/integrations/api-keys/new", {"name": "", "scopes": ["everything"]})
    assert refused.status_code == 400
    assert refused.context["form"].errors.keys() == {"name", "scopes"}
    assert ApiKey.objects.count() == 0


def test_revoking_asks_first_then_revokes(owner_client: Client, org: Any, lock: Lock) -> None:
    secret = owner_client.post("/integrations/api-keys/new", {"name": "Script", "scopes": ["read"]}).context["secret"]
    key = ApiKey.objects.get()
    asked = owner_client.post(f"/integrations/api-keys/{key.pk}/revoke")
    assert asked.status_code == 200
    assert b"Revoke the key" in asked.content
    assert ApiKey.objects.get().revoked_at is None
    done = owner_client.post(f"/integrations/api-keys/{key.pk}/revoke", {"confirmed": "yes"})
    assert done.status_code == 302
    assert ApiKey.objects.get().revoked_at is not None
    assert ApiClient(secret).get("/locks").status_code == 401
    assert AuditEvent.objects.filter(action="api_key.revoke").count() == 1


@pytest.mark.parametrize("role", [Role.MANAGER, Role.FRONT_DESK, Role.VIEWER])
def test_only_owners(client: Client, org: Any, django_user_model: Any, role: str) -> None:
    user = django_user_model.objects.create_user(f"u-{role}", password="x")
    Membership.objects.create(user=user, organisation=org, role=role)
    client.force_login(user)
    assert client.get("/integrations/api-keys/").status_code == 403
    assert client.post("/integrations/api-keys/new", {"name": "x", "scopes": ["read"]}).status_code == 403
    assert ApiKey.objects.count() == 0
    stays = client.get("/desk/stays/")
    assert stays.status_code == 200
    assert b"API keys" not in stays.content  # no link in the nav either


def test_the_admin_lists_keys_to_owners_and_revokes_them(client: Client, org: Any, django_user_model: Any) -> None:
    key, _ = keys.create_key(organisation=org, name="Opera", scopes=["read"])
    owner = django_user_model.objects.create_user("admin-owner", is_staff=True)
    owner.user_permissions.set(Permission.objects.filter(codename__in=["view_apikey", "change_apikey"]))
    Membership.objects.create(user=owner, organisation=org, role=Role.OWNER)
    client.force_login(owner)
    listed = client.get("/admin/tenants/apikey/")
    assert listed.status_code == 200
    assert b"Opera" in listed.content
    assert key.hashed_secret.encode() not in client.get(f"/admin/tenants/apikey/{key.pk}/change/").content
    client.post("/admin/tenants/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is not None
    Membership.objects.filter(user=owner).update(role=Role.MANAGER)
    assert client.get("/admin/tenants/apikey/").status_code == 403
