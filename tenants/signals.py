"""Sign-ins, sign-outs and failed sign-ins go to the audit trail (RELIABILITY.md S5), with who, when and from where."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest


def client_ip(request: HttpRequest | None) -> str | None:
    """The peer address. REMOTE_ADDR only: X-Forwarded-For is whatever the client wants it to be, unless a proxy
    we trust rewrites REMOTE_ADDR for us (gunicorn's forwarded_allow_ips does)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _audit(action: str, **kwargs: Any) -> None:
    # Imported at call time: tenants loads before locks, and locks.services imports tenants.models.
    from locks.services import audit

    audit(action, **kwargs)


@receiver(user_logged_in, dispatch_uid="audit_user_logged_in")
def audit_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    _audit("auth.login", actor=user, obj=user, summary=str(user), ip=client_ip(request))


@receiver(user_logged_out, dispatch_uid="audit_user_logged_out")
def audit_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:
        return  # signing out without having been signed in is not an event
    _audit("auth.logout", actor=user, obj=user, summary=str(user), ip=client_ip(request))


@receiver(user_login_failed, dispatch_uid="audit_user_login_failed")
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Only the username that was tried: Django masks the password in `credentials`, but even the masked value
    # and any other entry stay out of the trail.
    username = str(credentials.get(get_user_model().USERNAME_FIELD, "") or "")
    _audit("auth.login_failed", summary=f"username tried: {username[:150]}", ip=client_ip(request))
