"""The Django admin for staff, scoped to the organisations a staff member belongs to (docs/architecture.md, the
rules of the arrows; docs/reliability.md S2). `ScopedAdmin` is the base of every admin in tenants and locks:
querysets, object lookups and foreign-key choices all go through the models' `for_user`, and another organisation's
object is a 404.

Django's permissions say what a staff member may do in the admin at all; the organisation role says where, as on the
dashboard: each admin names the roles that may see its rows (`view_roles`) and that may add, change, delete them or
run its actions (`change_roles`), and both must allow it. Admins of models no organisation owns (users, groups, the
sign-in lockouts) are for superusers only (`superusers_only_for_the_rest`).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from locks import pins as lock_pins
from locks.forms import apply_service_error
from locks.templatetags.zones import local, zone_name
from tenants import reauth, services
from tenants.forms import BookStayForm
from tenants.models import (
    CODE_ROLES,
    MANAGER_ROLES,
    Guest,
    Membership,
    Organisation,
    Property,
    RequestUser,
    Role,
    ScopedQuerySet,
    Stay,
    Unit,
    user_of,
)
from tenants.signals import client_ip

# A foreign-key filter that lists only the organisations present in the (scoped) rows: the stock one lists every
# organisation in the table, names included.
ORGANISATION_FILTER = ("organisation", admin.RelatedOnlyFieldListFilter)

if TYPE_CHECKING:  # generic only in django-stubs: at run time Django's classes take no type arguments
    _ModelForm = forms.ModelForm[Any]  # each subclass is for its own model
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelForm, _ModelAdmin = forms.ModelForm, admin.ModelAdmin


def is_scoped(model: type[models.Model]) -> bool:
    return isinstance(model._default_manager.all(), ScopedQuerySet)


def organisation_id_of(obj: models.Model) -> int | None:
    """The organisation an object belongs to, by walking its manager's `org_path`."""
    path: str = model_path(type(obj))
    target: Any = obj
    for part in path.split("__") if path else []:
        target = getattr(target, part, None)
        if target is None:
            return None
    organisation_id: int | None = target.pk
    return organisation_id


def model_path(model: type[models.Model]) -> str:
    return model._default_manager.all().org_path  # type: ignore[attr-defined,no-any-return]


def users_for(user: RequestUser) -> QuerySet[Any]:
    """The users a staff member may pick: the members of their organisations (superusers: everyone).

    The auth User table is not organisation-scoped, so without this any username would be one click away."""
    users = get_user_model()._default_manager.all()
    if getattr(user, "is_superuser", False):
        return users
    return users.filter(memberships__organisation__in=Organisation.objects.for_user(user)).distinct()


class SameOrganisationForm(_ModelForm):
    """Everything one object points at belongs to one organisation (a staff member of two organisations could
    otherwise put one's lock in the other's unit: both pass the per-field scoping)."""

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        orgs: set[int] = set()
        for value in cleaned.values():
            related = list(value) if isinstance(value, QuerySet) else [value]
            for item in related:
                if isinstance(item, models.Model) and is_scoped(type(item)):
                    org_id = organisation_id_of(item)
                    if org_id is not None:
                        orgs.add(org_id)
        if self.instance.pk is not None and is_scoped(type(self.instance)):
            current = organisation_id_of(self.instance)
            if current is not None and model_path(type(self.instance)) != "":
                orgs.add(current)
        if len(orgs) > 1:
            raise ValidationError("Everything chosen here must belong to the same organisation.")
        return cleaned


ALL_ROLES = frozenset(Role)
# Higher ranks include what lower ones may do: nobody gives a role above their own.
ROLE_RANK: dict[str, int] = {Role.VIEWER: 0, Role.FRONT_DESK: 1, Role.MANAGER: 2, Role.OWNER: 3}


def roles_by_organisation(request: HttpRequest) -> dict[int, str]:
    """{organisation id: the user's role there}, read once per request."""
    cached: dict[int, str] | None = getattr(request, "_roles_by_organisation", None)
    if cached is None:
        cached = dict(Membership.objects.filter(user=user_of(request.user)).values_list("organisation_id", "role"))
        request._roles_by_organisation = cached  # type: ignore[attr-defined]
    return cached


def organisations_where(request: HttpRequest, roles: frozenset[str]) -> list[int]:
    return [org_id for org_id, role in roles_by_organisation(request).items() if role in roles]


def in_organisations(queryset: QuerySet[Any], org_ids: list[int]) -> QuerySet[Any]:
    path = model_path(queryset.model)
    return queryset.filter(**{f"{path}__in" if path else "pk__in": org_ids})


def local_time_column(field: str, description: str) -> Any:
    """A list column (a ModelAdmin method) showing `field` in its row's property's zone, the zone named."""

    @admin.display(description=description, ordering=field)
    def column(modeladmin: Any, obj: Any) -> str | None:
        value = getattr(obj, field)
        when = local(value, obj)
        return None if when is None else date_format(when, "j M Y H:i T")

    column.__name__ = f"{field}_local"
    return column


class LocalTimesAdmin(_ModelAdmin):
    """Times as the property's people read them: list columns in each row's property's zone, and a row's page in
    its zone, named under the title. A row of no property (a lock on no door, an audit entry) uses the server's."""

    def __init__(self, model: Any, admin_site: Any) -> None:
        super().__init__(model, admin_site)
        times = {f.name: f for f in model._meta.fields if isinstance(f, models.DateTimeField)}
        self._local_columns: dict[str, str] = {}
        for item in self.list_display:
            if isinstance(item, str) and item in times:
                column = local_time_column(item, str(times[item].verbose_name))
                setattr(type(self), column.__name__, column)
                self._local_columns[item] = column.__name__

    def get_list_display(self, request: HttpRequest) -> Any:
        return [
            self._local_columns.get(item, item) if isinstance(item, str) else item
            for item in super().get_list_display(request)
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> Any:
        obj = self.get_object(request, unquote(object_id))
        zone = zone_name(obj) if obj is not None else timezone.get_default_timezone_name()
        context = {"subtitle": f"{obj} · times in {zone}", **(extra_context or {})}
        with timezone.override(ZoneInfo(zone)):  # readonly and editable times alike, rendered before leaving
            response = super().change_view(request, object_id, form_url, context)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        return response


class ScopedAdmin(LocalTimesAdmin):
    """Rows, lookups and choices limited to the staff member's organisations, and what they may do with them to what
    their role there allows; superusers see and do everything."""

    form = SameOrganisationForm
    view_roles: frozenset[str] = ALL_ROLES
    change_roles: frozenset[str] = MANAGER_ROLES  # add, change, delete, and every action

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = self.scope(super().get_queryset(request), request.user)
        if request.user.is_superuser or self.view_roles | self.change_roles >= ALL_ROLES:
            return queryset  # every member sees these: for_user is the whole rule
        return in_organisations(queryset, organisations_where(request, self.view_roles | self.change_roles))

    # --- the role, beside Django's permission ---------------------------------------------------------------

    def role_allows(self, request: HttpRequest, roles: frozenset[str], obj: Any = None) -> bool:
        """With an object: the user's role in its organisation is one of `roles`. Without (the list, the add page,
        which actions to offer): in at least one organisation; the rows and choices then narrow it down."""
        if request.user.is_superuser:
            return True
        if obj is None or obj.pk is None and organisation_id_of(obj) is None:
            return bool(organisations_where(request, roles))
        organisation_id = organisation_id_of(obj)
        role = roles_by_organisation(request).get(organisation_id) if organisation_id is not None else None
        return role is not None and role in roles

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.role_allows(request, self.view_roles | self.change_roles, obj) and super().has_view_permission(
            request, obj
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.role_allows(request, self.change_roles) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.role_allows(request, self.change_roles, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.role_allows(request, self.change_roles, obj) and super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The form's choices offer only organisations where the role allows it; this holds whatever was posted.
        if not self.role_allows(request, self.change_roles, obj):
            raise PermissionDenied("Your role in this organisation may not change this.")
        super().save_model(request, obj, form, change)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if any(not self.role_allows(request, self.change_roles, obj) for obj in objs):
            perms_needed = {*perms_needed, self.model._meta.verbose_name}  # the stock "may not delete" page
        return deleted, counts, perms_needed, protected

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        if not request.user.is_superuser:
            queryset = in_organisations(queryset, organisations_where(request, self.change_roles))
        super().delete_queryset(request, queryset)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        if not self.role_allows(request, self.change_roles, obj):
            raise PermissionDenied("Your role in this organisation may not delete this.")
        super().delete_model(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """Every action, the site-wide delete included, gets only the selected rows of organisations where the role
        allows it (a staff member may hold different roles in two organisations); the rest are named as refused."""
        gated = {}
        for name, action in super().get_actions(request).items():
            if action is not None:  # Django's dict holds (function, name, description) for each
                func, name, description = action
                gated[name] = (self._gated(func), name, description)
        return gated

    @staticmethod
    def _gated(func: Any) -> Any:
        @functools.wraps(func)
        def gated(modeladmin: ScopedAdmin, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
            if not request.user.is_superuser:
                only_views = tuple(getattr(func, "allowed_permissions", ())) == ("view",)
                roles = modeladmin.view_roles | modeladmin.change_roles if only_views else modeladmin.change_roles
                allowed = in_organisations(queryset, organisations_where(request, roles))
                refused = [str(obj) for obj in queryset.exclude(pk__in=allowed.values("pk"))]
                if refused:
                    modeladmin.message_user(request, f"Not for your role: {', '.join(refused)}", messages.ERROR)
                if not allowed.exists():
                    return None  # back to the list
                queryset = allowed
            return func(modeladmin, request, queryset)

        return gated

    def scope(self, queryset: QuerySet[Any], user: RequestUser) -> QuerySet[Any]:
        return queryset.for_user(user)  # type: ignore[attr-defined,no-any-return]

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        # The stock admin redirects to the index with "… doesn't exist. Perhaps it was deleted?", which tells
        # apart "another organisation's" from "no such id" for nobody, but is not a 404 either: make it one.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such object.")
        return obj

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs.setdefault("queryset", self._choices(db_field.remote_field.model, request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs.setdefault("queryset", self._choices(db_field.remote_field.model, request))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _choices(self, model: type[models.Model], request: HttpRequest) -> QuerySet[Any]:
        if is_scoped(model):
            choices = model._default_manager.for_user(request.user)  # type: ignore[attr-defined]
            if request.user.is_superuser:
                return choices  # type: ignore[no-any-return]
            # What is saved here belongs to the organisation of its choices: only those where the role may change it.
            return in_organisations(choices, organisations_where(request, self.change_roles))
        if model is get_user_model():
            return users_for(request.user)
        return model._default_manager.all()


class ReadOnlyScopedAdmin(ScopedAdmin):
    """View only: for rows the app writes itself (through services or workers), never the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def run_per_item(
    modeladmin: admin.ModelAdmin[Any],
    request: HttpRequest,
    items: Any,
    verb: str,
    operation: Any,
) -> None:
    """Call `operation(item)` for each item and report what worked and what did not, item by item.

    A ValidationError (or PermissionDenied) from a service becomes an error message, never a 500."""
    done: list[str] = []
    for item in items:
        try:
            operation(item)
        except (ValidationError, PermissionDenied) as error:
            text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            modeladmin.message_user(request, f"{item}: not {verb}: {text}", messages.ERROR)
        else:
            done.append(str(item))
    if done:
        modeladmin.message_user(request, f"{verb.capitalize()}: {', '.join(done)}", messages.SUCCESS)


class ServiceAddMixin:
    """An add page that fills in a dashboard form and calls its service (which validates, audits and enqueues),
    instead of saving a model form: a raw save would skip all three."""

    add_title = "Add"

    def service_form(self, request: HttpRequest, data: Any = None) -> Any:
        raise NotImplementedError

    def create(self, request: HttpRequest, form: Any) -> Any:
        """Call the service with the valid form's data: the new object, or None with the refusal on the form."""
        return form.save(actor=request.user, ip=client_ip(request))

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None) -> Any:
        modeladmin: Any = self
        if not modeladmin.has_add_permission(request):
            raise PermissionDenied
        form = self.service_form(request, request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            created = self.create(request, form)
            if created is not None:
                modeladmin.message_user(request, f"{created} was added.", messages.SUCCESS)
                opts = modeladmin.model._meta
                return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": self.add_title,
            "opts": modeladmin.model._meta,
            "form": form,
            "zone_note": _zone_note(request.user),
            "media": modeladmin.media + form.media,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/service_add_form.html", context)


def _zone_note(user: Any) -> str:
    """The add forms' times are wall-clock times of the property they are for: say which zone that is."""
    zones = Property.objects.for_user(user).order_by("name").values_list("name", "time_zone")[:20]
    named = "; ".join(f"{name}: {zone}" for name, zone in zones)
    fallback = f"no property: {settings.TIME_ZONE} (the server's)"
    return f"In the time zone of its property ({named + '; ' if named else ''}{fallback})."


# --- tenants ------------------------------------------------------------------------------------------------


@admin.register(Organisation)
class OrganisationAdmin(ScopedAdmin):
    change_roles = frozenset({Role.OWNER})
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    # The idle timeouts change on the set-up page, through the service that audits them.
    readonly_fields = ["created_at", "idle_minutes_front_desk", "idle_minutes_manager", "idle_minutes_viewer"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A new organisation has no members yet, so its creator could not see it: superusers set them up.
        return bool(request.user.is_superuser) and super().has_add_permission(request)


class MembershipForm(SameOrganisationForm):
    """Nobody gives a role above their own, raises their own role or changes their own property limit (a front desk
    limited to one property is limited by someone else). `actor` is set per request by MembershipAdmin.get_form."""

    actor: Any = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("properties") and not cleaned.get("limited_to_properties"):
            # Properties chosen without the limit would limit nothing: say so rather than leave a desk unlimited.
            field = "limited_to_properties" if "limited_to_properties" in self.fields else "properties"
            self.add_error(field, "Tick “Limited to properties” to limit the member to the properties chosen.")
        actor, role = self.actor, cleaned.get("role")
        if actor is None or actor.is_superuser or not cleaned.get("organisation") or not role:
            return cleaned
        own_role = (
            Membership.objects.filter(user=actor, organisation=cleaned["organisation"])
            .values_list("role", flat=True)
            .first()
        )
        rank = ROLE_RANK.get(own_role or "", -1)
        if ROLE_RANK[role] > rank:
            self.add_error("role", "You cannot give a role above your own.")
        if self.instance.pk is not None and ROLE_RANK.get(self.initial.get("role") or "", -1) > rank:
            raise ValidationError("This member's role is above yours: someone with that role changes it.")
        if cleaned.get("user") == actor or (self.instance.pk is not None and self.instance.user_id == actor.pk):
            before = self.initial.get("role") if self.instance.pk is not None else None
            if before is None or ROLE_RANK[role] > ROLE_RANK[before]:
                self.add_error("role", "You cannot raise your own role.")
            if {"properties", "limited_to_properties"} & set(self.changed_data):
                self.add_error("properties", "You cannot change your own property limit.")
        return cleaned


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    form = MembershipForm
    view_roles = MANAGER_ROLES
    change_roles = frozenset({Role.OWNER})  # as on the dashboard: only owners manage who is in the organisation
    list_display = ["user", "organisation", "role", "created_at"]
    list_filter = ["role", ORGANISATION_FILTER]
    search_fields = ["user__username", "user__email", "organisation__name"]
    list_select_related = ["user", "organisation"]
    filter_horizontal = ["properties"]
    readonly_fields = ["created_at"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    # Who is in the organisation, and with which role, changes only within REAUTH_SECONDS of a sign-in or a confirmed
    # password (tenants/reauth.py): the add and change forms (for those who may change members; a manager only
    # looks), their posts, the delete page and the list's actions.

    def _unless_recent(self, request: HttpRequest) -> Any:
        if request.method == "POST" or self.has_change_permission(request):
            return reauth.unless_recent(request)
        return None

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> Any:
        return self._unless_recent(request) or super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        return self._unless_recent(request) or super().delete_view(request, object_id, extra_context)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        asked = reauth.unless_recent(request) if request.method == "POST" else None
        return asked or super().changelist_view(request, extra_context)


@admin.register(Property)
class PropertyAdmin(ScopedAdmin):
    list_display = ["name", "organisation", "kind", "time_zone", "address"]
    list_filter = ["kind", ORGANISATION_FILTER]
    search_fields = ["name", "address"]
    list_select_related = ["organisation"]
    readonly_fields = ["created_at"]


@admin.register(Unit)
class UnitAdmin(ScopedAdmin):
    list_display = ["name", "property", "organisation"]
    list_filter = [("property__organisation", admin.RelatedOnlyFieldListFilter), "property__kind"]
    search_fields = ["name", "property__name"]
    list_select_related = ["property__organisation"]
    readonly_fields = ["created_at"]

    @admin.display(ordering="property__organisation__name")
    def organisation(self, unit: Unit) -> Organisation:
        return unit.property.organisation


@admin.register(Guest)
class GuestAdmin(ScopedAdmin):
    change_roles = CODE_ROLES  # the front desk books guests
    list_display = ["name", "email", "phone", "organisation", "created_at"]
    list_filter = [ORGANISATION_FILTER]
    search_fields = ["name", "email", "phone"]
    list_select_related = ["organisation"]
    readonly_fields = ["created_at"]

    def save_model(self, request: HttpRequest, obj: Guest, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = user_of(request.user)  # so a desk limited to some properties still finds it
        super().save_model(request, obj, form, change)


@admin.register(Stay)
class StayAdmin(ServiceAddMixin, ScopedAdmin):
    """Stays drive door codes, so they change only through `tenants.services` (book, change, move, check out,
    cancel): booking is `BookStayForm` then `book_guest`; rows are read-only, with check-out and cancel as actions."""

    add_title = "Book a stay (issues its door codes)"
    change_roles = CODE_ROLES

    list_display = ["guest", "unit", "status", "kind", "check_in", "check_out", "updated_at"]
    list_filter = ["status", "kind", ("unit__property__organisation", admin.RelatedOnlyFieldListFilter), "check_in"]
    search_fields = ["guest__name", "unit__name", "unit__property__name"]
    list_select_related = ["guest", "unit__property"]
    date_hierarchy = "check_in"
    actions = ["check_out", "cancel"]

    def service_form(self, request: HttpRequest, data: Any = None) -> Any:
        return BookStayForm(data, user=request.user)

    def create(self, request: HttpRequest, form: Any) -> Stay | None:
        data = form.cleaned_data
        try:
            return services.book_guest(
                unit=data["unit"],
                guest=services.GuestDetails(data["guest_name"], data["guest_email"], data["guest_phone"]),
                check_in=data["check_in"],
                check_out=data["check_out"],
                kind=data["kind"],
                actor=request.user,
                ip=client_ip(request),
            ).stay
        except ValidationError as error:
            apply_service_error(form, error)
            return None

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return self.role_allows(request, self.change_roles) and bool(request.user.has_perm("tenants.change_stay"))

    @admin.action(description="Check out (remove their codes)", permissions=["manage"])
    def check_out(self, request: HttpRequest, queryset: QuerySet[Stay]) -> None:
        def run(stay: Stay) -> None:
            _check_may_manage(request, stay)
            services.check_out_stay(stay, actor=request.user, ip=client_ip(request))

        run_per_item(self, request, queryset, "checked out", run)

    @admin.action(description="Cancel (remove their codes)", permissions=["manage"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Stay]) -> None:
        def run(stay: Stay) -> None:
            _check_may_manage(request, stay)
            services.cancel_stay(stay, actor=request.user, ip=client_ip(request))

        run_per_item(self, request, queryset, "cancelled", run)


def _check_may_manage(request: HttpRequest, stay: Stay) -> None:
    """Ending a stay removes door codes: the roles that may manage the codes of its unit's locks only."""
    if not all(lock_pins.may_see_pins(request.user, lock) for lock in stay.unit.locks.all()):
        raise PermissionDenied("Your role may not manage the door codes of this unit.")


def superusers_only_for_the_rest(site: admin.AdminSite) -> None:
    """Every admin not scoped to organisations (auth's users and groups, django-axes' records, django-rq's dashboard):
    superusers only, whatever Django permissions a staff member was given. A staff member with change_user could
    otherwise make themselves a superuser; the members of an organisation are managed through Membership."""
    for model_admin in site._registry.values():
        if isinstance(model_admin, ScopedAdmin):
            continue
        for name in (
            "has_module_permission",
            "has_view_permission",
            "has_add_permission",
            "has_change_permission",
            "has_delete_permission",
        ):
            original = getattr(model_admin, name)

            def superuser_only(request: HttpRequest, *args: Any, _original: Any = original, **kwargs: Any) -> bool:
                return bool(request.user.is_superuser) and bool(_original(request, *args, **kwargs))

            setattr(model_admin, name, superuser_only)
