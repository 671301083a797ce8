"""Every sign-in, whichever form made it (ours, the admin's, a test's force_login), writes what the session still
owes after the password; signin.middleware then holds the session to it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django_otp_webauthn.models import WebAuthnCredential

from audit.services import audit
from signin.services import step_after_password


@receiver(user_logged_in, dispatch_uid="signin.second_step")
def ask_for_second_factor(sender: Any, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        step_after_password(request, user)


@receiver(post_save, sender=WebAuthnCredential, dispatch_uid="signin.passkey_enrolled")
def passkey_enrolled(sender: Any, instance: WebAuthnCredential, created: bool, **kwargs: Any) -> None:
    """django-otp-webauthn's own view registers passkeys; the audit trail still hears of each one."""
    if created:
        audit("second_factor.enrolled", actor=instance.user, obj=instance, summary="passkey or security key")
