"""The audit trail's admin page: read-only, scoped like every admin page (tenants.admin.ScopedAdmin)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from audit.models import AuditEvent
from tenants.admin import ORGANISATION_FILTER, ReadOnlyScopedAdmin


class ActionFamilyFilter(admin.SimpleListFilter):
    """By the action's prefix (auth., code., …): a fixed list, not a DISTINCT over millions of rows."""

    title = "action"
    parameter_name = "family"
    FAMILIES = [
        ("auth.", "Sign-in and sign-out"),
        ("access.", "Refused access"),
        ("code.", "Door codes"),
        ("stay.", "Stays"),
        ("lock.", "Locks"),
        ("locks.", "Lock imports"),
        ("account.", "Cloud accounts"),
        ("api_key.", "API keys"),
    ]

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[AuditEvent]) -> list[tuple[str, str]]:
        return self.FAMILIES

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(action__startswith=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyScopedAdmin):
    """Append-only: nobody adds, changes or deletes a row here (and the model refuses it anyway)."""

    list_display = [
        "at", "actor", "api_key", "action", "organisation", "object_type", "object_id", "summary", "ip_address",
    ]  # fmt: skip
    list_filter = [ActionFamilyFilter, ("at", admin.DateFieldListFilter), ORGANISATION_FILTER]
    search_fields = ["action", "actor__username", "object_type", "object_id", "summary", "ip_address"]
    list_select_related = ["actor", "api_key", "organisation"]
    show_full_result_count = False
