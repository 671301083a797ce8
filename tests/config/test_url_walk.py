"""Issue #7, docs/reliability.md S2: every URL of the project, walked as a member of organisation A with the ids of
organisation B's rows in its path, by GET and by POST (with and without a CSRF token), answers "not found" or
"not allowed" and changes nothing of B's. Anonymous visitors are sent to a sign-in page everywhere but the public
pages. A new URL whose path parameter has no mapping here fails the walk, so the walk stays complete.

Issue #11 B.4: the same walk within one organisation, as a front desk limited to property A, with the ids of
property B's rows and of a lock on no door (and what hangs off it): refused too, and shown on no page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from audit.models import AuditEvent
from bookings.models import CalendarFeed, FeedEvent, MessageTemplate
from locks.models import (
    AccessCode,
    Alert,
    CloudAccount,
    EventMedia,
    Lock,
    LockEvent,
    LockOperation,
    LockUser,
    RemoteUnlockRequest,
    UnlockMethod,
)
from tenants.models import ApiKey, Membership, Property, Role, Stay, Unit
from tests.conftest import private_media_in
from tests.locks.test_admin import Tenant, build_rows, build_tenant
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage

pytestmark = pytest.mark.django_db

# The simulator mounted at /tuya-sim/ plays "the cloud": it is no part of the dashboard, checks Tuya's own signed
# requests (its own auth, tests/simulator/) and has no rows of ours, so the walk leaves it out.
SKIPPED_PREFIXES = ("tuya-sim/",)

# Each path parameter naming one of our rows: B's row of that model goes in.
ROW_KWARGS: dict[str, type[models.Model]] = {
    "lock_id": Lock,
    "code_id": AccessCode,
    "stay_id": Stay,
    "account_id": CloudAccount,
    "operation_id": LockOperation,
    "media_id": EventMedia,
    "alert_id": Alert,
    "request_id": RemoteUnlockRequest,
    "lock_user_id": LockUser,
    "method_id": UnlockMethod,
    "property_id": Property,
    "unit_id": Unit,
    "key_id": ApiKey,
    "event_id": LockEvent,
    "endpoint_id": WebhookEndpoint,
    "delivery_id": WebhookDelivery,
    "template_id": MessageTemplate,
    "feed_id": CalendarFeed,
    "membership_id": Membership,  # the owners' Security page: resetting a member's second factors
}
# Parameters that name no row of ours: every value the view knows (and one it does not), so each branch is walked.
CHOICE_KWARGS: dict[str, list[str]] = {
    "action": [
        "freeze",
        "unfreeze",
        "delete",
        "resend",  # codes
        "approve",
        "reject",  # remote unlock
        "cancel",
        "rename",
        "duress-on",
        "duress-off",
        "assign",  # unlock methods
        "nonsense",
    ],  # fmt: skip
    "kind": ["dynamic", "clear-all", "sync", "nonsense"],
    "variant": ["original", "thumb", "thumbnail"],  # the dashboard's and the API's names
    # django-rq's dashboard (superusers only): queues, jobs and schedulers are not rows of any organisation.
    "queue_index": ["0"],
    "scheduler_index": ["0"],
    "connection_index": ["0"],
    "job_id": ["some-job"],
    "result_id": ["1"],
    "key": ["some-worker"],
    "scheduler_name": ["some-scheduler"],
    "cron_job_name": ["some-cron"],
    "token": ["sometoken"],  # also the guest page's, arrival link's and calendar export's (bookings/guest_urls.py)
    # the admin's app index and catch-all
    "app_label": ["tenants", "audit", "locks", "auth"],
    "url": ["nowhere/"],
    # django-otp's TOTP device admin pages (config, QR code): superusers only, and none of B's rows is a device here
    "pk": ["987654"],
}
# The admin's object_id and auth's user id take B's row of the page's own model (see `values_for`); view_on_site
# takes B's row of every model with its content type.
ADMIN_KWARGS = {"object_id", "id", "content_type_id"}

PUBLIC = {
    "healthz",
    "login",
    "logout",
    "admin:login",
    "admin:logout",
    "django_rq:home_json",
    "admin:django_rq_home_json",
    "api-v1:openapi-json",  # the API's document and its docs page: no data, for integrators before they have a key
    "api-v1:openapi-view",
    "otp_webauthn:js-i18n-catalog",  # the passkey script's translations (text only), loaded by the sign-in pages
}
ALLOWED_STATUSES = {403, 404, 405}
API_PREFIX = "/api/v1/"
NO_ROW = "987654"


@dataclass(frozen=True)
class Route:
    pattern: str
    name: str
    kwargs: tuple[str, ...]
    callback: Any


def routes() -> list[Route]:
    found: list[Route] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for entry in resolver.url_patterns:
            pattern = prefix + str(entry.pattern)
            if pattern.startswith(SKIPPED_PREFIXES):
                continue
            if isinstance(entry, URLResolver):
                inner = ":".join(n for n in (namespace, entry.namespace or "") if n)
                walk(entry, pattern, inner)
            else:
                assert isinstance(entry, URLPattern)
                kwargs = tuple(entry.pattern.regex.groupindex)
                name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or pattern)
                found.append(Route(pattern, name, kwargs, entry.callback))

    walk(get_resolver(), "", "")
    return found


ROUTES = routes()


def admin_model(route: Route) -> type[models.Model] | None:
    model_admin = getattr(route.callback, "model_admin", None)
    return model_admin.model if model_admin is not None else None


def test_every_path_parameter_has_a_mapping() -> None:
    """A new URL with a parameter nobody mapped fails here: add it to ROW_KWARGS or CHOICE_KWARGS."""
    known = set(ROW_KWARGS) | set(CHOICE_KWARGS) | ADMIN_KWARGS
    unmapped = {(r.pattern, k) for r in ROUTES for k in r.kwargs if k not in known}
    assert not unmapped
    for route in ROUTES:
        if "object_id" in route.kwargs and "content_type_id" not in route.kwargs:
            assert admin_model(route) is not None, f"{route.pattern}: whose object_id is it?"
    assert len(ROUTES) > 200  # the admin's pages are in the walk, not just the dashboard's


def test_the_walk_covers_the_dashboard_desk_admin_jobs_and_media() -> None:
    names = {r.name for r in ROUTES}
    assert {"locks:lock", "desk:stay", "locks:event-media", "healthz", "django_rq:jobs", "webhooks:send-again"} <= names
    assert {"admin:locks_accesscode_change", "admin:view_on_site", "admin:auth_user_password_change"} <= names
    assert not any(r.pattern.startswith("tuya-sim/") for r in ROUTES)


@pytest.fixture
def tenants(db: None, django_user_model: Any, settings: Any, tmp_path: Path) -> tuple[Tenant, Tenant]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    private_media_in(settings, tmp_path / "private")
    a = build_tenant("Alpha", "alpha", "8617342", django_user_model)
    b = build_tenant("Bravo Zulu", "bravo", "9264815", django_user_model)
    for tenant in (a, b):
        add_webhook_rows(tenant)
        add_message_template(tenant)
        add_feed_rows(tenant)
    # B's photo is really on disk, so a view that skipped the scoping would serve it instead of "not available".
    photo = b.objects[EventMedia]
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0 Bravo photo")
    EventMedia.objects.filter(pk=photo.pk).update(status=EventMedia.Status.DONE, original="b.jpg", thumbnail="b.jpg")
    b.objects[Group] = Group.objects.create(name="Bravo Zulu group")
    return a, b


def add_message_template(tenant: Tenant) -> None:
    """A guest message template of the tenant's property (bookings): the row behind the template pages' ids."""
    prop = tenant.objects[Property]
    body = f"{tenant.org.name}: {{codes}}"
    tenant.objects[MessageTemplate] = MessageTemplate.objects.create(
        property=prop, kind="code", language="en", subject=f"{tenant.org.name} code", body=body
    )


def add_webhook_rows(tenant: Tenant) -> None:
    """An endpoint (described with the organisation's name, so a page showing it gives it away), a message and its
    delivery: the rows behind the Webhooks pages' ids."""
    org = tenant.org
    endpoint = WebhookEndpoint.objects.create(
        organisation=org,
        url=f"https://hooks.{org.slug}.example/doors",
        description=f"{org.name} receiver",
        event_types=["lock.alert"],
        secret="whsec_" + "QUJD" * 11,
    )
    message = WebhookMessage.objects.create(organisation=org, event_type="lock.alert", body="{}")
    delivery = WebhookDelivery.objects.create(
        organisation=org, message=message, endpoint=endpoint, next_attempt_at=endpoint.created_at
    )
    tenant.objects.update({WebhookEndpoint: endpoint, WebhookMessage: message, WebhookDelivery: delivery})


def add_feed_rows(tenant: Tenant) -> None:
    """A calendar feed of the tenant's unit (named after its property; its link's secret is the tenant's PIN, so a
    page showing the link gives it away) and an event that booked its stay: the rows behind the feeds pages' ids."""
    unit, stay = tenant.objects[Unit], tenant.objects[Stay]
    feed = CalendarFeed.objects.create(
        organisation=tenant.org, unit=unit, name=f"{unit.property.name} Airbnb",
        url=f"https://ical.example.com/export/{tenant.pin}.ics",
    )  # fmt: skip
    event = FeedEvent.objects.create(
        feed=feed, uid=f"uid-{tenant.pin}", summary=f"{unit.property.name} guest", starts_at=stay.check_in,
        ends_at=stay.check_out, stay=stay, state=FeedEvent.State.BOOKED, last_seen_at=stay.check_in,
    )  # fmt: skip
    tenant.objects.update({CalendarFeed: feed, FeedEvent: event})


def values_for(route: Route, b: Tenant) -> Iterator[dict[str, str]]:
    """Every filling of the route's parameters with B's rows (and each known value of its choice parameters)."""
    fillings: list[dict[str, str]] = [{}]
    for kwarg in route.kwargs:
        if kwarg in ROW_KWARGS:
            row = b.objects.get(ROW_KWARGS[kwarg])  # none within one organisation for its org-wide rows
            options = [str(row.pk) if row is not None else NO_ROW]
        elif kwarg in CHOICE_KWARGS:
            options = CHOICE_KWARGS[kwarg]
        elif kwarg in ("object_id", "id") and "content_type_id" not in route.kwargs:
            model = admin_model(route) or apps.get_model("auth", "User")
            row = b.staff if model is apps.get_model("auth", "User") else b.objects.get(model)
            options = [str(row.pk) if row is not None else NO_ROW]  # axes' rows and the like: none of B's
        elif kwarg in ("content_type_id", "object_id"):
            continue  # view_on_site: both filled together below
        else:  # pragma: no cover - test_every_path_parameter_has_a_mapping fails first
            raise AssertionError(kwarg)
        fillings = [{**f, kwarg: o} for f in fillings for o in options]
    if "content_type_id" in route.kwargs:
        fillings = [
            {"content_type_id": str(ContentType.objects.get_for_model(m).pk), "object_id": str(row.pk)}
            for m, row in b.objects.items()
        ]
    yield from fillings


def url_of(route: Route, filling: dict[str, str]) -> str:
    """The path with each parameter replaced, for regex and path() patterns alike (reverse() needs a name)."""
    path = route.pattern
    for kwarg, value in filling.items():
        path = re.sub(r"\(\?P<" + kwarg + r">(?:[^()]|\([^()]*\))*\)\??", value, path)
        path = re.sub(r"<(?:\w+:)?" + kwarg + r">", value, path)
    path = path.replace("^", "").replace("$", "").replace("/?", "/")
    assert not re.search(r"[<(]", path), (route.pattern, path)
    return "/" + path


# The signed-in person's own rows, which their views write for them whatever the walk posts (their language, their
# second-factor state): nobody else's, and no organisation's.
OWN_ROWS = ("tenants.UserPreferences", "signin.SecondFactorState")


def snapshot() -> dict[str, dict[Any, dict[str, Any]]]:
    """Every row of our apps and auth, field by field (audit rows apart: they are checked on their own)."""
    tables: dict[str, dict[Any, dict[str, Any]]] = {}
    for label in ("tenants", "audit", "locks", "auth", "webhooks", "bookings", "signin"):
        for model in apps.get_app_config(label).get_models():
            if model is AuditEvent or model._meta.label in OWN_ROWS:
                continue
            rows = model._base_manager.values("pk", *_fields(model))
            tables[model._meta.label] = {row["pk"]: row for row in rows}
    return tables


def _fields(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if f.attname not in ("last_login",)]


def b_strings(b: Tenant) -> list[str]:
    """What would give B's data away on a page: its names, PIN and secrets."""
    return ["Bravo", b.pin, b.local_key, "fk-bravo-secret", "9264815"]


def walk_as(client_for: Callable[[], Client], b: Tenant, strings: list[str] | None = None) -> list[str]:
    """GET and POST every route with B's ids; returns what went wrong (empty: all refused, nothing shown)."""
    strings = strings if strings is not None else b_strings(b)
    problems: list[str] = []
    for route in ROUTES:
        for filling in values_for(route, b):
            url = url_of(route, filling)
            for method in ("get", "post"):
                if route.name == "logout" and method == "post":
                    continue  # signs A out: harmless, and the next request signs in again anyway
                client = client_for()
                response = getattr(client, method)(url)
                status = response.status_code
                body = response.content.decode(errors="replace") if not response.streaming else ""
                if status >= 500 and not (route.name == "healthz" and status == 503):  # 503: no workers here
                    problems.append(f"{method.upper()} {url}: {status}")
                elif any(s in body for s in strings):
                    problems.append(f"{method.upper()} {url}: {status} shows B's data")
                elif must_refuse(route) and not refused(response, url):
                    problems.append(f"{method.upper()} {url}: {status} {response.get('Location', '')}")
    return problems


def must_refuse(route: Route) -> bool:
    """A route with a row (or a job) in its path; the admin's app index and catch-all name none of B's."""
    return any(k not in ("app_label", "url") for k in route.kwargs)


def refused(response: Any, url: str) -> bool:
    if response.status_code in ALLOWED_STATUSES or _to_sign_in(response):
        return True
    if url.startswith("/u/") and response.status_code == 400:
        # A unit's arrival link (public) reads its form before its token: no digits are a 400 whatever the token,
        # so that an unknown link answers as a known one does (bookings/guest_views.py).
        return True
    if url.startswith(API_PREFIX):
        # The API takes an API key only, never the session: signed in or not, no key is a 401 (and, no cookie
        # being read, a missing CSRF token changes nothing). tests/api/test_api_walk.py walks it with a key.
        return response.status_code == 401
    # The admin's old-style object URL only redirects to the change page, which the walk refuses separately.
    # And Django's own "no such object" for rows outside our apps (django-axes'): back to the admin's index.
    return response.status_code == 302 and response["Location"] in (url + "change/", "/admin/")


def _to_sign_in(response: Any) -> bool:
    location = response.get("Location", "") if response.status_code == 302 else ""
    return location.startswith(("/accounts/login/", "/admin/login/"))


def check_b_untouched(before: dict[str, Any], b: Tenant, a: Tenant, *more: Tenant) -> None:
    after = snapshot()
    changed = []
    for table, rows in before.items():
        for pk, row in after[table].items():
            if rows.get(pk) != row:
                changed.append(f"{table} {pk}: {rows.get(pk)} -> {row}")
        changed += [f"{table} {pk}: deleted" for pk in rows.keys() - after[table].keys()]
    assert not changed, "\n".join(changed)
    written = AuditEvent.objects.exclude(pk__in=[t.objects[AuditEvent].pk for t in (a, b, *more)])
    for event in written.filter(organisation=b.org):
        assert event.action.startswith("access."), (event.action, event.summary)


@pytest.mark.slow
@pytest.mark.parametrize("role", [Role.OWNER, Role.FRONT_DESK])
def test_a_member_of_a_gets_nothing_of_b_anywhere(
    tenants: tuple[Tenant, Tenant], django_user_model: Any, role: str
) -> None:
    a, b = tenants
    if role == Role.OWNER:
        user = a.staff  # an owner who is also staff with every permission of our apps: the admin is walked too
    else:
        user = django_user_model.objects.create_user("desk-alpha")
        Membership.objects.create(user=user, organisation=a.org, role=Role.FRONT_DESK)
    before = snapshot()

    def signed_in() -> Client:
        client = Client()
        client.force_login(user)
        return client

    problems = walk_as(signed_in, b)
    assert not problems, "\n".join(problems)
    check_b_untouched(before, b, a)


@pytest.mark.slow
def test_posts_without_a_csrf_token_are_refused_everywhere(tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    client = Client(enforce_csrf_checks=True)
    client.force_login(a.staff)
    before = snapshot()
    problems = []
    for route in ROUTES:
        for filling in values_for(route, b):
            url = url_of(route, filling)
            status = client.post(url).status_code
            if status != 403 and not (url.startswith(API_PREFIX) and status in (401, 404, 405)):
                problems.append(f"POST {url}: {status}")
    assert not problems, "\n".join(problems)
    check_b_untouched(before, b, a)
    assert AuditEvent.objects.filter(action="access.refused").count() >= len(ROUTES)


@pytest.mark.slow
def test_anonymous_visitors_are_sent_to_sign_in_everywhere_but_the_public_pages(
    tenants: tuple[Tenant, Tenant],
) -> None:
    a, b = tenants
    before = snapshot()
    problems = []
    for route in ROUTES:
        if route.name in PUBLIC:
            continue
        for filling in values_for(route, b):
            url = url_of(route, filling)
            for method in ("get", "post"):
                response = getattr(Client(), method)(url)
                body = response.content.decode(errors="replace") if not response.streaming else ""
                if response.status_code >= 500 or any(s in body for s in b_strings(b)):
                    problems.append(f"{method.upper()} {url}: {response.status_code}")
                elif not refused(response, url):
                    problems.append(f"{method.upper()} {url}: {response.status_code} {response.get('Location')}")
    assert not problems, "\n".join(problems)
    check_b_untouched(before, b, a)


# --- within one organisation: a front desk limited to some properties (issue #11 B.4) -------------------------


@pytest.fixture
def one_organisation(
    db: None, django_user_model: Any, settings: Any, tmp_path: Path
) -> tuple[Tenant, Tenant, Tenant, Any]:
    """Organisation Alpha with property A, property B ("Bravo Zulu") and a lock on no door ("Loose Yankee"), each with
    a row of every model below the organisation, and a front desk limited to A: staff with every permission of our
    apps, so the admin is walked too. The organisation's own rows (itself, memberships, cloud accounts, users) are
    the desk's to see: their ids are left out (NO_ROW)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    private_media_in(settings, tmp_path / "private")
    a = build_tenant("Alpha", "alpha", "8617342", django_user_model)
    account = a.objects[CloudAccount]
    b_rows = build_rows(a.org, account, a.staff, "Bravo Zulu", "bravo", "9264815")
    b = Tenant(org=a.org, staff=None, objects=b_rows, pin="9264815", local_key="lk-bravo-7f3a9c")
    loose_rows = build_rows(a.org, account, a.staff, "Loose Yankee", "loose", "5172936", on_a_door=False)
    # A lock on no door has no property, unit or stay: those parameters take B's.
    loose = Tenant(org=a.org, staff=None, objects={**b_rows, **loose_rows}, pin="5172936", local_key="lk-loose-7f3a9c")
    (tmp_path / "private").mkdir()
    for tenant, name in ((b, "b.jpg"), (loose, "loose.jpg")):
        (tmp_path / "private" / name).write_bytes(b"\xff\xd8\xff\xe0 photo of " + name.encode())
        EventMedia.objects.filter(pk=tenant.objects[EventMedia].pk).update(
            status=EventMedia.Status.DONE, original=name, thumbnail=name
        )
    add_feed_rows(b)
    desk = django_user_model.objects.create_user("desk-alpha", is_staff=True)
    desk.user_permissions.set(a.staff.user_permissions.all())
    membership = Membership.objects.create(user=desk, organisation=a.org, role=Role.FRONT_DESK)
    membership.limit_to([a.objects[Property]])
    return a, b, loose, desk


def loose_strings(loose: Tenant) -> list[str]:
    return ["Loose Yankee", loose.pin, loose.local_key, "fk-loose-secret"]


@pytest.mark.slow
@pytest.mark.parametrize("other", ["another property", "a lock on no door"])
def test_a_desk_limited_to_one_property_gets_nothing_of_another_or_of_a_lock_on_no_door(
    one_organisation: tuple[Tenant, Tenant, Tenant, Any], other: str
) -> None:
    a, b, loose, desk = one_organisation
    target, strings = (b, b_strings(b)) if other == "another property" else (loose, loose_strings(loose))
    before = snapshot()

    def signed_in() -> Client:
        client = Client()
        client.force_login(desk)
        return client

    problems = walk_as(signed_in, target, strings)
    assert not problems, "\n".join(problems)
    check_b_untouched(before, b, a, loose)


def test_the_limited_desk_still_reaches_its_own_property(one_organisation: tuple[Tenant, Tenant, Tenant, Any]) -> None:
    """The walk above would pass for a desk refused everything: its own property's pages answer and show it."""
    a, _b, _loose, desk = one_organisation
    client = Client()
    client.force_login(desk)
    lock, code = a.objects[Lock], a.objects[AccessCode]
    pages = [f"/locks/{lock.pk}/", f"/properties/{a.objects[Property].pk}/", f"/locks/{lock.pk}/users/", "/activity/"]
    pages += [f"/activity/?property={a.objects[Property].pk}", "/alerts/", "/remote-unlock/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Alpha Front door" in response.content.decode(), url
    assert "Alpha House" in client.get("/portfolio/").content.decode()
    assert client.post(f"/codes/{code.pk}/reveal/").status_code == 200


@pytest.mark.slow
def test_a_lock_on_no_door_shows_on_every_page_without_an_error(
    one_organisation: tuple[Tenant, Tenant, Tenant, Any], settings: Any
) -> None:
    """Issue #11 C.10: a lock imported but on no door yet (with events, alerts, codes, users, remote-unlock
    requests) has no property and so no property time zone: every page that can show it answers, as its owner sees
    it (the admin too), and its times are in the server's zone, named. The periodic jobs pass over it too."""
    from rq.utils import import_attribute

    from locks.periodic import PERIODIC

    a, _b, loose, _desk = one_organisation
    client = Client()
    client.force_login(a.staff)  # the owner, staff with every permission of our apps
    problems = []
    for route in ROUTES:
        for filling in values_for(route, loose):
            url = url_of(route, filling)
            status = client.get(url).status_code
            if status >= 500 and not (route.name == "healthz" and status == 503):
                problems.append(f"GET {url}: {status}")
    assert not problems, "\n".join(problems)
    lock = loose.objects[Lock]
    for url in ("/activity/", f"/activity/?lock={lock.pk}", "/alerts/", "/remote-unlock/", "/portfolio/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Loose Yankee Front door" in response.content.decode(), url
    assert settings.TIME_ZONE in client.get(f"/activity/?lock={lock.pk}").content.decode()
    for periodic in PERIODIC:
        import_attribute(periodic.job)()


def test_the_services_refuse_a_limited_desk_a_lock_on_no_door(
    one_organisation: tuple[Tenant, Tenant, Tenant, Any],
) -> None:
    """The rule below the views: PINs and lock secrets of another property's lock, or of a lock on no door, are not
    the limited desk's (they were, for a lock on no door: `may_see_pins` let it through)."""
    from django.core.exceptions import PermissionDenied

    from locks import pins

    a, b, loose, desk = one_organisation
    assert pins.may_see_pins(desk, a.objects[Lock])
    for other in (b, loose):
        assert not pins.may_see_pins(desk, other.objects[Lock])
        with pytest.raises(PermissionDenied):
            pins.reveal_pin(other.objects[AccessCode], actor=desk)
        with pytest.raises(PermissionDenied):
            pins.reveal_operation_secret(other.objects[LockOperation], actor=desk)
    assert pins.may_see_pins(a.staff, loose.objects[Lock])  # the owner manages every lock, on a door or not


def test_a_desk_whose_properties_are_all_deleted_sees_nothing(
    one_organisation: tuple[Tenant, Tenant, Tenant, Any],
) -> None:
    """The limit is the membership's flag, not its set of properties: deleting a property deletes the link rows, and
    a desk limited to it alone then has an empty set. That must mean no property, not every one (and every PIN)."""
    from django.core.exceptions import PermissionDenied

    from locks import pins

    a, b, loose, desk = one_organisation
    closed = Property.objects.create(organisation=a.org, name="Closed Wing")
    membership = Membership.objects.get(user=desk)
    membership.limit_to([closed])
    closed.delete()
    client = Client()
    client.force_login(desk)
    portfolio = client.get("/portfolio/").content.decode()
    for tenant in (a, b, loose):
        lock, code = tenant.objects[Lock], tenant.objects[AccessCode]
        assert lock.name not in portfolio
        assert client.get(f"/locks/{lock.pk}/").status_code == 404
        assert client.post(f"/codes/{code.pk}/reveal/").status_code in (403, 404)
        assert not pins.may_see_pins(desk, lock)
        with pytest.raises(PermissionDenied):
            pins.reveal_pin(code, actor=desk)
    assert "Alpha House" not in portfolio
    assert "Bravo Zulu" not in portfolio
    assert not Property.objects.for_user(desk).exists()
    assert not Lock.objects.for_user(desk).exists()
    assert not AccessCode.objects.for_user(desk).exists()


# --- the HTML pages each role reaches (the accessibility and language checks walk them) ------------------------


def tenant_with_every_page(django_user_model: Any, settings: Any, tmp_path: Path) -> Tenant:
    """An organisation with a row behind every page (webhooks, a message template, calendar feeds too), its photos
    in the test's folder."""
    private_media_in(settings, tmp_path / "private")
    tenant = build_tenant("Alpha", "alpha", "8617342", django_user_model)
    add_webhook_rows(tenant)
    add_message_template(tenant)
    add_feed_rows(tenant)
    return tenant


NOT_OUR_PAGES = ("/admin/", "/django-rq/", "/api/", "/tuya-sim/", "/media/", "/calendar/", "/healthz")


def reachable(user: Any, tenant: Tenant, language: str = "") -> tuple[list[str], dict[str, str]]:
    """What a GET with the user's own rows answers 200 in HTML (in `language` when given, as a browser asks for
    it): whole pages (their URLs) and the fragments htmx swaps into them (URL: HTML). Django's admin, the job
    dashboard, the API, the simulator, photos and calendar exports are left out: not pages of ours, or not HTML."""
    client = Client(headers={"accept-language": language} if language else None)
    client.force_login(user)
    pages: list[str] = []
    fragments: dict[str, str] = {}
    for route in ROUTES:
        if _left_out(route):
            continue
        for filling in values_for(route, tenant):
            url = url_of(route, filling)
            if url.startswith(NOT_OUR_PAGES) or url in pages or url in fragments:
                continue
            response = client.get(url)
            if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
                continue
            html = response.content.decode()
            if not html.strip():
                continue  # a fragment with nothing to say yet (a stay's code removal while the stay is open)
            if "<html" in html[:200].lower():
                pages.append(url)
            else:
                fragments[url] = html
    return pages, fragments


def _left_out(route: Route) -> bool:
    return route.name in ("logout", "admin:logout") or route.name.startswith(("admin:", "django_rq:"))
