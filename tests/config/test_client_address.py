"""The client's address behind a proxy (#11 B.3): X-Forwarded-For is believed only from a peer in FORWARDED_ALLOW_IPS,
read from the right; sign-in lockouts (django-axes) and the audit trail both use it."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from audit.models import AuditEvent
from tenants.models import Membership, Organisation, Role
from tenants.signals import client_ip

PASSWORD = "correct-horse-battery"
PROXY = "127.0.0.1"  # the README's proxy on this machine, trusted by default


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def member(django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("manager", password=PASSWORD)
    org = Organisation.objects.create(name="Canal Hotel", slug="canal")
    Membership.objects.create(user=user, organisation=org, role=Role.MANAGER)
    return user


def sign_in(password: str, *, peer: str, forwarded_for: str | None = None) -> Any:
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    return Client().post(reverse("login"), {"username": "manager", "password": password}, REMOTE_ADDR=peer, **headers)


def audited(action: str) -> list[str | None]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk").values_list("ip_address", flat=True))


# --- who the client is --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("allow", "peer", "forwarded_for", "client"),
    [
        # An untrusted peer is the client, whatever it says it forwards for.
        (["127.0.0.1", "::1"], "203.0.113.7", "198.51.100.1", "203.0.113.7"),
        (["127.0.0.1", "::1"], "203.0.113.7", None, "203.0.113.7"),
        # A trusted proxy: the address it saw, i.e. the right-most entry.
        (["127.0.0.1", "::1"], "127.0.0.1", "198.51.100.1", "198.51.100.1"),
        (["127.0.0.1", "::1"], "::1", "2001:db8::7", "2001:db8::7"),
        # What the client put in front of it is not believed.
        (["127.0.0.1", "::1"], "127.0.0.1", "192.0.2.66, 198.51.100.1", "198.51.100.1"),
        # A chain of trusted proxies (a network): skipped from the right up to the first address that is not one.
        (["10.0.0.0/8"], "10.0.0.2", "192.0.2.66, 198.51.100.1, 10.0.0.9", "198.51.100.1"),
        # Everything trusted: the left-most address is all there is.
        (["10.0.0.0/8"], "10.0.0.2", "10.0.0.5, 10.0.0.9", "10.0.0.5"),
        # A trusted proxy that forwards nothing, or garbage: the last address vouched for stands.
        (["127.0.0.1"], "127.0.0.1", None, "127.0.0.1"),
        (["127.0.0.1"], "127.0.0.1", "", "127.0.0.1"),
        (["10.0.0.0/8"], "10.0.0.2", "198.51.100.1, not-an-address, 10.0.0.9", "10.0.0.9"),
        # A unix socket has no address: gunicorn trusts it, and so do we.
        (["127.0.0.1"], "", "198.51.100.1", "198.51.100.1"),
        (["127.0.0.1"], "", None, None),
        # "*" trusts every peer, as in gunicorn, but names no proxy behind it: only the right-most entry is believed,
        # the one the peer appended; what the client wrote in front of it is not (nginx keeps what the client sent).
        (["*"], "203.0.113.7", "198.51.100.1", "198.51.100.1"),
        (["*"], "10.0.0.2", "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        (["*"], "10.0.0.2", "6.6.6.6, 10.0.0.9, 203.0.113.9", "203.0.113.9"),
        (["*"], "", "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        # A trusted network: a client outside it cannot put itself further left with a forged entry ...
        (["10.0.0.0/8"], "10.0.0.2", "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        (["10.0.0.0/8"], "10.0.0.2", "10.6.6.6, 203.0.113.9", "203.0.113.9"),
        # ... and with the proxy's own address listed (as the README says), neither can a client beside it.
        (["10.0.0.2"], "10.0.0.2", "6.6.6.6, 10.1.2.3", "10.1.2.3"),
        # An IPv4 peer or hop seen as IPv6 (a server bound to [::]) is the same IPv4 address, trusted or not.
        (["127.0.0.1"], "::ffff:127.0.0.1", "198.51.100.1", "198.51.100.1"),
        (["127.0.0.1"], "::ffff:203.0.113.7", "198.51.100.1", "203.0.113.7"),
        (["127.0.0.1", "10.0.0.9"], "127.0.0.1", "6.6.6.6, 198.51.100.1, ::ffff:10.0.0.9", "198.51.100.1"),
        (["127.0.0.1"], "127.0.0.1", "::ffff:198.51.100.1", "198.51.100.1"),
        (["::ffff:127.0.0.0/104"], "127.0.0.1", "198.51.100.1", "198.51.100.1"),
    ],
)
def test_the_client_address(settings: Any, allow: list[str], peer: str, forwarded_for: str | None, client: str) -> None:
    settings.FORWARDED_ALLOW_IPS = allow
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    request = RequestFactory().get("/", REMOTE_ADDR=peer, **headers)
    assert client_ip(request) == client


def test_the_app_trusts_the_proxies_gunicorn_trusts() -> None:
    """One setting: the same environment variable, and the same default when it is not set."""
    from django.conf import settings
    from gunicorn.config import ForwardedAllowIPS

    expected = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
    assert ForwardedAllowIPS.default == expected
    assert [entry.strip() for entry in expected.split(",") if entry.strip()] == settings.FORWARDED_ALLOW_IPS


# --- sign-in lockouts ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_behind_the_proxy_one_clients_wrong_passwords_do_not_lock_out_another(member: Any) -> None:
    for _ in range(5):
        sign_in("wrong", peer=PROXY, forwarded_for="198.51.100.1")
    assert sign_in(PASSWORD, peer=PROXY, forwarded_for="198.51.100.1").status_code == 429
    assert sign_in(PASSWORD, peer=PROXY, forwarded_for="203.0.113.20").status_code == 302
    assert set(audited("auth.login_failed")) == {"198.51.100.1"}
    assert audited("auth.locked_out")[0] == "198.51.100.1"
    assert audited("auth.login") == ["203.0.113.20"]


@pytest.mark.django_db
def test_an_untrusted_peer_cannot_dodge_the_lockout_with_a_forwarded_header(member: Any) -> None:
    for n in range(5):
        sign_in("wrong", peer="203.0.113.66", forwarded_for=f"198.51.100.{n}")
    # A new made-up address each time: still the same peer, still locked out.
    assert sign_in(PASSWORD, peer="203.0.113.66", forwarded_for="192.0.2.1").status_code == 429
    assert set(audited("auth.login_failed")) == {"203.0.113.66"}


@pytest.mark.django_db
def test_an_untrusted_peer_cannot_lock_out_a_client_by_naming_it(member: Any) -> None:
    for _ in range(5):
        sign_in("wrong", peer="203.0.113.66", forwarded_for="198.51.100.1")
    # The real 198.51.100.1 behind the proxy is not the one who failed.
    assert sign_in(PASSWORD, peer=PROXY, forwarded_for="198.51.100.1").status_code == 302


# --- the audit trail ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_audit_rows_record_the_client_not_the_proxy(member: Any, django_user_model: Any) -> None:
    browser = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1")
    browser.post(reverse("login"), {"username": "manager", "password": PASSWORD})
    member.is_staff = True
    member.save()
    browser.get("/django-rq/")  # refused (superusers only), and audited by the middleware
    browser.post(reverse("logout"))
    assert audited("auth.login") == ["198.51.100.1"]
    assert audited("access.refused") == ["198.51.100.1"]
    assert audited("auth.logout") == ["198.51.100.1"]
