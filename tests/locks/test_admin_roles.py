"""The staff admin follows organisation roles, whatever Django permissions say (#11 B.7): every registered admin ×
every role, for the list, the change page (read and write), the add page, delete and the actions; nobody raises
their own role or gives one above their own; a staff member with different roles in two organisations gets, in each,
what that role allows."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import models
from django.forms import modelform_factory
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from locks.models import AccessCode, CloudAccount, Lock
from tenants.admin import MembershipForm, ScopedAdmin
from tenants.models import CODE_ROLES, MANAGER_ROLES, Membership, Organisation, Property, Role, Unit
from tests.locks.test_admin import Tenant, build_tenant

pytestmark = pytest.mark.django_db

EVERYONE = frozenset(Role)
OWNERS = frozenset({Role.OWNER})
NOBODY: frozenset[str] = frozenset()

# (who sees the rows, who adds, changes, deletes and runs actions), as on the dashboard: owners manage who is in the
# organisation and its cloud projects, owners and managers set it up, the front desk books guests and codes.
POLICY: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Organisation": (EVERYONE, OWNERS),
    "Membership": (MANAGER_ROLES, OWNERS),
    "CloudAccount": (MANAGER_ROLES, OWNERS),
    "Property": (EVERYONE, MANAGER_ROLES),
    "Unit": (EVERYONE, MANAGER_ROLES),
    "Lock": (EVERYONE, MANAGER_ROLES),
    "Guest": (EVERYONE, CODE_ROLES),
    "Stay": (EVERYONE, CODE_ROLES),
    "AccessCode": (EVERYONE, CODE_ROLES),
    "ApiKey": (OWNERS, OWNERS),  # seen and revoked by owners; made on the dashboard only (the secret shown once)
}
READ_ONLY = (EVERYONE, NOBODY)  # rows the app writes itself: the audit trail, events, operations...
SUPERUSERS_ONLY = (NOBODY, NOBODY)  # not an organisation's: users, groups, sign-in lockouts, the job dashboard

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0].__name__)


def policy(model: type[models.Model], model_admin: Any) -> tuple[frozenset[str], frozenset[str]]:
    if not isinstance(model_admin, ScopedAdmin):
        return SUPERUSERS_ONLY
    return POLICY.get(model.__name__, READ_ONLY)


def test_the_policy_names_only_registered_admins() -> None:
    names = {model.__name__ for model, _ in REGISTERED}
    assert set(POLICY) <= names


def offered_actions(response: Any) -> list[str]:
    action_form = response.context["action_form"]  # None when no action is offered at all
    return [name for name, _ in action_form.fields["action"].choices if name] if action_form else []


def admin_url(model: type[models.Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def superuser_may(model_admin: Any, what: str, obj: Any = None, superuser: Any = None) -> bool:
    """What the admin offers at all (to a superuser): no role may do more."""
    request = RequestFactory().get("/admin/")
    request.user = superuser
    if what == "add":
        return bool(model_admin.has_add_permission(request))
    return bool(getattr(model_admin, f"has_{what}_permission")(request, obj))


def an_object_of(tenant: Tenant, model: type[models.Model]) -> Any:
    obj = tenant.objects.get(model)
    if obj is None and model._meta.managed:  # the unscoped ones: any row (django-rq's dashboard has no table)
        obj = model._default_manager.first()
    return obj


@pytest.fixture
def tenant(django_user_model: Any) -> Tenant:
    a = build_tenant("Alpha", "alpha", "8617342", django_user_model)
    # Every Django permission there is, the auth app's included: only the role should stand in the way.
    a.staff.user_permissions.set(Permission.objects.all())
    return a


@pytest.fixture
def superuser(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-1")


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=lambda v: getattr(v, "__name__", ""))
def test_every_admin_page_follows_the_role(
    client: Any, tenant: Tenant, superuser: Any, model: Any, model_admin: Any, role: str
) -> None:
    Membership.objects.filter(user=tenant.staff).update(role=role)
    viewers, changers = policy(model, model_admin)
    sees, changes = role in viewers | changers, role in changers
    obj = an_object_of(tenant, model)
    client.force_login(tenant.staff)

    def expect(url: str, allowed: bool, method: str = "get", data: Any = None) -> None:
        response = getattr(client, method)(url, data or {})
        if allowed:
            assert response.status_code in (200, 302), f"{role} refused {method.upper()} {url}"
        else:
            assert response.status_code in (403, 404) or (
                response.status_code == 302 and "/login/" in response["Location"]
            ), f"{role} got {response.status_code} for {method.upper()} {url}"

    try:
        changelist = admin_url(model, "changelist")
    except NoReverseMatch:
        pytest.skip("no change list")
    expect(changelist, sees)
    if obj is not None:
        expect(admin_url(model, "change", obj.pk), sees and superuser_may(model_admin, "view", obj, superuser))
        expect(
            admin_url(model, "change", obj.pk),
            changes and superuser_may(model_admin, "change", obj, superuser),
            "post",
            {"_save": "Save"},
        )
    # Organisations are added by superusers only (a new one has no members to see it).
    addable = changes and superuser_may(model_admin, "add", superuser=superuser) and model is not Organisation
    expect(admin_url(model, "add"), addable)
    if sees and obj is not None:
        offered = offered_actions(client.get(changelist))
        if not changes:
            assert not offered, f"{role} is offered {offered} on {model.__name__}"
    if obj is not None:
        deletable = changes and superuser_may(model_admin, "delete", obj, superuser)
        expect(admin_url(model, "delete", obj.pk), deletable, "post", {"post": "yes"})
        if not deletable:
            assert model._default_manager.filter(pk=obj.pk).exists()


def test_a_front_desk_with_change_membership_cannot_make_itself_owner(client: Any, tenant: Tenant) -> None:
    membership = tenant.objects[Membership]
    limited_to = tenant.objects[Property]
    Membership.objects.filter(pk=membership.pk).update(role=Role.FRONT_DESK)
    membership.limit_to([limited_to])
    client.force_login(tenant.staff)
    response = client.post(
        admin_url(Membership, "change", membership.pk),
        {"user": tenant.staff.pk, "organisation": tenant.org.pk, "role": Role.OWNER, "properties": []},
    )
    assert response.status_code in (403, 404)  # 404: a front desk does not even see the members
    membership.refresh_from_db()
    assert membership.role == Role.FRONT_DESK
    assert membership.limited_to_properties
    assert list(membership.properties.all()) == [limited_to]


def test_an_owner_cannot_change_their_own_property_limit(client: Any, tenant: Tenant) -> None:
    membership = tenant.objects[Membership]
    client.force_login(tenant.staff)
    response = client.post(
        admin_url(Membership, "change", membership.pk),
        {
            "user": tenant.staff.pk,
            "organisation": tenant.org.pk,
            "role": Role.OWNER,
            "limited_to_properties": "on",
            "properties": [tenant.objects[Property].pk],
        },
    )
    assert response.status_code == 200
    assert "properties" in response.context["adminform"].form.errors
    assert not membership.properties.exists()
    assert not Membership.objects.get(pk=membership.pk).limited_to_properties


def test_an_owner_limits_a_desk_explicitly_in_the_admin(client: Any, tenant: Tenant, django_user_model: Any) -> None:
    """The limit is its own box: properties chosen without it are refused (they would limit nothing), and a desk
    limited to no property at all is limited to nothing, not to everything."""
    desk = django_user_model.objects.create_user("desk-limited")
    membership = Membership.objects.create(user=desk, organisation=tenant.org, role=Role.FRONT_DESK)
    client.force_login(tenant.staff)
    url = admin_url(Membership, "change", membership.pk)
    base = {"user": desk.pk, "organisation": tenant.org.pk, "role": Role.FRONT_DESK}
    response = client.post(url, {**base, "properties": [tenant.objects[Property].pk]})
    assert response.status_code == 200
    assert "limited_to_properties" in response.context["adminform"].form.errors
    assert not Membership.objects.get(pk=membership.pk).properties.exists()
    assert client.post(url, {**base, "limited_to_properties": "on", "properties": []}).status_code == 302
    membership = Membership.objects.get(pk=membership.pk)
    assert membership.limited_to_properties
    assert membership.limited_property_ids == frozenset()
    assert not Property.objects.for_user(desk).exists()
    assert client.post(url, {**base, "properties": []}).status_code == 302  # the limit lifted
    assert Membership.objects.get(pk=membership.pk).limited_property_ids is None
    assert Property.objects.for_user(desk).exists()


@pytest.mark.parametrize("actor_role", list(Role), ids=str)
@pytest.mark.parametrize("given", list(Role), ids=str)
def test_nobody_gives_a_role_above_their_own_or_raises_their_own(
    tenant: Tenant, django_user_model: Any, actor_role: str, given: str
) -> None:
    """The form's rule, below the admin's gate (which lets only owners manage members at all)."""
    rank = [Role.VIEWER, Role.FRONT_DESK, Role.MANAGER, Role.OWNER]
    Membership.objects.filter(user=tenant.staff).update(role=actor_role)
    colleague = django_user_model.objects.create_user("colleague")
    form_class = modelform_factory(
        Membership, form=MembershipForm, fields=["user", "organisation", "role", "properties"]
    )
    form_class.actor = tenant.staff
    others = form_class({"user": colleague.pk, "organisation": tenant.org.pk, "role": given, "properties": []})
    assert others.is_valid() == (rank.index(given) <= rank.index(actor_role)), others.errors

    own = Membership.objects.get(user=tenant.staff)
    mine = form_class(
        {"user": tenant.staff.pk, "organisation": tenant.org.pk, "role": given, "properties": []}, instance=own
    )
    assert mine.is_valid() == (rank.index(given) <= rank.index(actor_role)), mine.errors


def test_two_organisations_two_roles(client: Any, tenant: Tenant, django_user_model: Any) -> None:
    """Owner of Alpha, front desk at Bravo: Bravo's members, cloud projects and setup stay out of reach."""
    bravo = build_tenant("Bravo", "bravo", "9264815", django_user_model)
    Membership.objects.create(user=tenant.staff, organisation=bravo.org, role=Role.FRONT_DESK)
    client.force_login(tenant.staff)

    shown = client.get(admin_url(Membership, "changelist")).context["cl"].result_list
    assert {m.organisation_id for m in shown} == {tenant.org.pk}
    assert client.get(admin_url(CloudAccount, "change", bravo.objects[CloudAccount].pk)).status_code == 404
    assert client.get(admin_url(Lock, "change", bravo.objects[Lock].pk)).status_code == 200  # sees it
    assert client.post(admin_url(Lock, "change", bravo.objects[Lock].pk), {"_save": "Save"}).status_code == 403
    assert client.post(admin_url(Lock, "delete", bravo.objects[Lock].pk), {"post": "yes"}).status_code == 403

    # The stock delete action over both: only Alpha's row goes, Bravo's is named as refused.
    spare = [Property.objects.create(organisation=t.org, name=f"Spare {t.org.slug}") for t in (tenant, bravo)]
    response = client.post(
        admin_url(Property, "changelist"),
        {"action": "delete_selected", "_selected_action": [p.pk for p in spare], "post": "yes"},
        follow=True,
    )
    assert response.context is not None, (response.status_code, response.redirect_chain, response.content[:500])
    assert any("Not for your role: Spare bravo" in str(m) for m in response.context["messages"])
    assert not Property.objects.filter(pk=spare[0].pk).exists()
    assert Property.objects.filter(pk=spare[1].pk).exists()

    # Adding a unit: Bravo's properties are not offered, and posting one is refused.
    form = client.get(admin_url(Unit, "add")).context["adminform"].form
    assert set(form.fields["property"].queryset) == {tenant.objects[Property]}
    response = client.post(admin_url(Unit, "add"), {"property": bravo.objects[Property].pk, "name": "Attic"})
    assert response.status_code == 200
    assert "property" in response.context["adminform"].form.errors
    assert not Unit.objects.filter(name="Attic").exists()

    # Codes at Bravo are the front desk's business there: the action runs.
    assert AccessCode.objects.filter(pk=bravo.objects[AccessCode].pk).exists()
    assert "remove" in offered_actions(client.get(admin_url(AccessCode, "changelist")))


def test_a_limited_desk_keeps_the_guest_it_adds(client: Any, tenant: Tenant, django_user_model: Any) -> None:
    """A guest added in the admin has no stay or code yet: the limited desk that added it still finds it (it was a
    404 right after saving); another desk limited to the same property does not, until the guest stays there."""
    from tenants.models import Guest

    membership = tenant.objects[Membership]
    Membership.objects.filter(pk=membership.pk).update(role=Role.FRONT_DESK)
    membership.refresh_from_db()
    membership.limit_to([tenant.objects[Property]])
    other_desk = django_user_model.objects.create_user("other-desk")
    Membership.objects.create(user=other_desk, organisation=tenant.org, role=Role.FRONT_DESK).limit_to(
        [tenant.objects[Property]]
    )
    client.force_login(tenant.staff)
    response = client.post(admin_url(Guest, "add"), {"organisation": tenant.org.pk, "name": "Walk-in Guest"})
    assert response.status_code == 302
    guest = Guest.objects.get(name="Walk-in Guest")
    assert client.get(admin_url(Guest, "change", guest.pk)).status_code == 200
    assert guest.created_by == tenant.staff
    assert "Walk-in Guest" in client.get(admin_url(Guest, "changelist")).content.decode()
    assert guest in Guest.objects.for_user(tenant.staff)
    assert guest not in Guest.objects.for_user(other_desk)


def test_tenants_models_import_nothing_from_locks() -> None:
    """The guest reach is said through reverse lookups: the models below import nothing from the app above."""
    import ast
    from pathlib import Path

    import tenants.models

    tree = ast.parse(Path(tenants.models.__file__).read_text())
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [name for name in imported if name and name.split(".")[0] == "locks"]
