"""Issue #7, docs/reliability.md T3: every dashboard form endpoint, posted arbitrary values (text, unicode, huge, empty,
negative, SQL-ish, HTML-ish, NUL, look-alike digits) and missing fields by an owner: never a server error, no rows
unless the answer says it succeeded, and no posted markup reflected unescaped.

Without an OpenAPI schema there is no schemathesis; Hypothesis draws each field from the field's valid value or
from a pool of nasty ones, so the walk reaches past the first validation error too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
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
from bookings.models import BookingPolicy, CalendarFeed, GuestPass, MessageTemplate, StayMessage
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
from tenants.models import ApiKey, Guest, Organisation, Property, Stay, Unit, UserPreferences
from tests.bookings.feed_fixtures import SMALL, calendar_server
from tests.config.test_url_walk import ROUTES, add_feed_rows, add_message_template, add_webhook_rows
from tests.locks.test_admin import Tenant, build_tenant
from webhooks.models import WebhookEndpoint

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
class FuzzTenant(Tenant):
    calendar_url: str = ""  # a real calendar on 127.0.0.1, for the feed form's "Preview" (it reads the link)


@dataclass
class Endpoint:
    url: Callable[[FuzzTenant], str]
    valid: Callable[[FuzzTenant], dict[str, Any]]
    counted: tuple[type[models.Model], ...] = ()
    multi: frozenset[str] = field(default_factory=frozenset)  # fields posted as lists
    # An edit form's row as it is saved: a refused post must leave it exactly so (a count would not see a change).
    saved: Callable[[FuzzTenant], Any] | None = None
    # A form that answers its success with a page of its own (a secret shown once) rather than a redirect.
    done_page: str = ""


def _now_in(zone: str, days: float = 0) -> str:
    return local_input(timezone.now() + timedelta(days=days), zone)


def _lock(t: Tenant) -> Lock:
    return t.objects[Lock]  # type: ignore[return-value]


def _stay(t: Tenant) -> Stay:
    return Stay.objects.get(pk=t.objects[Stay].pk)


def _row(t: Tenant, model: type[models.Model], *fields: str) -> dict[str, Any]:
    values = model._base_manager.filter(pk=t.objects[model].pk).values(*fields)
    return dict(values.get())


def _policy(t: Tenant) -> dict[str, Any]:
    values = BookingPolicy.objects.filter(property=t.objects[Property]).values()
    return dict(values.first() or {})


def _feed(t: Tenant) -> dict[str, Any]:
    feed = CalendarFeed.objects.get(pk=t.objects[CalendarFeed].pk)  # the link is encrypted: compared as read
    return _row(t, CalendarFeed, "name", "every_minutes", "blocked", "enabled", "next_sync_at") | {"url": feed.url}


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
    "calendar feed add": Endpoint(
        lambda t: reverse("bookings:feed-add", args=[t.objects[Property].pk]),
        lambda t: {
            "unit": t.objects[Unit].pk,
            "url": "https://ical.example.com/export/new-flat.ics?s=secret",
            "name": "Vrbo",
            "every_minutes": "30",
            "blocked": "block",
        },
        (CalendarFeed, Stay),
    ),
    "calendar feed preview": Endpoint(
        lambda t: reverse("bookings:feed-add", args=[t.objects[Property].pk]),
        lambda t: {
            "preview": "1",
            "unit": t.objects[Unit].pk,
            "url": t.calendar_url,
            "name": "Airbnb",
            "every_minutes": "15",
            "blocked": "ignore",
        },
        (CalendarFeed, Stay),  # a preview reads the link and writes nothing, whatever it says
    ),
    "calendar feed edit": Endpoint(
        lambda t: reverse("bookings:feed-edit", args=[t.objects[CalendarFeed].pk]),
        lambda t: {"url": "", "name": "Airbnb 2", "every_minutes": "60", "blocked": "book", "enabled": "on"},
        (CalendarFeed,),
        saved=_feed,
    ),
    "arrivals and messages policy": Endpoint(
        lambda t: reverse("booking-policy:page", args=[t.objects[Property].pk]),
        lambda t: {
            "arrival_check_hours": "48, 3",
            "code_message_hours": "12",
            "checkout_reminder_hours": "3",
            "feed_alert_after_hours": "4",
        },
        (BookingPolicy,),
        saved=_policy,
    ),
    "message template add": Endpoint(
        lambda t: reverse("booking-policy:template-add", args=[t.objects[Property].pk]),
        lambda t: {
            "kind": "checkout",
            "language": "nl",
            "subject": "Tot ziens, {guest}",
            "body": "Uitchecken voor {check_out}.",
        },
        (MessageTemplate,),
    ),
    "message template edit": Endpoint(
        lambda t: reverse("booking-policy:template-edit", args=[t.objects[Property].pk, t.objects[MessageTemplate].pk]),
        lambda t: {"kind": "code", "language": "en", "subject": "Your door", "body": "Your code: {codes} {fallback}"},
        (MessageTemplate,),
        saved=lambda t: _row(t, MessageTemplate, "kind", "language", "subject", "body"),
    ),
    "webhook endpoint create": Endpoint(
        lambda t: reverse("webhooks:create"),
        lambda t: {
            "url": "https://hooks.example.com/doors",
            "description": "PMS",
            "all_types": "",
            "event_types": ["lock.alert", "stay.created"],
        },
        (WebhookEndpoint,),
        frozenset({"event_types"}),
        done_page="webhooks/secret.html",
    ),
    "webhook endpoint update": Endpoint(
        lambda t: reverse("webhooks:update", args=[t.objects[WebhookEndpoint].pk]),
        lambda t: {"url": "https://hooks.example.com/moved", "description": "moved", "all_types": "on"},
        (WebhookEndpoint,),
        saved=lambda t: (
            _row(t, WebhookEndpoint, "description", "event_types", "enabled")
            | {"url": WebhookEndpoint.objects.get(pk=t.objects[WebhookEndpoint].pk).url}
        ),
    ),
    "API key create": Endpoint(
        lambda t: reverse("api-key-create"),
        lambda t: {
            "name": "Opera PMS",
            "scopes": ["read", "stays"],
            "properties": [t.objects[Property].pk],
            "request_token": str(uuid.uuid4()),
        },
        (ApiKey,),
        frozenset({"scopes", "properties"}),
        done_page="api/keys.html",
    ),
    # The guest's form on a unit's arrival link (public: the staff session posting it changes nothing). Past five
    # wrong tries it answers 429, which is an answer too: the form is read before the try is counted.
    "arrival link digits": Endpoint(
        lambda t: reverse("guest:arrival", kwargs={"token": arrival_links.link_for(t.objects[Unit]).token}),
        lambda t: {"digits": "1234"},
        (GuestPass,),
    ),
    "idle timeouts": Endpoint(
        lambda t: reverse("setup:idle-timeouts"),
        lambda t: {"idle_minutes_front_desk": "10", "idle_minutes_manager": "45", "idle_minutes_viewer": "90"},
        saved=lambda t: Organisation.objects.filter(pk=t.org.pk).values().get(),
    ),
    # The staff user has no usable password: every post is refused (or, after five, locked out), never a 500.
    "confirm password": Endpoint(lambda t: reverse("reauth"), lambda t: {"password": "not-it", "next": "/desk/"}),
    "org switch": Endpoint(lambda t: reverse("switch-organisation"), lambda t: {"organisation": t.org.pk}),
    "language picker": Endpoint(
        lambda t: reverse("choose-language"),
        lambda t: {"language": "nl", "next": "/"},
        saved=lambda t: list(UserPreferences.objects.order_by("pk").values_list("user_id", "language")),
    ),
    "sign-in": Endpoint(lambda t: reverse("login"), lambda t: {"username": "nobody", "password": "wrong"}),
    "admin sign-in": Endpoint(lambda t: reverse("admin:login"), lambda t: {"username": "nobody", "password": "wrong"}),
}


@pytest.fixture
def tenant(db: None, django_user_model: Any, settings: Any, tmp_path: Path) -> Iterator[FuzzTenant]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.VAR_DIR = str(tmp_path)  # the code outbox of "send"
    # Links are checked by their form alone: the test machine resolves no names, and the preview's calendar is local.
    settings.FEED_ALLOW_PRIVATE_URLS = settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    t = build_tenant("Alpha", "alpha", "8617342", django_user_model)
    Guest.objects.filter(pk=t.objects[Guest].pk).update(email="alpha@example.com")
    add_webhook_rows(t)
    add_message_template(t)
    add_feed_rows(t)
    with calendar_server() as server:
        server.bodies["/flat.ics"] = SMALL
        yield FuzzTenant(**vars(t), calendar_url=server.url("/flat.ics"))


def counts(models_: tuple[type[models.Model], ...]) -> dict[str, int]:
    return {m.__name__: m._base_manager.count() for m in models_}


def succeeded(response: Any, done_page: str = "") -> bool:
    """The answer says it worked: a redirect with no error message (a form with errors is a page, 200 or 400), or
    the endpoint's own page of success (a 200; its refusals are 400s)."""
    if done_page and response.status_code == 200:
        return done_page in {template.name for template in response.templates}
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
def test_a_form_endpoint_survives_anything(tenant: FuzzTenant, name: str) -> None:
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
        saved_before = endpoint.saved(tenant) if endpoint.saved is not None else None
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.post(endpoint.url(tenant), posted, headers=headers)
        assert response.status_code < 500, response.content[-3000:]
        body = response.content.decode(errors="replace")
        for markup in posted_markup(posted):
            assert markup not in body, f"{markup!r} reflected unescaped"
        after = counts(endpoint.counted)
        if not htmx and not succeeded(response, endpoint.done_page):
            assert after == before, f"rows changed on a refusal ({response.status_code}): {before} -> {after}"
            if endpoint.saved is not None:
                assert endpoint.saved(tenant) == saved_before, "the row was changed by a refused post"

    run()


# Every namespace (and un-namespaced name) whose pages a signed-in member posts forms on. A new app with dashboard
# forms adds its namespace here, and then an entry in ENDPOINTS for each form.
DASHBOARD_NAMESPACES = ("locks:", "desk:", "setup:", "bookings:", "booking-policy:", "guest:", "webhooks:")
DASHBOARD_NAMES = {
    "login", "logout", "reauth", "switch-organisation", "choose-language", "api-keys", "api-key-create",
    "api-key-revoke",
}  # fmt: skip
# The guest's own pages (by token, no sign-in; no form field: the token in the path is all) and the calendar export.
PUBLIC = {"guest:stay", "guest:door", "guest:unit-calendar"}


def test_every_dashboard_form_is_fuzzed() -> None:
    """A new form view without an entry here is a gap: name it in ENDPOINTS (or below, with why not)."""
    fuzzed = {"locks:" + n for n in ("issue-code", "code-edit", "code-action", "offline-password")}
    fuzzed |= {"locks:advanced-password", "setup:property-create", "setup:units-create", "locks:cloud-connect"}
    fuzzed |= {"locks:lock-attach", "locks:lock-user-add", "locks:lock-user-edit", "locks:lock-user-enroll"}
    fuzzed |= {"locks:unlock-method-action", "locks:alert-acknowledge", "locks:remote-unlock-decide"}
    fuzzed |= {"desk:today", "desk:stay-dates", "desk:stay-move", "desk:stay-send", "switch-organisation", "login"}
    fuzzed |= {"desk:stay-message-send", "choose-language"}
    fuzzed |= {"bookings:feed-add", "bookings:feed-edit", "booking-policy:page", "booking-policy:template-add"}
    fuzzed |= {"booking-policy:template-edit", "webhooks:create", "webhooks:update", "api-key-create"}
    fuzzed |= {"guest:arrival", "setup:idle-timeouts", "reauth"}
    # POSTs that read no form field, or only a "confirmed: yes" (the id in the path is all; the URL walk covers
    # them), or only a GET form:
    no_fields = {
        "locks:code-reveal", "locks:operation-reveal", "locks:lock-operation", "locks:cloud-import",
        "locks:lock-users-sync", "locks:lock-user-delete", "locks:offline-preview", "locks:lock-remote-open",
        "desk:stay-check-in", "desk:stay-check-out", "desk:stay-cancel", "desk:slip", "desk:code-reveal",
        "desk:code-resend", "desk:stay-message-preview", "logout",
        "bookings:feed-sync", "bookings:feed-remove", "booking-policy:template-delete",
        "guest:link-show", "guest:link-new", "guest:link-revoke", "guest:calendar-export-show",
        "guest:calendar-export-new", "bookings:arrival-link-show", "bookings:arrival-link-new",
        "bookings:arrival-link-revoke",
        "webhooks:enable", "webhooks:disable", "webhooks:rotate", "webhooks:delete", "webhooks:send-again",
        "api-key-revoke",
    }  # fmt: skip
    dashboard = {r.name for r in ROUTES if r.name.startswith(DASHBOARD_NAMESPACES) or r.name in DASHBOARD_NAMES}
    assert fuzzed | no_fields | PUBLIC | DASHBOARD_NAMES <= dashboard, "a name above is no route: keep the lists true"
    gets = {r.name for r in ROUTES if getattr(r.callback, "__name__", "") in _GET_ONLY}
    assert dashboard - fuzzed - no_fields - gets - PUBLIC == set()


_GET_ONLY = {
    "portfolio", "setup", "activity", "property_detail", "lock_detail", "code_row", "operation_row", "alert_list",
    "remote_unlock_panel", "remote_unlock_row", "lock_users_page", "unlock_method_row", "event_media",
    "cloud_account_row", "stays", "stay_detail", "stay_removal", "code_status", "rooms",
    "feed_list", "calendar_exports", "endpoints", "endpoint", "api_keys",
}  # fmt: skip


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_every_nasty_value_in_every_field_at_once(tenant: FuzzTenant, name: str) -> None:
    """The pool's values for sure (Hypothesis only samples it): each one in all the endpoint's fields together."""
    endpoint = ENDPOINTS[name]
    for value in NASTY:
        client = Client(raise_request_exception=False)
        client.force_login(tenant.staff)
        posted = {k: [value] if k in endpoint.multi else value for k in endpoint.valid(tenant)}
        before = counts(endpoint.counted)
        saved_before = endpoint.saved(tenant) if endpoint.saved is not None else None
        response = client.post(endpoint.url(tenant), posted)
        assert response.status_code < 500, (value, response.content[-2000:])
        for markup in posted_markup(posted):
            assert markup not in response.content.decode(errors="replace")
        if not succeeded(response, endpoint.done_page):
            assert counts(endpoint.counted) == before, value
            if endpoint.saved is not None:
                assert endpoint.saved(tenant) == saved_before, value
