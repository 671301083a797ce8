"""tenants.models.role_in: the one rule behind who may see PINs, open a door from the lock page and acknowledge
alerts: a role in the organisation (superusers always), and with a lock the member's reach (a front desk limited to
some properties: only their locks, never one on no door)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from locks.models import Lock
from tenants.models import CODE_ROLES, MANAGER_ROLES, Membership, Organisation, Property, Role, Unit, role_in
from tests.tenants.conftest import offline_lock

pytestmark = pytest.mark.django_db


def member(org: Organisation, name: str, role: str, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user(name)
    Membership.objects.create(user=user, organisation=org, role=role)
    return user


def test_a_role_in_the_set_in_that_organisation(django_user_model: Any) -> None:
    org = Organisation.objects.create(name="Canal Group", slug="canal")
    other = Organisation.objects.create(name="Elsewhere", slug="elsewhere")
    manager = member(org, "manager", Role.MANAGER, django_user_model)
    desk = member(org, "desk", Role.FRONT_DESK, django_user_model)
    viewer = member(org, "viewer", Role.VIEWER, django_user_model)
    assert role_in(manager, org.pk, MANAGER_ROLES)
    assert not role_in(desk, org.pk, MANAGER_ROLES)
    assert role_in(desk, org.pk, CODE_ROLES)
    assert not role_in(viewer, org.pk, CODE_ROLES)
    assert not role_in(manager, other.pk, MANAGER_ROLES)  # a role here is none there
    assert not role_in(AnonymousUser(), org.pk, CODE_ROLES)
    assert not role_in(None, org.pk, CODE_ROLES)  # the app itself is nobody's member
    root = django_user_model.objects.create_superuser("root")
    assert role_in(root, other.pk, frozenset({Role.OWNER}))


def test_with_a_lock_a_limited_desk_reaches_only_its_properties_locks(django_user_model: Any) -> None:
    org = Organisation.objects.create(name="Canal Group", slug="canal")
    canal = Property.objects.create(organisation=org, name="Canal Hotel", kind="hotel")
    harbour = Property.objects.create(organisation=org, name="Harbour Inn", kind="hotel")
    canal_lock = offline_lock(org, Unit.objects.create(property=canal, name="Room 12"))
    harbour_lock = offline_lock(org, Unit.objects.create(property=harbour, name="Room 3"))
    loose_lock = Lock.objects.create(
        organisation=org, cloud_account=canal_lock.cloud_account, unit=None, device_id="dev-spare", name="Spare"
    )
    desk = member(org, "desk", Role.FRONT_DESK, django_user_model)
    owner = member(org, "owner", Role.OWNER, django_user_model)
    assert all(role_in(desk, org.pk, CODE_ROLES, lock=lock) for lock in (canal_lock, harbour_lock, loose_lock))
    Membership.objects.get(user=desk).limit_to([canal])
    assert role_in(desk, org.pk, CODE_ROLES, lock=canal_lock)
    assert not role_in(desk, org.pk, CODE_ROLES, lock=harbour_lock)
    assert not role_in(desk, org.pk, CODE_ROLES, lock=loose_lock)  # on no door: on none of its properties
    assert role_in(desk, org.pk, CODE_ROLES)  # without a lock: the role alone
    assert role_in(owner, org.pk, CODE_ROLES, lock=loose_lock)  # the limit is the front desk's only
