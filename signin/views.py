"""The second step of signing in, enrolment and recovery codes (every signed-in user), and the owners' Security page
(the organisation's requirement, members' factors and their reset). Views parse, call one service, render."""

from __future__ import annotations

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from signin import services
from signin.forms import CodeForm, EnrolCodeForm, RequirementForm
from signin.middleware import locked_context
from tenants.context import membership_or_404
from tenants.models import Membership, Role
from tenants.reauth import recent_auth_required


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@never_cache
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The code (or passkey) after the password."""
    user = request.user
    if services.is_verified(user) or not services.has_factor(user):  # type: ignore[arg-type]
        return redirect(_next(request))  # nothing to verify (an admin page may send a staff member here unasked)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        outcome = services.verify_code(request, user, form.cleaned_data["code"])  # type: ignore[arg-type]
        if outcome.verified:
            response = redirect(_next(request))
            if form.cleaned_data["remember"]:
                services.remember_device(request, response, user)  # type: ignore[arg-type]
            return response
        if outcome.locked:
            logout(request)
            return render(request, "signin/locked_out.html", locked_context(), status=429)
        left = outcome.attempts_left
        form.add_error(
            "code",
            ngettext(
                "That code is wrong or was used already. %(left)s more try before signing in is paused.",
                "That code is wrong or was used already. %(left)s more tries before signing in is paused.",
                left,
            )
            % {"left": left},
        )
        status = 400
    elif request.method == "POST":
        status = 400
    has_passkey = WebAuthnCredential.objects.filter(user_id=user.pk, confirmed=True).exists()
    return render(
        request,
        "signin/verify.html",
        {"form": form, "next": _next(request), "has_passkey": has_passkey, "remember_days": settings.MFA_REMEMBER_DAYS},
        status=status,
    )


@never_cache
@login_required
def enrol(request: HttpRequest, form: EnrolCodeForm | None = None, status: int = 200) -> HttpResponse:
    """Add a second factor: an authenticator app (QR code and its secret as text) or a passkey; recovery codes."""
    user = request.user
    if services.has_factor(user) and not services.is_verified(user):  # type: ignore[arg-type]
        return redirect(f"{resolve_url('signin:verify')}?next={resolve_url('signin:enrol')}")
    device = services.totp_to_confirm(user)  # type: ignore[arg-type]
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "signin/enrol.html",
        {
            "form": form or EnrolCodeForm(),
            "qr_svg": qr.svg_inline(scale=4, omitsize=True, title=_("QR code for your authenticator app")),
            "secret": _grouped(device.config_url.split("secret=", 1)[1].split("&", 1)[0]),
            "factors": services.factors_of(user),  # type: ignore[arg-type]
            "pending": request.session.get(services.PENDING) == services.ENROL,
            "next": _next(request),
        },
        status=status,
    )


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@login_required
@require_POST
def enrol_totp(request: HttpRequest) -> HttpResponse:
    form = EnrolCodeForm(request.POST)
    if not form.is_valid():
        return enrol(request, form=form, status=400)
    if not services.confirm_totp(request, request.user, form.cleaned_data["code"].strip()):  # type: ignore[arg-type]
        form.add_error("code", _("That code is not the one the app shows now: check the app and type the newest code."))
        return enrol(request, form=form, status=400)
    codes = services.new_recovery_codes(request, request.user)  # type: ignore[arg-type]
    messages.success(request, _("Your authenticator app is set up."))
    return render(request, "signin/recovery_codes.html", {"codes": codes, "next": _next(request)})


@never_cache
@login_required
@require_POST
@recent_auth_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working); a verified session only, shown once."""
    if not services.is_verified(request.user) or not services.has_factor(request.user):  # type: ignore[arg-type]
        raise PermissionDenied("Pass your second factor first.")
    codes = services.new_recovery_codes(request, request.user)  # type: ignore[arg-type]
    return render(request, "signin/recovery_codes.html", {"codes": codes, "next": resolve_url("signin:enrol")})


@login_required
@require_POST
@recent_auth_required
def remove_factors(request: HttpRequest) -> HttpResponse:
    try:
        services.remove_own_factors(request, request.user)  # type: ignore[arg-type]
    except PermissionError:
        raise PermissionDenied("Pass your second factor first.") from None
    messages.success(request, _("Your second factors are removed; every remembered device must pass a factor again."))
    return redirect("signin:enrol")


# --- owners: the Security page ------------------------------------------------------------------------------------


def _owner_membership(request: HttpRequest) -> Membership:
    membership = membership_or_404(request)
    if membership.role != Role.OWNER:
        raise PermissionDenied("The Security page is for owners.")
    return membership


@login_required
def security(request: HttpRequest) -> HttpResponse:
    membership = _owner_membership(request)
    organisation = membership.organisation
    members = list(
        Membership.objects.filter(organisation=organisation).select_related("user").order_by("user__username")
    )
    with_factor = set(
        TOTPDevice.objects.filter(user__in=[m.user_id for m in members], confirmed=True).values_list(
            "user_id", flat=True
        )
    ) | set(
        WebAuthnCredential.objects.filter(user__in=[m.user_id for m in members], confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    rows = [(m, m.user_id in with_factor) for m in members]
    form = RequirementForm(initial={"require_second_factor": organisation.require_second_factor})
    return render(request, "signin/security.html", {"rows": rows, "form": form, "nav": "security"})


@login_required
@require_POST
@recent_auth_required
def requirement(request: HttpRequest) -> HttpResponse:
    membership = _owner_membership(request)
    form = RequirementForm(request.POST)
    form.is_valid()  # a checkbox: absent is off
    required = bool(form.cleaned_data.get("require_second_factor"))
    services.set_second_factor_required(request, membership.organisation, required)
    messages.success(
        request,
        _("Owners and managers now need a second factor to sign in.")
        if required
        else _("A second factor is now optional for owners and managers."),
    )
    return redirect("signin:security")


@login_required
@require_POST
@recent_auth_required
def reset_member(request: HttpRequest, membership_id: int) -> HttpResponse:
    owner = _owner_membership(request)
    member = get_object_or_404(
        Membership.objects.select_related("user", "organisation"), pk=membership_id, organisation=owner.organisation
    )
    services.reset_member_factors(request, member)
    messages.success(
        request,
        _("%(member)s's second factors are reset; they set one up again at their next sign-in.")
        % {"member": member.user},
    )
    return redirect("signin:security")
