"""Every sign-in, whichever form made it (ours, the admin's, a test's force_login), writes what the session still
owes after the password; signin.middleware then holds the session to it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from signin.services import step_after_password


@receiver(user_logged_in, dispatch_uid="signin.second_step")
def ask_for_second_factor(sender: Any, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        step_after_password(request, user)
