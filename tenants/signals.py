"""Sign-ins, sign-outs, failed sign-ins and lockouts go to the audit trail (docs/reliability.md S5), with who, when and
from where; a user whose last membership is removed is signed out everywhere."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from audit.services import audit
from tenants.models import Actor, Membership


def client_ip(request: HttpRequest | None) -> str | None:
    """The peer address. REMOTE_ADDR only: X-Forwarded-For is whatever the client wants it to be, unless a proxy
    we trust rewrites REMOTE_ADDR for us (gunicorn's forwarded_allow_ips does)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


@receiver(user_logged_in, dispatch_uid="audit_user_logged_in")
def audit_login(sender: Any, request: HttpRequest | None, user: Actor, **kwargs: Any) -> None:
    audit("auth.login", actor=user, obj=user, summary=str(user), ip=client_ip(request))


@receiver(user_logged_out, dispatch_uid="audit_user_logged_out")
def audit_logout(sender: Any, request: HttpRequest | None, user: Actor, **kwargs: Any) -> None:
    if user is None:
        return  # signing out without having been signed in is not an event
    audit("auth.logout", actor=user, obj=user, summary=str(user), ip=client_ip(request))


@receiver(user_login_failed, dispatch_uid="audit_user_login_failed")
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Only the username that was tried: Django masks the password in `credentials`, but even the masked value
    # and any other entry stay out of the trail.
    username = str(credentials.get(get_user_model().USERNAME_FIELD, "") or "")
    audit("auth.login_failed", summary=f"username tried: {username[:150]}", ip=client_ip(request))


@receiver(user_locked_out, dispatch_uid="audit_user_locked_out")
def audit_locked_out(
    sender: Any, request: HttpRequest | None = None, username: str | None = None, **kwargs: Any
) -> None:
    audit("auth.locked_out", summary=f"username tried: {str(username or '')[:150]}", ip=client_ip(request))


def end_sessions(user_id: int) -> int:
    """Delete every live session of this user; returns how many. Reads each session, which the timeouts keep few
    (sessions live SESSION_ABSOLUTE_TIMEOUT_SECONDS at most)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in store.get_model_class().objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get(SESSION_KEY)) == str(user_id):
            store(session.session_key).delete()  # through the store, so a cached_db engine forgets it too
            ended += 1
    return ended


@receiver(post_delete, sender=Membership, dispatch_uid="end_sessions_of_removed_members")
def end_sessions_without_membership(sender: Any, instance: Membership, **kwargs: Any) -> None:
    """Removed from their last organisation: signed out everywhere. Still a member elsewhere: the sessions stay,
    because every page reads the memberships afresh, so the removed organisation is gone from the next request on
    (its ids are 404) without throwing the user out of the others."""
    user_id = instance.user_id

    def end() -> None:
        if Membership.objects.filter(user_id=user_id).exists():
            return
        ended = end_sessions(user_id)
        if ended:
            audit("auth.sessions_ended", summary=f"user #{user_id}: {ended} session(s), no membership left")

    transaction.on_commit(end)
