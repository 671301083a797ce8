"""One-off lock operations from the lock page: offline and dynamic passwords, a hotel lock's advanced passwords and
clear-all, a Zigbee gateway's resend of pending codes (locks.operations carries them out in a worker), and each
operation's row and its revealed secret.

Thin function views like the lock page's (locks/views.py): lookups through the current membership, the roles that
manage the lock's codes may act, htmx gets the operations section and plain posts a redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from config.http import HtmxHttpRequest
from locks import forms, operations, pins, selectors
from locks.models import Lock, LockOperation
from locks.views import (
    Question,
    ask_first,
    error_text,
    lock_context,
    lock_for,
    lock_url,
    may_manage,
    no_store,
    not_yet_confirmed,
)
from tenants.context import membership_or_404
from tenants.reauth import recent_auth_required
from tenants.signals import client_ip


@login_required
@require_GET
def offline_preview(request: HttpRequest, lock_id: int) -> HttpResponse:
    """The window the lock will really honour after Tuya's hour rounding, shown before issuing."""
    lock = lock_for(request, lock_id)
    form = forms.OfflinePasswordForm(request.GET, lock=lock)
    return render(request, "locks/lock_detail.html#offline-preview", {"lock": lock, "preview": form.preview()})


@login_required
@require_POST
def offline_password(request: HtmxHttpRequest, lock_id: int) -> HttpResponse:
    lock = lock_for(request, lock_id)
    if not may_manage(request, lock):
        raise PermissionDenied("Your role may not issue door codes on this lock.")
    form = forms.OfflinePasswordForm(request.POST, lock=lock)
    operation = form.save(actor=request.user, ip=client_ip(request)) if form.is_valid() else None
    return _operation_response(request, lock, operation, form.errors_text())


@login_required
@require_POST
def advanced_password(request: HtmxHttpRequest, lock_id: int) -> HttpResponse:
    """A hotel lock's admin or emergency password: typed here (six digits), set by a worker."""
    lock = lock_for(request, lock_id)
    if not may_manage(request, lock):
        raise PermissionDenied("Your role may not do this on this lock.")
    try:
        operation = operations.set_advanced_password(
            lock=lock,
            advanced_type=request.POST.get("advanced_type", ""),
            pin=request.POST.get("pin", "").strip(),
            actor=request.user,
            ip=client_ip(request),
        )
    except ValidationError as refused:
        return _operation_response(request, lock, None, error_text(refused))
    return _operation_response(request, lock, operation, "")


CLEAR_ALL = Question(
    gettext_lazy("Remove every temporary code from this hotel lock?"),
    gettext_lazy(
        "Every guest's code on this lock stops opening the door, and the codes issued here count as removed once the "
        "lock confirms. This cannot be undone."
    ),
    gettext_lazy("Yes, clear all codes"),
)


@login_required
@require_POST
def lock_operation(request: HtmxHttpRequest, lock_id: int, kind: str) -> HttpResponse:
    """Dynamic password, hotel clear-all, Zigbee resend of pending codes."""
    lock = lock_for(request, lock_id)
    services_by_kind: dict[str, Callable[..., LockOperation]] = {
        "dynamic": operations.request_dynamic_password,
        "clear-all": operations.clear_all_codes,
        "sync": operations.sync_pending_codes,
    }
    if kind not in services_by_kind:
        raise Http404("No such operation.")
    if not may_manage(request, lock):
        raise PermissionDenied("Your role may not do this on this lock.")
    if kind == "clear-all" and not_yet_confirmed(request):
        return ask_first(request, lock, CLEAR_ALL)
    try:
        operation = services_by_kind[kind](lock=lock, actor=request.user, ip=client_ip(request))
    except ValidationError as refused:
        return _operation_response(request, lock, None, error_text(refused))
    return _operation_response(request, lock, operation, "")


def _operation_response(
    request: HtmxHttpRequest, lock: Lock, operation: LockOperation | None, error: str
) -> HttpResponse:
    if request.htmx:
        context = lock_context(request, lock, operation_error=error)
        return render(request, "locks/lock_detail.html#operations", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("%(operation)s: requested; the result appears below.") % {"operation": operation})
    return redirect(f"{lock_url(lock)}#operations")


def _operation_for(request: HttpRequest, operation_id: int) -> LockOperation:
    return get_object_or_404(selectors.operations_of(membership_or_404(request)), pk=operation_id)


@login_required
@require_GET
def operation_row(request: HttpRequest, operation_id: int) -> HttpResponse:
    operation = _operation_for(request, operation_id)
    context = {
        "operation": operation,
        "lock": operation.lock,
        "may_manage": may_manage(request, operation.lock),
        "time_zone": operation.lock.time_zone,
    }
    return render(request, "locks/lock_detail.html#operation-row", context)


@login_required
@require_POST
@recent_auth_required
def operation_reveal(request: HttpRequest, operation_id: int) -> HttpResponse:
    operation = _operation_for(request, operation_id)
    context: dict[str, Any] = {
        "operation": operation,
        "lock": operation.lock,
        "may_manage": True,
        "time_zone": operation.lock.time_zone,
    }
    try:
        context["secret"] = pins.reveal_operation_secret(operation, actor=request.user, ip=client_ip(request))
    except ValidationError as refused:
        context["error"] = error_text(refused)
    return no_store(render(request, "locks/lock_detail.html#operation-row", context))
