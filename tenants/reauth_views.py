"""The confirm page (`/accounts/confirm/`): the password again, for a while of "sudo mode" (tenants/reauth.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tenants import reauth
from tenants.forms import ConfirmPasswordForm


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest) -> HttpResponse:
    """GET: the form; POST: the password, checked by `reauth.confirm_identity`; then back to `next` (this site
    only)."""
    wanted = request.POST.get("next") if request.method == "POST" else request.GET.get("next")
    next_url = reauth.safe_next(request, wanted, reverse("home"))
    form = ConfirmPasswordForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        if form.is_valid() and reauth.confirm_identity(request, form.cleaned_data["password"]):
            return redirect(next_url)
        if form.is_valid():
            form.add_error("password", gettext("That is not your password."))
        form["password"].field.widget.attrs.update({"aria-invalid": "true", "aria-describedby": "id_password-errors"})
        status = 400
    context = {"form": form, "next": next_url, "window_minutes": max(1, settings.REAUTH_SECONDS // 60)}
    return render(request, "registration/reauth.html", context, status=status)
