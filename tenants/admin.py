"""The Django admin for staff, scoped to the organisations a staff member belongs to (docs/architecture.md, the
rules of the arrows; docs/reliability.md S2). `ScopedAdmin` is the base of every admin in tenants and locks:
querysets, object lookups and foreign-key choices all go through the models' `for_user`, and another organisation's
object is a 404.
"""

from __future__ import annotations

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

from locks import services
from locks.forms import BookStayForm
from locks.templatetags.zones import local, zone_name
from tenants.models import Guest, Membership, Organisation, Property, RequestUser, ScopedQuerySet, Stay, Unit
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
    """Rows, lookups and choices limited to the staff member's organisations; superusers see everything."""

    form = SameOrganisationForm

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.scope(super().get_queryset(request), request.user)

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
            return model._default_manager.for_user(request.user)  # type: ignore[attr-defined,no-any-return]
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
    """An add page that fills in one of `locks.forms`' forms and lets it call its service (which validates,
    audits and enqueues), instead of saving a model form: a raw save would skip all three."""

    add_title = "Add"

    def service_form(self, request: HttpRequest, data: Any = None) -> Any:
        raise NotImplementedError

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None) -> Any:
        modeladmin: Any = self
        if not modeladmin.has_add_permission(request):
            raise PermissionDenied
        form = self.service_form(request, request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            created = form.save(actor=request.user, ip=client_ip(request))
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
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A new organisation has no members yet, so its creator could not see it: superusers set them up.
        return bool(request.user.is_superuser) and super().has_add_permission(request)


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    list_display = ["user", "organisation", "role", "created_at"]
    list_filter = ["role", ORGANISATION_FILTER]
    search_fields = ["user__username", "user__email", "organisation__name"]
    list_select_related = ["user", "organisation"]
    filter_horizontal = ["properties"]
    readonly_fields = ["created_at"]


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
    list_display = ["name", "email", "phone", "organisation", "created_at"]
    list_filter = [ORGANISATION_FILTER]
    search_fields = ["name", "email", "phone"]
    list_select_related = ["organisation"]
    readonly_fields = ["created_at"]


@admin.register(Stay)
class StayAdmin(ServiceAddMixin, ScopedAdmin):
    """Stays drive door codes, so they change only through the services (book, change, move, check out, cancel):
    booking goes through `BookStayForm`; rows are read-only, with check-out and cancel as actions."""

    add_title = "Book a stay (issues its door codes)"

    list_display = ["guest", "unit", "status", "kind", "check_in", "check_out", "updated_at"]
    list_filter = ["status", "kind", ("unit__property__organisation", admin.RelatedOnlyFieldListFilter), "check_in"]
    search_fields = ["guest__name", "unit__name", "unit__property__name"]
    list_select_related = ["guest", "unit__property"]
    date_hierarchy = "check_in"
    actions = ["check_out", "cancel"]

    def service_form(self, request: HttpRequest, data: Any = None) -> Any:
        return BookStayForm(data, user=request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("tenants.change_stay"))

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

    if not all(services.may_see_pins(request.user, lock) for lock in stay.unit.locks.all()):
        raise PermissionDenied("Your role may not manage the door codes of this unit.")
