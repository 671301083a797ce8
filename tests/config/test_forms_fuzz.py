"""Issue #7, docs/reliability.md T3: every dashboard form endpoint, posted arbitrary values (text, unicode, huge, empty,
negative, SQL-ish, HTML-ish, NUL, look-alike digits) and missing fields by an owner: never a server error, no rows
unless the answer says it succeeded, and no posted markup reflected unescaped.

Without an OpenAPI schema there is no schemathesis; Hypothesis draws each field from the field's valid value or
from a pool of nasty ones, so the walk reaches past the first validation error too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import ERROR, get_messages
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings import arrival_links
from bookings.models import GuestPass, StayMessage
from locks.forms import local_input
from locks.models import (
    AccessCode,
    Alert,
    CloudAccount,
    Lock,
    LockOperation,
    LockUser,
    RemoteUnlockRequest,
    UnlockMethod,
)
from tenants.models import Guest, Property, Stay, Unit
from tests.locks.test_admin import Tenant, build_tenant

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES = 30
MARKUP = '<script>alert("fuzz")</script>'
NASTY = [
    "",
    " ",
    "0",
    "-1",
    "-99999999999999999999",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "²",  # isdigit() says yes, int() says no
    "٣",  # an Arabic-Indic three: a digit to int()
    "１２",  # full-width digits
    "\x00",
    "a\x00b",
    "' OR '1'='1' --",
    "1; DROP TABLE locks_lock; --",
    MARKUP,
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}",
    "%s%s%n",
    "../../etc/passwd",
    "\u202eevil",
    "😀" * 50,
    "x" * 5000,
    "2026-02-30T10:00",
    "2026-03-29T02:30",  # Amsterdam's spring-forward gap
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "24:00",
    "99:99",
]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)  # no lone surrogates: not encodable
NASTY_VALUE = st.one_of(st.sampled_from(NASTY), TEXT, st.integers().map(str))


@dataclass
class Endpoint:
    url: Callable[[Tenant], str]
    valid: Callable[[Tenant], dict[str, Any]]
    counted: tuple[type[models.Model], ...] = ()
    multi: frozenset[str] = field(default_factory=frozenset)  # fields posted as lists


def _now_in(zone: str, days: float = 0) -> str:
    return local_input(timezone.now() + timedelta(days=days), zone)


def _lock(t: Tenant) -> Lock:
    return t.objects[Lock]  # type: ignore[return-value]


def _stay(t: Tenant) -> Stay:
    return Stay.objects.get(pk=t.objects[Stay].pk)


ZONE = "Europe/Amsterdam"

ENDPOINTS: dict[str, Endpoint] = {
    "issue code": Endpoint(
        lambda t: reverse("locks:issue-code", args=[_lock(t).pk]),
        lambda t: {
            "lock": _lock(t).pk,
            "label": "Ada",
            "kind": "window",
            "starts_at": _now_in(ZONE),
            "ends_at": _now_in(ZONE, 1),
            "schedule_days": ["1", "2"],
            "schedule_start": "09:00",
            "schedule_end": "17:00",
            "pin": "",
            "guest": "",
            "request_token": str(uuid.uuid4()),
        },
        (AccessCode,),
        frozenset({"schedule_days"}),
    ),
    "change code": Endpoint(
        lambda t: reverse("locks:code-edit", args=[t.objects[AccessCode].pk]),
        lambda t: {
            "starts_at": _now_in(ZONE),
            "ends_at": _now_in(ZONE, 2),
            "pin": "",
            "version": AccessCode.objects.get(pk=t.objects[AccessCode].pk).version,
        },
        (AccessCode,),
    ),
    "code action": Endpoint(
        lambda t: reverse("locks:code-action", args=[t.objects[AccessCode].pk, "freeze"]),
        lambda t: {"version": AccessCode.objects.get(pk=t.objects[AccessCode].pk).version},
        (AccessCode,),
    ),
    "offline password": Endpoint(
        lambda t: reverse("locks:offline-password", args=[_lock(t).pk]),
        lambda t: {"kind": "multiple", "label": "Plumber", "starts_at": _now_in(ZONE), "ends_at": _now_in(ZONE, 1)},
        (LockOperation,),
    ),
    "advanced password": Endpoint(
        lambda t: reverse("locks:advanced-password", args=[_lock(t).pk]),
        lambda t: {"advanced_type": "admin", "pin": "123456"},
        (LockOperation,),
    ),
    "check-in": Endpoint(
        lambda t: reverse("desk:today"),
        lambda t: {
            "unit": t.objects[Unit].pk,
            "guest_name": "Grace Hopper",
            "guest_email": "grace@example.com",
            "guest_phone": "+31 20 123",
            "check_in": _now_in(ZONE),
            "check_out": _now_in(ZONE, 1),
            "kind": "hotel",
            "booking_token": str(uuid.uuid4()),
        },
        (Stay, Guest, AccessCode),
    ),
    "stay dates": Endpoint(
        lambda t: reverse("desk:stay-dates", args=[t.objects[Stay].pk]),
        lambda t: {
            "seen": _stay(t).updated_at.isoformat(),
            "check_in": _now_in(ZONE),
            "check_out": _now_in(ZONE, 3),
        },
        (Stay, AccessCode),
    ),
    "move": Endpoint(
        lambda t: reverse("desk:stay-move", args=[t.objects[Stay].pk]),
        lambda t: {"seen": _stay(t).updated_at.isoformat(), "unit": t.objects[Unit].pk},
        (Stay, AccessCode),
    ),
    "send": Endpoint(
        lambda t: reverse("desk:stay-send", args=[t.objects[Stay].pk]),
        lambda t: {"channel": "email"},
        (Stay,),
    ),
    "send a guest message again": Endpoint(
        lambda t: reverse("desk:stay-message-send", args=[t.objects[Stay].pk]),
        lambda t: {"kind": "code"},
        (Stay, StayMessage),
    ),
    "property create": Endpoint(
        lambda t: reverse("setup:property-create"),
        lambda t: {"name": "Annexe", "kind": "hotel", "time_zone": ZONE, "address": "Canal 1"},
        (Property,),
    ),
    "units create": Endpoint(
        lambda t: reverse("setup:units-create"),
        lambda t: {"property": t.objects[Property].pk, "names": "101-103, Penthouse"},
        (Unit,),
    ),
    "cloud connect": Endpoint(
        lambda t: reverse("locks:cloud-connect"),
        lambda t: {"name": "EU", "endpoint": "eu", "access_id": "abc", "access_secret": "s3cr3t-value"},
        (CloudAccount,),
    ),
    "lock attach": Endpoint(
        lambda t: reverse("locks:lock-attach", args=[_lock(t).pk]),
        lambda t: {"unit": t.objects[Unit].pk},
        (Lock,),
    ),
    "lock user add": Endpoint(
        lambda t: reverse("locks:lock-user-add", args=[_lock(t).pk]),
        lambda t: {"name": "Cleaner", "sex": "1"},
        (LockUser,),
    ),
    "lock user edit": Endpoint(
        lambda t: reverse("locks:lock-user-edit", args=[t.objects[LockUser].pk]),
        lambda t: {
            "name": "Renamed",
            "sex": "2",
            "role": "normal",
            "valid_from": _now_in(ZONE),
            "valid_until": _now_in(ZONE, 5),
            "days": ["0", "6"],
            "start_time": "08:00",
            "end_time": "18:00",
        },
        (LockUser,),
        frozenset({"days"}),
    ),
    "enroll": Endpoint(
        lambda t: reverse("locks:lock-user-enroll", args=[t.objects[LockUser].pk]),
        lambda t: {"unlock_type": "fingerprint"},
        (UnlockMethod,),
    ),
    "unlock method rename": Endpoint(
        lambda t: reverse("locks:unlock-method-action", args=[t.objects[UnlockMethod].pk, "rename"]),
        lambda t: {"name": "Left thumb"},
        (UnlockMethod,),
    ),
    "unlock method assign": Endpoint(
        lambda t: reverse("locks:unlock-method-action", args=[t.objects[UnlockMethod].pk, "assign"]),
        lambda t: {"lock_user": t.objects[LockUser].pk},
        (UnlockMethod,),
    ),
    "alert acknowledge": Endpoint(
        lambda t: reverse("locks:alert-acknowledge", args=[t.objects[Alert].pk]),
        lambda t: {"note": "seen"},
        (Alert,),
    ),
    "remote unlock reject": Endpoint(
        lambda t: reverse("locks:remote-unlock-decide", args=[t.objects[RemoteUnlockRequest].pk, "reject"]),
        lambda t: {"reason": "no"},
        (RemoteUnlockRequest,),
    ),
    # The guest's form on a unit's arrival link (public: the staff session posting it changes nothing). Past five
    # wrong tries it answers 429, which is an answer too: the form is read before the try is counted.
    "arrival link digits": Endpoint(
        lambda t: reverse("guest:arrival", kwargs={"token": arrival_links.link_for(t.objects[Unit]).token}),
        lambda t: {"digits": "1234"},
        (GuestPass,),
    ),
    "org switch": Endpoint(lambda t: reverse("switch-organisation"), lambda t: {"organisation": t.org.pk}),
    "sign-in": Endpoint(lambda t: reverse("login"), lambda t: {"username": "nobody", "password": "wrong"}),
    "admin sign-in": Endpoint(lambda t: reverse("admin:login"), lambda t: {"username": "nobody", "password": "wrong"}),
}


@pytest.fixture
def tenant(db: None, django_user_model: Any, settings: Any, tmp_path: Path) -> Tenant:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.VAR_DIR = str(tmp_path)  # the code outbox of "send"
    t = build_tenant("Alpha", "alpha", "8617342", django_user_model)
    Guest.objects.filter(pk=t.objects[Guest].pk).update(email="alpha@example.com")
    return t


def counts(models_: tuple[type[models.Model], ...]) -> dict[str, int]:
    return {m.__name__: m._base_manager.count() for m in models_}


def succeeded(response: Any) -> bool:
    """The answer says it worked: a redirect with no error message (a form with errors is a page, 200 or 400)."""
    if response.status_code != 302:
        return False
    return not any(m.level >= ERROR for m in get_messages(response.wsgi_request))


@st.composite
def form_data(draw: st.DrawFn, valid: dict[str, Any], multi: frozenset[str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, good in valid.items():
        choice = draw(st.sampled_from(["valid", "nasty", "nasty", "missing"]))
        if choice == "missing":
            continue
        if name in multi:
            data[name] = good if choice == "valid" else draw(st.lists(NASTY_VALUE, max_size=3))
        else:
            data[name] = good if choice == "valid" else draw(NASTY_VALUE)
    if draw(st.booleans()):
        data[draw(st.sampled_from(["extra", "csrfmiddlewaretoken", "lock", "organisation"]))] = draw(NASTY_VALUE)
    return data


def posted_markup(data: dict[str, Any]) -> list[str]:
    values = [v for value in data.values() for v in (value if isinstance(value, list) else [value])]
    return [v for v in map(str, values) if "<script" in v.lower() or "<img" in v.lower()]


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_a_form_endpoint_survives_anything(tenant: Tenant, name: str) -> None:
    endpoint = ENDPOINTS[name]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(data=st.data(), htmx=st.booleans())
    def run(data: st.DataObject, htmx: bool) -> None:
        # A fresh client each time: no messages left over from the last example. A 500 is an answer to look at here.
        client = Client(raise_request_exception=False)
        client.force_login(tenant.staff)
        posted = data.draw(form_data(endpoint.valid(tenant), endpoint.multi), label="posted")
        before = counts(endpoint.counted)
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.post(endpoint.url(tenant), posted, headers=headers)
        assert response.status_code < 500, response.content[-3000:]
        body = response.content.decode(errors="replace")
        for markup in posted_markup(posted):
            assert markup not in body, f"{markup!r} reflected unescaped"
        after = counts(endpoint.counted)
        if not htmx and not succeeded(response):
            assert after == before, f"rows changed on a refusal ({response.status_code}): {before} -> {after}"

    run()


def test_every_dashboard_form_is_fuzzed() -> None:
    """A new form view without an entry here is a gap: name it in ENDPOINTS (or below, with why not)."""
    from tests.config.test_url_walk import ROUTES

    fuzzed = {"locks:" + n for n in ("issue-code", "code-edit", "code-action", "offline-password")}
    fuzzed |= {"locks:advanced-password", "setup:property-create", "setup:units-create", "locks:cloud-connect"}
    fuzzed |= {"locks:lock-attach", "locks:lock-user-add", "locks:lock-user-edit", "locks:lock-user-enroll"}
    fuzzed |= {"locks:unlock-method-action", "locks:alert-acknowledge", "locks:remote-unlock-decide"}
    fuzzed |= {"desk:today", "desk:stay-dates", "desk:stay-move", "desk:stay-send", "switch-organisation", "login"}
    fuzzed |= {"desk:stay-message-send"}
    # POSTs that read no form field (the id in the path is all; the URL walk covers them) or only a GET form:
    no_fields = {
        "locks:code-reveal", "locks:operation-reveal", "locks:lock-operation", "locks:cloud-import",
        "locks:lock-users-sync", "locks:lock-user-delete", "locks:offline-preview", "locks:lock-remote-open",
        "desk:stay-check-in", "desk:stay-check-out", "desk:stay-cancel", "desk:slip", "desk:code-reveal",
        "desk:code-resend", "desk:stay-message-preview", "logout",
    }  # fmt: skip
    ours = ("locks:", "desk:", "setup:")
    dashboard = {r.name for r in ROUTES if r.name.startswith(ours) or r.name in ("login", "logout")}
    dashboard |= {"switch-organisation"}
    gets = {r.name for r in ROUTES if getattr(r.callback, "__name__", "") in _GET_ONLY}
    assert dashboard - fuzzed - no_fields - gets == set()


_GET_ONLY = {
    "portfolio", "setup", "activity", "property_detail", "lock_detail", "code_row", "operation_row", "alert_list",
    "remote_unlock_panel", "remote_unlock_row", "lock_users_page", "unlock_method_row", "event_media",
    "cloud_account_row", "stays", "stay_detail", "stay_removal", "code_status", "rooms",
}  # fmt: skip


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_every_nasty_value_in_every_field_at_once(tenant: Tenant, name: str) -> None:
    """The pool's values for sure (Hypothesis only samples it): each one in all the endpoint's fields together."""
    endpoint = ENDPOINTS[name]
    for value in NASTY:
        client = Client(raise_request_exception=False)
        client.force_login(tenant.staff)
        posted = {k: [value] if k in endpoint.multi else value for k in endpoint.valid(tenant)}
        before = counts(endpoint.counted)
        response = client.post(endpoint.url(tenant), posted)
        assert response.status_code < 500, (value, response.content[-2000:])
        for markup in posted_markup(posted):
            assert markup not in response.content.decode(errors="replace")
        if not succeeded(response):
            assert counts(endpoint.counted) == before, value
