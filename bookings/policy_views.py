"""A property's "Arrivals and messages" page (owners and managers): the booking policy, and the message templates per
kind and language (add, change, delete). Each POST calls one function of bookings.policies."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bookings import policies, selectors
from bookings.messages import DEFAULT_WORDS, PLACEHOLDERS
from bookings.models import MessageTemplate
from bookings.policy_forms import PolicyForm, TemplateForm
from locks.forms import apply_service_error
from tenants.context import membership_or_404
from tenants.models import Property
from tenants.signals import client_ip


def _property(request: HttpRequest, property_id: int) -> Property:
    membership = membership_or_404(request)
    prop = get_object_or_404(selectors.managed_properties(membership), pk=property_id)
    if not policies.may_change(request.user, prop):
        raise PermissionDenied("Only owners and managers may change a property's arrival and message settings.")
    return prop


def _template(prop: Property, template_id: int) -> MessageTemplate:
    return get_object_or_404(selectors.templates_of(prop), pk=template_id)


def _page(request: HttpRequest, prop: Property, status: int = 200, **forms: Any) -> HttpResponse:
    context = {
        "nav": "portfolio",
        "property": prop,
        "policy_form": forms.get("policy_form") or PolicyForm.for_policy(selectors.policy_for(prop)),
        "template_form": forms.get("template_form") or TemplateForm(initial={"language": prop.language}),
        "templates": selectors.templates_of(prop),
        "placeholders": PLACEHOLDERS,
        "defaults": [(kind.label, subject, body) for kind, (subject, body) in DEFAULT_WORDS.items()],
    }
    return render(request, "bookings/policy.html", context, status=status)


@login_required
def policy_page(request: HttpRequest, property_id: int) -> HttpResponse:
    prop = _property(request, property_id)
    if request.method != "POST":
        return _page(request, prop)
    form = PolicyForm(request.POST)
    if form.is_valid():
        try:
            policies.save_policy(
                prop, policies.PolicyValues(**form.cleaned_data), actor=request.user, ip=client_ip(request)
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Arrival and message timings saved."))
            return redirect("booking-policy:page", property_id=prop.pk)
    return _page(request, prop, status=400, policy_form=form)


@login_required
@require_POST
def template_add(request: HttpRequest, property_id: int) -> HttpResponse:
    prop = _property(request, property_id)
    form = TemplateForm(request.POST)
    if form.is_valid():
        try:
            policies.save_template(prop, **form.cleaned_data, actor=request.user, ip=client_ip(request))
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Template added."))
            return redirect("booking-policy:page", property_id=prop.pk)
    return _page(request, prop, status=400, template_form=form)


@login_required
def template_edit(request: HttpRequest, property_id: int, template_id: int) -> HttpResponse:
    prop = _property(request, property_id)
    template = _template(prop, template_id)
    if request.method == "POST":
        form = TemplateForm(request.POST)
        if form.is_valid():
            try:
                policies.save_template(
                    prop, **form.cleaned_data, template=template, actor=request.user, ip=client_ip(request)
                )
            except ValidationError as error:
                apply_service_error(form, error)
            else:
                messages.success(request, _("Template saved."))
                return redirect("booking-policy:page", property_id=prop.pk)
        status = 400
    else:
        initial = {"kind": template.kind, "language": template.language, "subject": template.subject}
        form = TemplateForm(initial={**initial, "body": template.body})
        status = 200
    context = {"nav": "portfolio", "property": prop, "template": template, "form": form}
    return render(request, "bookings/template_edit.html", context, status=status)


@login_required
@require_POST
def template_delete(request: HttpRequest, property_id: int, template_id: int) -> HttpResponse:
    prop = _property(request, property_id)
    template = _template(prop, template_id)
    policies.delete_template(template, actor=request.user, ip=client_ip(request))
    messages.success(request, _("Template deleted: the default words are used instead."))
    return redirect("booking-policy:page", property_id=prop.pk)
