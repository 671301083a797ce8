"""The second sign-in factor: what comes after the password, enrolment, recovery codes, remembered devices, the
wrong-code lockout, resets, and an organisation's requirement. Every write is audited; no secret or code is ever
put in the audit trail or a log line.

django-otp holds the devices (TOTP apps, recovery codes, and django-otp-webauthn's passkeys) and marks a session
verified (`django_otp.login`, `request.user.is_verified()`); this module decides when that is asked for."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from audit.services import audit
from signin.models import SecondFactorState
from tenants.models import MANAGER_ROLES, Membership, Organisation, RequestUser
from tenants.signals import client_ip

# What the session still owes after the password (signin.middleware lets only the second step's pages through).
PENDING = "signin_pending"
VERIFY, ENROL, LOCKED = "verify", "enrol", "locked"

RECOVERY_CODE_COUNT = 10
REMEMBER_COOKIE = "doors_remembered"
_REMEMBER_SALT = "signin.remembered-device"


# --- who has what ---------------------------------------------------------------------------------------------


def factors_of(user: AbstractBaseUser) -> list[Device]:
    """The user's confirmed TOTP apps and passkeys (recovery codes are a way back in, not a factor of their own)."""
    return [d for d in devices_for_user(user, confirmed=True) if not isinstance(d, StaticDevice)]


def has_factor(user: AbstractBaseUser) -> bool:
    return bool(factors_of(user))


def is_verified(user: RequestUser) -> bool:
    """Passed a second factor in this session (django-otp's mark; False for a user just signed in this request)."""
    check = getattr(user, "is_verified", None)
    return bool(check()) if callable(check) else False


def factor_required(user: AbstractBaseUser) -> bool:
    """Staff always (the admin); owners and managers of an organisation that requires it."""
    if getattr(user, "is_staff", False):
        return True
    return Membership.objects.filter(
        user_id=user.pk, role__in=MANAGER_ROLES, organisation__require_second_factor=True
    ).exists()


def step_after_password(request: HttpRequest, user: AbstractBaseUser) -> str | None:
    """What a user who has just given the right password still owes, written to the session: nothing, a code (or a
    passkey), enrolment first, or nothing at all because their code lockout still runs. A valid remembered-device
    cookie counts as passing the factor it was made with."""
    state = SecondFactorState.objects.filter(user_id=user.pk).first()
    if state is not None and state.locked_until is not None and state.locked_until > timezone.now():
        step: str | None = LOCKED
    elif has_factor(user):
        device = remembered_device(request, user, state)
        if device is not None:
            otp_login(request, device)
            audit("second_factor.remembered", actor=user, summary="signed in on a remembered device", ip=_ip(request))
            step = None
        else:
            step = VERIFY
    elif factor_required(user):
        step = ENROL
    else:
        step = None
    if step is None:
        request.session.pop(PENDING, None)
    else:
        request.session[PENDING] = step
    return step


# --- enrolment ------------------------------------------------------------------------------------------------


def totp_to_confirm(user: AbstractBaseUser) -> TOTPDevice:
    """The user's unconfirmed authenticator-app device (made once, shown until a first code confirms it)."""
    device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def confirm_totp(request: HttpRequest, user: AbstractBaseUser, code: str) -> bool:
    """Confirm the new app with its first code; the session is verified by it. A wrong code changes nothing."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=False).order_by("pk").first()
        if device is None or not device.verify_token(code):
            audit("second_factor.enrol_failed", actor=user, summary="authenticator app: wrong code", ip=_ip(request))
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit("second_factor.enrolled", actor=user, obj=device, summary="authenticator app", ip=_ip(request))
    otp_login(request, device)
    request.session.pop(PENDING, None)
    return True


def new_recovery_codes(request: HttpRequest, user: AbstractBaseUser) -> list[str]:
    """Ten one-time codes, replacing any earlier ones. Returned once to be shown; only django-otp keeps them."""
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        StaticDevice.objects.filter(user_id=user.pk).delete()
        device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
        audit("second_factor.recovery_codes_made", actor=user, summary=f"{len(codes)} recovery codes", ip=_ip(request))
    return codes


# --- the second step ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    verified: bool
    locked: bool = False
    attempts_left: int = 0


def verify_code(request: HttpRequest, user: AbstractBaseUser, code: str) -> Outcome:
    """A code from the authenticator app or a recovery code. django-otp refuses a TOTP code used before (its
    `last_t`) and deletes a recovery code once used. Wrong codes in a row are counted: AXES_FAILURE_LIMIT of them
    lock the user out for AXES_COOLOFF_TIME, as wrong passwords do. Nothing is written about the code itself."""
    code = "".join(code.split())
    limit = settings.AXES_FAILURE_LIMIT
    with transaction.atomic():
        state, _ = SecondFactorState.objects.select_for_update().get_or_create(user_id=user.pk)
        if state.locked_until is not None and state.locked_until > timezone.now():
            return Outcome(verified=False, locked=True)
        device = _device_accepting(user, code) if code else None
        if device is not None:
            state.failed_codes, state.locked_until = 0, None
            state.save(update_fields=["failed_codes", "locked_until"])
            kind = "recovery code" if isinstance(device, StaticDevice) else "authenticator app"
            audit("second_factor.verified", actor=user, obj=device, summary=kind, ip=_ip(request))
        else:
            state.failed_codes += 1
            locked = state.failed_codes >= limit
            if locked:
                state.failed_codes, state.locked_until = 0, timezone.now() + settings.AXES_COOLOFF_TIME
            state.save(update_fields=["failed_codes", "locked_until"])
            audit("second_factor.failed", actor=user, summary="wrong or used code", ip=_ip(request))
            if locked:
                audit("second_factor.locked_out", actor=user, summary=f"{limit} wrong codes in a row", ip=_ip(request))
            return Outcome(verified=False, locked=locked, attempts_left=limit - state.failed_codes)
    otp_login(request, device)
    request.session.pop(PENDING, None)
    return Outcome(verified=True)


def _device_accepting(user: AbstractBaseUser, code: str) -> Device | None:
    devices = [
        *TOTPDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=True),
        *StaticDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=True),
    ]
    return next((device for device in devices if device.verify_token(code)), None)


def after_passkey_verified(request: HttpRequest, user: AbstractBaseUser) -> None:
    """A passkey passed the second step (django-otp-webauthn verified the session): audit it, clear the step."""
    request.session.pop(PENDING, None)
    SecondFactorState.objects.filter(user_id=user.pk).update(failed_codes=0)
    audit("second_factor.verified", actor=user, summary="passkey or security key", ip=_ip(request))


# --- remembered devices ---------------------------------------------------------------------------------------


def remember_device(request: HttpRequest, response: HttpResponse, user: AbstractBaseUser) -> None:
    """Set the cookie that skips the second step on this browser for MFA_REMEMBER_DAYS: signed, bound to the user,
    to their password (a change ends it) and to their remember generation (a reset ends it)."""
    device_id = request.session.get(DEVICE_ID_SESSION_KEY)
    if not device_id:
        return
    state, _ = SecondFactorState.objects.get_or_create(user_id=user.pk)
    value = signing.TimestampSigner(salt=_REMEMBER_SALT).sign_object(
        {"u": user.pk, "g": state.remember_generation, "p": _password_mark(user), "d": device_id}
    )
    response.set_cookie(
        REMEMBER_COOKIE,
        value,
        max_age=int(timedelta(days=settings.MFA_REMEMBER_DAYS).total_seconds()),
        httponly=True,
        secure=settings.MFA_REMEMBER_COOKIE_SECURE,
        samesite="Lax",
    )
    audit(
        "second_factor.device_remembered", actor=user, summary=f"for {settings.MFA_REMEMBER_DAYS} days", ip=_ip(request)
    )


def remembered_device(request: HttpRequest, user: AbstractBaseUser, state: SecondFactorState | None) -> Device | None:
    """The device a valid remember cookie of this user names, if it still exists and is confirmed."""
    raw = request.COOKIES.get(REMEMBER_COOKIE)
    if not raw:
        return None
    try:
        data: dict[str, Any] = signing.TimestampSigner(salt=_REMEMBER_SALT).unsign_object(
            raw, max_age=timedelta(days=settings.MFA_REMEMBER_DAYS)
        )
    except signing.BadSignature:
        return None
    generation = state.remember_generation if state is not None else 0
    if (
        data.get("u") != user.pk
        or data.get("g") != generation
        or not hmac.compare_digest(str(data.get("p", "")), _password_mark(user))
    ):
        return None
    device = Device.from_persistent_id(str(data.get("d", "")))
    if device is None or device.user_id != user.pk or not device.confirmed:
        return None
    return device


def _password_mark(user: AbstractBaseUser) -> str:
    # A keyed digest of the password hash: a password change ends every remembered device, the hash never leaves.
    return salted_hmac(_REMEMBER_SALT, user.password or "").hexdigest()[:32]


# --- removal and resets ---------------------------------------------------------------------------------------


def _forget_factors(user_id: int) -> None:
    TOTPDevice.objects.filter(user_id=user_id).delete()
    StaticDevice.objects.filter(user_id=user_id).delete()
    WebAuthnCredential.objects.filter(user_id=user_id).delete()
    state, _ = SecondFactorState.objects.select_for_update().get_or_create(user_id=user_id)
    state.remember_generation += 1
    state.failed_codes, state.locked_until = 0, None
    state.save()


def remove_own_factors(request: HttpRequest, user: AbstractBaseUser) -> None:
    """The user removes every factor of theirs; the view lets only a verified session do it."""
    if not is_verified(request.user):
        raise PermissionError("Pass your second factor first.")
    with transaction.atomic():
        _forget_factors(user.pk)
        audit("second_factor.removed", actor=user, summary="every factor, by the user", ip=_ip(request))
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    if factor_required(user):
        request.session[PENDING] = ENROL  # a role that must have one sets a new one up before going on


def reset_member_factors(request: HttpRequest, membership: Membership) -> None:
    """An owner resets a member's factors (lost phone): every device and remembered device of theirs ends. The
    member enrols again at their next sign-in if their role requires it."""
    with transaction.atomic():
        _forget_factors(membership.user_id)
        audit(
            "member.factors_reset",
            actor=request.user,
            organisation=membership.organisation,
            obj=membership,
            summary=f"second factors of {membership.user} reset",
            ip=_ip(request),
        )


def reset_factors_by_superuser(request: HttpRequest, user: AbstractBaseUser) -> None:
    with transaction.atomic():
        _forget_factors(user.pk)
        audit(
            "member.factors_reset",
            actor=request.user,
            obj=user,
            summary=f"second factors of {user} reset",
            ip=_ip(request),
        )


def set_second_factor_required(request: HttpRequest, organisation: Organisation, required: bool) -> None:
    with transaction.atomic():
        Organisation.objects.filter(pk=organisation.pk).update(require_second_factor=required)
        organisation.require_second_factor = required
        audit(
            "organisation.second_factor_required" if required else "organisation.second_factor_optional",
            actor=request.user,
            organisation=organisation,
            obj=organisation,
            summary="owners and managers must use a second factor" if required else "second factor optional",
            ip=_ip(request),
        )


def _ip(request: HttpRequest) -> str | None:
    return client_ip(request)
