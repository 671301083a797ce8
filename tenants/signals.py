"""Sign-ins, sign-outs, failed sign-ins and lockouts go to the audit trail (docs/reliability.md S5), with who, when and
from where; a user whose last membership is removed is signed out everywhere."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
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
from tenants.context import LANGUAGE_SESSION_KEY
from tenants.models import Actor, Membership, UserPreferences, user_of


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, for the audit trail and sign-in lockouts (django-axes calls this too).

    REMOTE_ADDR is the immediate peer; gunicorn never rewrites it from X-Forwarded-For (its forwarded_allow_ips is
    about the scheme only). X-Forwarded-For is read only when that peer is a trusted proxy (or has no IP address: a
    unix socket, which gunicorn trusts as well), and from the right: a proxy appends the address it saw to whatever
    the client sent (nginx's $proxy_add_x_forwarded_for), so only the entries appended by proxies can be believed.
    With "*" the peer is a proxy but nothing says who else is, so only the right-most entry is; with listed
    addresses the walk goes on to the left while the entry is itself a listed proxy. Everything left of the client
    is the client's own word, and from an untrusted peer the whole header is.
    An IPv4 address seen as IPv6 (::ffff:a.b.c.d, from a server bound to [::]) is compared, and given, as IPv4."""
    if request is None:
        return None
    peer_ip = _ip(request.META.get("REMOTE_ADDR") or "")
    if peer_ip is not None and not _trusted_proxy(peer_ip):
        return str(peer_ip)
    any_peer = "*" in settings.FORWARDED_ALLOW_IPS
    client = str(peer_ip) if peer_ip is not None else None
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        hop_ip = _ip(hop.strip())
        if hop_ip is None:
            break  # garbage from here on: the last address a trusted proxy vouched for stands
        client = str(hop_ip)
        if any_peer or not _trusted_proxy(hop_ip):
            break
    return client


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted_proxy(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(address in network for network in _trusted_networks(tuple(settings.FORWARDED_ALLOW_IPS)))


@lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    if "*" in entries:
        return (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))
    networks = [ipaddress.ip_network(entry) for entry in entries]
    # A listed ::ffff:a.b.c.d/n stands for the IPv4 addresses it maps, as the addresses compared to it are unwrapped.
    return tuple(_unmapped(network) for network in networks)


def _unmapped(
    network: ipaddress.IPv4Network | ipaddress.IPv6Network,
) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        first = network.network_address.ipv4_mapped
        if first is not None:
            return ipaddress.ip_network(f"{first}/{network.prefixlen - 96}")
    return network


@receiver(user_logged_in, dispatch_uid="audit_user_logged_in")
def audit_login(sender: Any, request: HttpRequest | None, user: Actor, **kwargs: Any) -> None:
    audit("auth.login", actor=user, obj=user, summary=str(user), ip=client_ip(request))


@receiver(user_logged_in, dispatch_uid="language_at_login")
def language_at_login(sender: Any, request: HttpRequest | None, user: Actor, **kwargs: Any) -> None:
    """The user's chosen language into the new session, where config.middleware.UserLanguage reads it."""
    if request is None or not hasattr(request, "session"):
        return
    language = UserPreferences.objects.filter(user=user_of(user)).values_list("language", flat=True).first()
    if language:
        request.session[LANGUAGE_SESSION_KEY] = language


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
