"""API keys in the staff admin: owners see their organisation's keys and revoke them; keys are made on the
dashboard's API keys page or by `manage.py api_key create`, where the secret is shown once (never here)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from api import keys
from tenants.admin import ORGANISATION_FILTER, ReadOnlyScopedAdmin, run_per_item
from tenants.models import CLOUD_ROLES, ApiKey
from tenants.signals import client_ip


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyScopedAdmin):
    view_roles = CLOUD_ROLES
    change_roles = CLOUD_ROLES
    list_display = ["name", "prefix", "organisation", "scopes", "limited_to_properties", "last_used_at", "revoked_at"]
    list_filter = [ORGANISATION_FILTER, ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    list_select_related = ["organisation"]
    exclude = ["hashed_secret"]
    actions = ["revoke"]

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return self.role_allows(request, self.change_roles) and bool(request.user.has_perm("tenants.change_apikey"))

    @admin.action(description="Revoke (every request with it is refused from now on)", permissions=["manage"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        def run(key: ApiKey) -> None:
            keys.revoke_key(key, actor=request.user, ip=client_ip(request))

        run_per_item(self, request, queryset, "revoked", run)
