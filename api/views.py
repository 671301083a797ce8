"""The dashboard's API keys page (owners): make a key (its secret shown once), see when each was last used, revoke."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from api import keys
from locks.forms import RowsChoiceField, apply_service_error
from tenants.context import membership_or_404
from tenants.models import CLOUD_ROLES, ApiKey, Membership, Property
from tenants.reauth import recent_auth_required
from tenants.signals import client_ip


class KeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label=gettext_lazy("Name"),
        help_text=gettext_lazy("Who uses it, e.g. “Opera PMS” or “cleaning schedule script”."),
    )
    scopes = forms.MultipleChoiceField(
        choices=ApiKey.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiKey.Scope.READ],
        label=gettext_lazy("Scopes"),
    )
    properties = RowsChoiceField(
        queryset=Property.objects.none(),
        required=False,
        label=gettext_lazy("Properties"),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Leave all unticked for a key that reaches every property of the organisation."),
    )

    request_token = forms.UUIDField(required=False, widget=forms.HiddenInput)  # one key per form, however often sent

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["request_token"].initial = uuid.uuid4()
        field = self.fields["properties"]
        assert isinstance(field, RowsChoiceField)
        field.queryset = Property.objects.for_membership(membership).order_by("name")


def _owner(request: HttpRequest) -> Membership:
    membership = membership_or_404(request)
    if membership.role not in CLOUD_ROLES:
        raise PermissionDenied("Only owners make and revoke API keys.")
    return membership


def _page(request: HttpRequest, membership: Membership, form: KeyForm, status: int = 200, **extra: Any) -> HttpResponse:
    listed = ApiKey.objects.for_membership(membership).prefetch_related("properties")
    context = {"nav": "api-keys", "keys": listed, "form": form, **extra}
    return render(request, "api/keys.html", context, status=status)


@login_required
@require_GET
def api_keys(request: HttpRequest) -> HttpResponse:
    membership = _owner(request)
    return _page(request, membership, KeyForm(membership=membership))


@login_required
@require_POST
@recent_auth_required
def create_key(request: HttpRequest) -> HttpResponse:
    membership = _owner(request)
    form = KeyForm(request.POST, membership=membership)
    if form.is_valid():
        limit = list(form.cleaned_data["properties"]) or None
        try:
            key, secret = keys.create_key(
                organisation=membership.organisation,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                properties=limit,
                request_token=form.cleaned_data["request_token"],
                actor=request.user,
                ip=client_ip(request),
            )
        except ValidationError as error:
            apply_service_error(form, error)
        except keys.AlreadyMade as made:
            shown_before = (
                f"The key “{made.key.name}” was made when this form was first sent, and its secret was shown then, "
                "once. If you did not copy it, revoke it and make another."
            )
            return _page(request, membership, KeyForm(membership=membership), notice=shown_before)
        else:
            # Shown on this answer only: it is not stored, so a reload cannot show it again.
            response = _page(request, membership, KeyForm(membership=membership), new_key=key, secret=secret)
            response["Cache-Control"] = "no-store"
            return response
    return _page(request, membership, form, status=400)


@login_required
def revoke_key(request: HttpRequest, key_id: int) -> HttpResponse:
    """GET (or a POST not yet confirmed) asks first; the confirming POST revokes."""
    membership = _owner(request)
    key = get_object_or_404(ApiKey.objects.for_membership(membership), pk=key_id)
    if request.method == "POST" and request.POST.get("confirmed") == "yes":
        keys.revoke_key(key, actor=request.user, ip=client_ip(request))
        return redirect("api-keys")
    return render(request, "api/revoke.html", {"nav": "api-keys", "key": key})
