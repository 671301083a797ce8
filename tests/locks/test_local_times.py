"""Times in the property's zone everywhere (#11 D.17): the remote-unlock panel, the alerts, the lock page's remote open
and every staff admin list and detail, with a property in Europe/Amsterdam while the server's zone is another one.
A row of no property (a lock on no door, a guest, an audit entry) is shown in the server's zone, named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from locks.models import AccessCode, Alert, Lock, RemoteUnlockRequest
from tenants.models import ApiKey, Guest, Membership, Organisation, Property, Role, Stay, Unit
from tests.locks.test_admin import APP_MODELS, Tenant, admin_url, build_tenant

pytestmark = pytest.mark.django_db
ZONE = "Europe/Amsterdam"
WHEN = datetime(2026, 1, 15, 11, 7, tzinfo=UTC)  # 12:07 CET in Amsterdam
LOCAL, SERVER = "12:07", "11:07"
ENDS = {"check_out", "ends_at", "valid_until"}  # a day later, at the same hour: rows must end after they start
# Rows whose times belong to a property (through their unit, lock, event or code); the rest are the server's.
SERVER_ZONED = {Organisation, Membership, Guest, AuditEvent, ApiKey}  # rows of the organisation, not of a property
SERVER_ZONED |= {m for m in APP_MODELS if m.__name__ == "CloudAccount"}


@pytest.fixture
def tenant(django_user_model: Any) -> Tenant:
    assert settings.TIME_ZONE != ZONE, "the test needs a server zone other than the property's"
    tenant = build_tenant("Alpha", "alpha", "8617342", django_user_model)
    Property.objects.filter(organisation=tenant.org).update(time_zone=ZONE)
    for model in APP_MODELS:
        if model is AuditEvent:
            continue  # append-only; its times are the server's anyway
        times = [f.name for f in model._meta.fields if isinstance(f, models.DateTimeField)]
        if times:
            values = {name: WHEN + timedelta(days=1) if name in ENDS else WHEN for name in times}
            model._default_manager.filter(pk=tenant.objects[model].pk).update(**values)
    return tenant


@pytest.mark.parametrize("model", [m for m in APP_MODELS if m not in SERVER_ZONED], ids=lambda m: m.__name__)
def test_every_admin_list_and_detail_shows_a_propertys_times_in_its_zone(client: Any, tenant: Tenant, model) -> None:
    if not any(isinstance(f, models.DateTimeField) for f in model._meta.fields):
        pytest.skip("no times")
    client.force_login(tenant.staff)
    obj = tenant.objects[model]
    detail = client.get(admin_url(model, "change", obj.pk)).content.decode()
    assert f"times in {ZONE}" in detail
    assert LOCAL in detail
    assert SERVER not in detail
    listing = client.get(admin_url(model, "changelist")).content.decode()
    assert SERVER not in listing
    admin_model = __import__("django.contrib.admin", fromlist=["site"]).site._registry[model]
    if any(getattr(c, "__name__", "").endswith("_local") for c in admin_model.get_list_display(None)):
        assert f"{LOCAL} CET" in listing


@pytest.mark.parametrize("model", sorted(SERVER_ZONED, key=lambda m: m.__name__), ids=lambda m: m.__name__)
def test_rows_of_no_property_name_the_servers_zone(client: Any, tenant: Tenant, model) -> None:
    client.force_login(tenant.staff)
    detail = client.get(admin_url(model, "change", tenant.objects[model].pk)).content.decode()
    assert f"times in {settings.TIME_ZONE}" in detail


def test_a_lock_on_no_door_falls_back_to_the_servers_zone_named(client: Any, tenant: Tenant) -> None:
    lock = tenant.objects[Lock]
    Lock.objects.filter(pk=lock.pk).update(unit=None)
    client.force_login(tenant.staff)
    listing = client.get(admin_url(Lock, "changelist")).content.decode()
    assert f"{SERVER} {timezone.now().astimezone(timezone.get_default_timezone()).strftime('%Z')}" in listing
    assert f"times in {settings.TIME_ZONE}" in client.get(admin_url(Lock, "change", lock.pk)).content.decode()


def test_the_code_detail_shows_the_schedule_as_people_read_it(client: Any, tenant: Tenant) -> None:
    code = tenant.objects[AccessCode]
    AccessCode.objects.filter(pk=code.pk).update(
        kind=AccessCode.Kind.WEEKLY, schedule_days=[0, 2], schedule_start_minute=600, schedule_end_minute=720
    )
    client.force_login(tenant.staff)
    detail = client.get(admin_url(AccessCode, "change", code.pk)).content.decode()
    assert "Mon, Wed 10:00–12:00 (Europe/Amsterdam)" in detail
    assert "Schedule start minute" not in detail
    assert "Schedule days" not in detail


@pytest.mark.parametrize("model", [AccessCode, Stay], ids=lambda m: m.__name__)
def test_the_admin_add_forms_name_the_zone_and_hide_the_request_token(client: Any, tenant: Tenant, model) -> None:
    client.force_login(tenant.staff)
    page = client.get(admin_url(model, "add")).content.decode()
    assert "Request token" not in page
    assert f"Alpha House: {ZONE}" in page
    assert "admin_forms.css" in page


def _local_deadline(request: RemoteUnlockRequest) -> str:
    from zoneinfo import ZoneInfo

    return (request.requested_at + timedelta(seconds=60)).astimezone(ZoneInfo(ZONE)).strftime("%H:%M:%S %Z")


def test_the_remote_unlock_panel_and_the_alerts_show_the_propertys_time(client: Any, tenant: Tenant) -> None:
    Membership.objects.filter(user=tenant.staff).update(role=Role.OWNER)
    client.force_login(tenant.staff)
    request = tenant.objects[RemoteUnlockRequest]
    RemoteUnlockRequest.objects.filter(pk=request.pk).update(requested_at=timezone.now(), status="pending")
    request.refresh_from_db()
    panel = client.get(reverse("locks:remote-unlock")).content.decode()
    assert f"waits until {_local_deadline(request)}" in panel
    alerts = client.get(reverse("locks:alerts")).content.decode()
    assert f"{LOCAL} CET" in alerts
    assert SERVER not in alerts


def test_a_superuser_of_no_organisation_is_shown_the_way_to_the_admin(admin_client: Any) -> None:
    page = admin_client.get("/").content.decode()
    assert "not a member of any organisation" in page
    assert reverse("admin:index") in page


def test_units_are_zoned_by_their_property(tenant: Tenant) -> None:
    from locks.templatetags.zones import zone_name

    assert zone_name(tenant.objects[Unit]) == ZONE
    assert zone_name(tenant.objects[Stay]) == ZONE


def test_the_alert_email_gives_the_propertys_time(tenant: Tenant, settings: Any, mailoutbox: Any) -> None:
    from locks import alerts

    settings.ALERT_EMAIL_TO = ["ops@example.com"]
    alert = tenant.objects[Alert]
    Alert.objects.filter(pk=alert.pk).update(emailed_at=None, email_claimed_at=None)
    assert alerts.send_alert_email(alert.pk)
    assert f"First seen: 2026-01-15 {LOCAL} CET ({ZONE})" in mailoutbox[0].body


def test_every_template_renders_times_in_a_named_zone() -> None:
    """The class: a |date or |time outside {% timezone %} (or without |timezone:) shows the server's zone."""
    import re
    from pathlib import Path

    found = []
    for path in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        text, depth = path.read_text(), 0
        for match in re.finditer(r"\{%\s*(end)?timezone\b[^%]*%\}|\|(date|time):", text):
            if match.group(0).startswith("{%"):
                depth += -1 if match.group(1) else 1
            elif depth == 0 and "|timezone:" not in text[text.rfind("{{", 0, match.start()) : match.start()]:
                found.append(f"{path.name}:{text.count(chr(10), 0, match.start()) + 1}")
    assert not found, f"times in the server's zone: {found}"
