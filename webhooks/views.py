"""The Webhooks page of the dashboard (owners only): endpoints, their secret shown once, edit, enable or disable,
rotate the secret, delete (asked first, without JavaScript), and each endpoint's recent deliveries with their
attempts and a "Send again" button. Thin views: parse, call one service (webhooks/services.py), render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tenants.context import membership_or_404
from tenants.models import Membership, Role
from tenants.signals import client_ip
from webhooks import services
from webhooks.forms import EditEndpointForm, EndpointForm
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.payloads import ALL_TYPES

RECENT_DELIVERIES = 50
ATTEMPTS_SHOWN = 5


def owner_membership(request: HttpRequest) -> Membership:
    """Webhooks send the organisation's events elsewhere: owners only, as connecting a cloud project."""
    membership = membership_or_404(request)
    if membership.role != Role.OWNER:
        raise PermissionDenied("Only owners manage webhooks.")
    return membership


def _endpoint(request: HttpRequest, endpoint_id: int) -> tuple[Membership, WebhookEndpoint]:
    membership = owner_membership(request)
    endpoint = get_object_or_404(WebhookEndpoint.objects.for_membership(membership), pk=endpoint_id)
    return membership, endpoint


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"  # a page with a secret on it is never kept by a browser or a proxy
    return response


def _apply(form: EndpointForm, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


def _list(request: HttpRequest, membership: Membership, form: EndpointForm, status: int = 200) -> HttpResponse:
    endpoints = WebhookEndpoint.objects.for_membership(membership).order_by("created_at", "pk")
    context = {"nav": "webhooks", "endpoints": endpoints, "form": form, "all_count": len(ALL_TYPES)}
    return render(request, "webhooks/endpoints.html", context, status=status)


@login_required
@require_GET
def endpoints(request: HttpRequest) -> HttpResponse:
    return _list(request, owner_membership(request), EndpointForm(initial={"all_types": True}))


@login_required
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    membership = owner_membership(request)
    form = EndpointForm(request.POST)
    if form.is_valid():
        try:
            endpoint, secret = services.create_endpoint(
                membership.organisation,
                url=form.cleaned_data["url"],
                event_types=form.chosen_types(),
                description=form.cleaned_data["description"],
                actor=request.user,
                ip=client_ip(request),
            )
        except ValidationError as error:
            _apply(form, error)
        else:
            return _secret_page(request, endpoint, secret, created=True)
    return _list(request, membership, form, status=400)


def _secret_page(request: HttpRequest, endpoint: WebhookEndpoint, secret: str, *, created: bool) -> HttpResponse:
    context = {"nav": "webhooks", "endpoint": endpoint, "secret": secret, "created": created}
    return _no_store(render(request, "webhooks/secret.html", context))


def _detail(request: HttpRequest, endpoint: WebhookEndpoint, form: EndpointForm, status: int = 200) -> HttpResponse:
    recent = WebhookAttempt.objects.order_by("-at", "-pk")
    deliveries = list(
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("message")
        .prefetch_related(Prefetch("attempt_log", queryset=recent))
        .order_by("-created_at", "-pk")[:RECENT_DELIVERIES]
    )
    for row in deliveries:
        row.shown_attempts = list(row.attempt_log.all())[:ATTEMPTS_SHOWN]  # type: ignore[attr-defined]
    context = {"nav": "webhooks", "endpoint": endpoint, "form": form, "deliveries": deliveries}
    return render(request, "webhooks/endpoint.html", context, status=status)


def _edit_form(endpoint: WebhookEndpoint) -> EditEndpointForm:
    every = len(endpoint.event_types) == len(ALL_TYPES)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "all_types": every,
        "event_types": [] if every else endpoint.event_types,
    }
    return EditEndpointForm(initial=initial)


@login_required
@require_GET
def endpoint(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    _, row = _endpoint(request, endpoint_id)
    return _detail(request, row, _edit_form(row))


@login_required
@require_POST
def update(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    _, row = _endpoint(request, endpoint_id)
    form = EditEndpointForm(request.POST)
    if form.is_valid():
        try:
            services.update_endpoint(
                row,
                url=form.cleaned_data["url"],
                event_types=form.chosen_types(),
                description=form.cleaned_data["description"],
                actor=request.user,
                ip=client_ip(request),
            )
        except ValidationError as error:
            _apply(form, error)
        else:
            messages.success(request, gettext("The endpoint is saved; new events follow its event types."))
            return redirect("webhooks:endpoint", row.pk)
    return _detail(request, row, form, status=400)


@login_required
@require_POST
def enable(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    _, row = _endpoint(request, endpoint_id)
    try:
        services.enable_endpoint(row, actor=request.user, ip=client_ip(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, gettext("Enabled: new events are sent to it. Send again the failed deliveries you need.")
        )
    return redirect("webhooks:endpoint", row.pk)


@login_required
@require_POST
def disable(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    _, row = _endpoint(request, endpoint_id)
    services.disable_endpoint(row, actor=request.user, ip=client_ip(request))
    messages.success(request, gettext("Disabled: nothing more is sent to it until you enable it."))
    return redirect("webhooks:endpoint", row.pk)


QUESTIONS = {
    "rotate": (
        gettext_lazy("Rotate the secret?"),
        gettext_lazy(
            "A new secret is shown once. For the next 24 hours each delivery is signed with both the new and the old "
            "secret, so you have a day to put the new one into your receiver."
        ),
        gettext_lazy("Yes, rotate the secret"),
        gettext_lazy("No, keep the secret"),
    ),
    "delete": (
        gettext_lazy("Delete this endpoint?"),
        gettext_lazy(
            "Nothing more is sent to it, and its deliveries and their log are deleted. This cannot be undone."
        ),
        gettext_lazy("Yes, delete it"),
        gettext_lazy("No, keep it"),
    ),
}


def _ask(request: HttpRequest, endpoint: WebhookEndpoint, action: str) -> HttpResponse:
    question, consequence, button, keep = QUESTIONS[action]
    context = {
        "nav": "webhooks",
        "endpoint": endpoint,
        "question": question,
        "consequence": consequence,
        "button": button,
        "keep": keep,
        "action": reverse(f"webhooks:{action}", args=[endpoint.pk]),
    }
    return render(request, "webhooks/confirm.html", context)


@login_required
@require_POST
def rotate(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    _, row = _endpoint(request, endpoint_id)
    if request.POST.get("confirmed") != "yes":
        return _ask(request, row, "rotate")
    secret = services.rotate_secret(row, actor=request.user, ip=client_ip(request))
    return _secret_page(request, row, secret, created=False)


@login_required
@require_POST
def delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    _, row = _endpoint(request, endpoint_id)
    if request.POST.get("confirmed") != "yes":
        return _ask(request, row, "delete")
    services.delete_endpoint(row, actor=request.user, ip=client_ip(request))
    messages.success(request, gettext("The endpoint %(url)s is deleted.") % {"url": row.url})
    return redirect("webhooks:endpoints")


@login_required
@require_POST
def send_again(request: HttpRequest, endpoint_id: int, delivery_id: int) -> HttpResponse:
    _, row = _endpoint(request, endpoint_id)
    chosen = get_object_or_404(WebhookDelivery.objects.filter(endpoint=row).select_related("message"), pk=delivery_id)
    try:
        services.send_again(chosen, actor=request.user, ip=client_ip(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            gettext("%(event)s %(id)s is being sent again.")
            % {"event": chosen.message.event_type, "id": chosen.message.msg_id},
        )
    return redirect("webhooks:endpoint", row.pk)
