"""The staff admin for cloud accounts, locks and door codes (the audit trail's page is audit/admin.py).

Scoped like every admin here (tenants.admin.ScopedAdmin). Secrets never reach a page: the Tuya access secret is
write-only, local keys and PINs are left out of every form (PINs shown masked). Door codes change only through
the services, as actions, so the lifecycle and the audit trail stay the services' business.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from redis.exceptions import RedisError

from audit.services import audit
from locks import accounts, codes, pins, queues
from locks.cloud import port
from locks.fields import EncryptedTextField
from locks.forms import IssueCodeForm
from locks.models import AccessCode, CloudAccount, Lock, LockOperation
from tenants.admin import (
    ORGANISATION_FILTER,
    ReadOnlyScopedAdmin,
    SameOrganisationForm,
    ScopedAdmin,
    ServiceAddMixin,
    run_per_item,
)
from tenants.models import CLOUD_ROLES, CODE_ROLES, MANAGER_ROLES
from tenants.signals import client_ip

# --- cloud accounts -----------------------------------------------------------------------------------------


class CloudAccountForm(SameOrganisationForm):
    # Write-only (show-once, docs/reliability.md S7): the stored secret is never sent back to the browser.
    access_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave blank to keep the current secret.",
    )

    class Meta:
        model = CloudAccount
        fields = ["organisation", "name", "endpoint", "access_id", "access_secret"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.pop("access_secret", None)
        self.fields["access_secret"].required = self.instance.pk is None

    def clean_access_secret(self) -> str:
        value: str = self.cleaned_data["access_secret"]
        if not value and self.instance.pk is not None:
            stored: str = self.instance.access_secret
            return stored  # blank keeps the stored one
        return value


@admin.register(CloudAccount)
class CloudAccountAdmin(ScopedAdmin):
    form = CloudAccountForm
    view_roles = MANAGER_ROLES
    change_roles = CLOUD_ROLES  # the project's credentials
    fields = ["organisation", "name", "endpoint", "access_id", "access_secret", "uid", "last_error", "created_at"]
    readonly_fields = ["uid", "last_error", "created_at"]
    list_display = ["name", "organisation", "endpoint", "access_id", "uid", "last_error", "created_at"]
    list_filter = [ORGANISATION_FILTER]
    search_fields = ["name", "access_id", "uid"]
    list_select_related = ["organisation"]
    actions = ["import_locks"]

    def save_model(self, request: HttpRequest, obj: CloudAccount, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "access_secret" in form.changed_data:
            # A key rotation is an audited event (docs/reliability.md S5); the secret itself never goes in the row.
            audit(
                "account.secret_change", actor=request.user, organisation=obj.organisation, obj=obj,
                summary=obj.name, ip=client_ip(request),
            )  # fmt: skip

    @admin.action(description="Import the project's locks", permissions=["change"])
    def import_locks(self, request: HttpRequest, queryset: QuerySet[CloudAccount]) -> None:
        # Synchronous: a staff member asked for it and waits for the answer; a handful of calls per account.
        for account in queryset.select_related("organisation"):
            try:
                found = accounts.import_locks(account, actor=request.user)
            except port.CloudError as error:  # its message carries the cloud's code and text, never a secret
                self.message_user(request, f"{account}: import failed: {error}", messages.ERROR)
            else:
                left_out = (
                    f" {account.import_refused} left out: locks of another organisation."
                    if account.import_refused
                    else ""
                )
                self.message_user(
                    request, f"{account}: {len(found)} locks imported or updated.{left_out}", messages.SUCCESS
                )


# --- locks --------------------------------------------------------------------------------------------------


def _enqueue_reconcile(request: HttpRequest, modeladmin: admin.ModelAdmin[Any], locks: list[Lock]) -> None:
    """Reconciliation talks to the cloud, so a worker does it (on the maintenance queue); the request only asks."""
    for lock in locks:
        audit(
            "lock.reconcile", actor=request.user, organisation=lock.organisation, obj=lock, summary=lock.name,
            ip=client_ip(request),
        )  # fmt: skip
    lock_ids = [lock.pk for lock in locks]

    def enqueue() -> None:
        try:
            for lock_id in lock_ids:
                queues.enqueue(
                    queues.MAINTENANCE_QUEUE, "locks.jobs.reconcile_lock", lock_id, failure_ttl=7 * 24 * 3600
                )
        except RedisError:
            modeladmin.message_user(
                request, "The job queue is unavailable; the periodic reconciliation will run instead.", messages.ERROR
            )
        else:
            names = ", ".join(lock.name for lock in locks)
            modeladmin.message_user(request, f"Reconciliation queued for: {names}", messages.SUCCESS)

    transaction.on_commit(enqueue)


@admin.register(Lock)
class LockAdmin(ScopedAdmin):
    list_display = [
        "name", "kind", "unit", "organisation", "online", "battery", "foreign_code_count", "last_reconciled_at",
        "last_seen_at",
    ]  # fmt: skip
    list_filter = ["kind", "online", ORGANISATION_FILTER, ("cloud_account", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "device_id", "unit__name", "unit__property__name"]
    list_select_related = ["organisation", "unit__property"]
    exclude = ["local_key"]
    readonly_fields = [
        "local_key_state", "online", "battery", "last_seen_at", "failure_streak", "paused_until", "foreign_codes",
        "last_reconciled_at", "created_at",
    ]  # fmt: skip
    actions = ["reconcile_now"]

    @admin.display(description="local key")
    def local_key_state(self, lock: Lock) -> str:
        return "stored (encrypted)" if lock.local_key else "none"

    @admin.display(description="foreign codes")
    def foreign_code_count(self, lock: Lock) -> int:
        return len(lock.foreign_codes or [])

    @admin.action(description="Reconcile now", permissions=["change"])
    def reconcile_now(self, request: HttpRequest, queryset: QuerySet[Lock]) -> None:
        _enqueue_reconcile(request, self, list(queryset.select_related("organisation")))


# --- door codes ---------------------------------------------------------------------------------------------


@admin.register(AccessCode)
class AccessCodeAdmin(ServiceAddMixin, ScopedAdmin):
    """Read-only rows; every change is an action that calls a service (which audits it and enqueues the job), and
    the add page is `IssueCodeForm`, which calls `issue_access_code`."""

    add_title = "Issue a door code"
    change_roles = CODE_ROLES

    list_display = [
        "label",
        "lock",
        "unit",
        "guest",
        "status",
        "desired",
        "masked_pin",
        "starts_at",
        "ends_at",
        "updated_at",
    ]
    list_filter = ["status", "desired", "kind", "lock__kind", ORGANISATION_FILTER]
    search_fields = ["label", "guest__name", "lock__name"]
    list_select_related = ["lock__unit__property", "guest"]
    show_full_result_count = False  # no COUNT(*) over the whole table on every page
    # The PIN would be printed by the view-only form; the schedule's stored parts are shown as one "Mon, Wed
    # 10:00–12:00" (in its zone).
    exclude = ["pin", "schedule_days", "schedule_start_minute", "schedule_end_minute"]
    readonly_fields = ["masked_pin", "schedule"]
    actions = ["freeze", "unfreeze", "remove", "resend", "reconcile_lock_now"]

    def service_form(self, request: HttpRequest, data: Any = None) -> Any:
        return IssueCodeForm(data, user=request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A raw form save would write a stale status over a worker's: no change form, only the actions.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deleting the row would leave the code on the lock: use "remove"

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return self.role_allows(request, self.change_roles) and bool(request.user.has_perm("locks.change_accesscode"))

    @admin.display(description="unit", ordering="lock__unit__name")
    def unit(self, code: AccessCode) -> Any:
        return code.lock.unit

    @admin.display(description="PIN")
    def masked_pin(self, code: AccessCode) -> str:
        return code.masked_pin

    @admin.display(description="weekly schedule")
    def schedule(self, code: AccessCode) -> str:
        return f"{code.schedule_text} ({code.time_zone})" if code.schedule_text else "—"

    def _each(
        self, request: HttpRequest, queryset: QuerySet[AccessCode], verb: str, service: Callable[..., Any]
    ) -> None:
        def run(code: AccessCode) -> None:
            # The Django permission says "may use this action"; the role says "on this lock" (front desks may be
            # limited to some properties, viewers may not manage codes at all).
            if not pins.may_see_pins(request.user, code.lock):
                raise PermissionDenied("Your role may not manage door codes on this lock.")
            service(code, actor=request.user, ip=client_ip(request))

        run_per_item(self, request, queryset.select_related("lock__unit", "lock__organisation"), verb, run)

    @admin.action(description="Freeze (Zigbee locks)", permissions=["manage"])
    def freeze(self, request: HttpRequest, queryset: QuerySet[AccessCode]) -> None:
        self._each(request, queryset, "frozen", codes.freeze_access_code)

    @admin.action(description="Unfreeze", permissions=["manage"])
    def unfreeze(self, request: HttpRequest, queryset: QuerySet[AccessCode]) -> None:
        self._each(request, queryset, "unfrozen", codes.unfreeze_access_code)

    @admin.action(description="Remove from the lock", permissions=["manage"])
    def remove(self, request: HttpRequest, queryset: QuerySet[AccessCode]) -> None:
        self._each(request, queryset, "removed", codes.remove_access_code)

    @admin.action(description="Send again (failed codes)", permissions=["manage"])
    def resend(self, request: HttpRequest, queryset: QuerySet[AccessCode]) -> None:
        self._each(request, queryset, "sent again", codes.resend_access_code)

    @admin.action(description="Reconcile their locks now", permissions=["manage"])
    def reconcile_lock_now(self, request: HttpRequest, queryset: QuerySet[AccessCode]) -> None:
        locks = {code.lock_id: code.lock for code in queryset.select_related("lock__organisation")}
        _enqueue_reconcile(request, self, list(locks.values()))


@admin.register(LockOperation)
class LockOperationAdmin(ReadOnlyScopedAdmin):
    """Workers carry these out; the row is their record. The code one produced is a secret like a PIN."""

    list_display = ["kind", "label", "lock", "status", "failure_reason", "created_by", "created_at", "finished_at"]
    list_filter = ["kind", "status", ORGANISATION_FILTER]
    search_fields = ["label", "lock__name"]
    list_select_related = ["lock__unit__property", "created_by"]
    exclude = ["secret"]
    show_full_result_count = False


# --- anything else in the app -------------------------------------------------------------------------------


def _register_the_rest() -> None:
    """A model added to locks later is still scoped, read-only and free of secrets until it gets its own admin."""
    for model in apps.get_app_config("locks").get_models():
        if admin.site.is_registered(model) or not hasattr(model._default_manager, "for_user"):
            continue
        secret = [f.name for f in model._meta.fields if isinstance(f, EncryptedTextField)]
        shown = [f.name for f in model._meta.fields if f.name not in secret and not isinstance(f, models.JSONField)]
        options: dict[str, Any] = {"exclude": secret, "list_display": shown[:8], "__module__": __name__}
        if "organisation" in shown:
            options["list_filter"] = [ORGANISATION_FILTER]
        admin.site.register(model, type(f"{model.__name__}Admin", (ReadOnlyScopedAdmin,), options))


_register_the_rest()
