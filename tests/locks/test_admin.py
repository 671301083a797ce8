"""The staff admin: scoped to the staff member's organisations, no secrets on any page, code changes as actions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import models
from django.forms import ModelChoiceField
from django.urls import reverse
from django.utils import timezone

from api import keys
from audit.models import AuditEvent
from audit.services import audit
from locks import codes
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
    SyncCursor,
    UnlockMethod,
)
from tenants import selectors as tenant_selectors
from tenants import services as tenant_services
from tenants.models import ApiKey, Guest, Membership, Organisation, Property, Role, Stay, Unit
from tests.locks.conftest import event_place, run_workers, window

Status = AccessCode.Status
# A person's own preferences (their language) belong to no organisation: set by the person on the page header, not
# in the admin, like auth's users.
APP_MODELS = [
    m
    for label in ("tenants", "locks")
    for m in apps.get_app_config(label).get_models()
    if m._meta.label != "tenants.UserPreferences"
]
SECRET = "tuya-secret-ZQX-0451"


@dataclass
class Tenant:
    """One organisation with one row of every model, and a staff member of it."""

    org: Organisation
    staff: Any
    objects: dict[type[models.Model], models.Model] = field(default_factory=dict)
    pin: str = ""
    local_key: str = ""


def build_tenant(name: str, slug: str, pin: str, user_model: Any) -> Tenant:
    org = Organisation.objects.create(name=name, slug=slug)
    staff = user_model.objects.create_user(f"staff-{slug}", is_staff=True)  # signs in with force_login
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["tenants", "audit", "locks"]))
    membership = Membership.objects.create(user=staff, organisation=org, role=Role.OWNER)
    account = CloudAccount.objects.create(
        organisation=org, name=f"{name} cloud", endpoint="http://127.0.0.1:9", access_id=f"id-{slug}",
        access_secret=SECRET,
    )  # fmt: skip
    api_key = ApiKey.objects.create(  # as api.keys.create_key makes it, without its audit row
        organisation=org, name=f"{name} PMS", scopes=["read"], prefix=f"doors_{slug}"[:12],
        hashed_secret=keys.hash_secret(f"doors_{slug}-secret"),
    )  # fmt: skip
    objects = {Organisation: org, Membership: membership, CloudAccount: account, ApiKey: api_key}
    objects.update(build_rows(org, account, staff, name, slug, pin))
    return Tenant(org=org, staff=staff, objects=objects, pin=pin, local_key=f"lk-{slug}-7f3a9c")


def build_rows(
    org: Organisation, account: CloudAccount, actor: Any, name: str, slug: str, pin: str, *, on_a_door: bool = True
) -> dict[type[models.Model], models.Model]:
    """One row of every model below the organisation: a property with a unit, a stay and a lock on its door, the
    lock's code, operation, users, events, photo, alert and remote-unlock request. `on_a_door=False`: the lock is
    on no door (imported, not attached yet), so there is no property, unit or stay, and the code has no stay."""
    now = timezone.now()
    guest = Guest.objects.create(organisation=org, name=f"{name} Guest")
    rows: dict[type[models.Model], models.Model] = {Guest: guest}
    unit = stay = None
    if on_a_door:
        prop = Property.objects.create(organisation=org, name=f"{name} House", kind=Property.Kind.RENTAL)
        unit = Unit.objects.create(property=prop, name=f"{name} Flat 1")
        stay = Stay.objects.create(unit=unit, guest=guest, check_in=now, check_out=now + timedelta(days=2))
        rows.update({Property: prop, Unit: unit, Stay: stay})
    local_key = f"lk-{slug}-7f3a9c"
    lock = Lock.objects.create(
        organisation=org, cloud_account=account, unit=unit, device_id=f"dev-{slug}", name=f"{name} Front door",
        kind="zigbee", local_key=local_key,
    )  # fmt: skip
    code = AccessCode.objects.create(
        organisation=org, lock=lock, guest=guest, stay=stay, label=f"{name} code", pin=pin,
        starts_at=now, ends_at=now + timedelta(days=2), time_zone=lock.time_zone,
    )  # fmt: skip
    operation = LockOperation.objects.create(
        organisation=org, lock=lock, kind=LockOperation.Kind.OFFLINE_PASSWORD, secret=pin[::-1] + "1"
    )
    event = audit("code.issue", actor=actor, organisation=org, obj=code, summary=code.label)
    lock_user = LockUser.objects.create(organisation=org, lock=lock, cloud_user_id=f"u-{slug}", name=f"{name} user")
    method = UnlockMethod.objects.create(
        organisation=org,
        lock=lock,
        lock_user=lock_user,
        unlock_type="fingerprint",
        unlock_sn=1,
        status=UnlockMethod.Status.ACTIVE,
    )
    lock_event = LockEvent.objects.create(
        organisation=org,
        lock=lock,
        **event_place(lock),
        category=LockEvent.Category.UNLOCK,
        dp_code="unlock_temporary",
        occurred_at=now,
        natural_key=f"unlock:{slug}:1",
        access_code=code,
        stay=stay,
        guest=guest,
    )
    media = EventMedia.objects.create(
        organisation=org, event=lock_event, file_url="https://example.invalid/p.jpg", file_key=f"fk-{slug}-secret"
    )
    cursor = SyncCursor.objects.create(lock=lock, stream="open-logs", last_event_at=now)
    alert = Alert.objects.create(
        organisation=org,
        lock=lock,
        kind=Alert.Kind.TAMPER,
        dedup_key=f"tamper:{slug}",
        message=f"{name} pry alarm",
        event=lock_event,
        first_seen_at=now,
        last_seen_at=now,
    )
    remote = RemoteUnlockRequest.objects.create(organisation=org, lock=lock, event=lock_event, requested_at=now)
    rows.update({
        Lock: lock, AccessCode: code, LockOperation: operation, AuditEvent: event, LockUser: lock_user,
        UnlockMethod: method, LockEvent: lock_event, EventMedia: media, SyncCursor: cursor, Alert: alert,
        RemoteUnlockRequest: remote,
    })  # fmt: skip
    return rows


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # admin_client's user


@pytest.fixture
def tenants(db: None, django_user_model: Any) -> tuple[Tenant, Tenant]:
    a = build_tenant("Alpha", "alpha", "8617342", django_user_model)
    b = build_tenant("Bravo Zulu", "bravo", "9264815", django_user_model)
    return a, b


def admin_url(model: type[models.Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_of_tenants_and_locks_is_registered() -> None:
    missing = [m.__name__ for m in APP_MODELS if not admin.site.is_registered(m)]
    assert not missing


def test_every_model_has_a_row_in_the_fixture(tenants: tuple[Tenant, Tenant]) -> None:
    a, _ = tenants
    assert set(APP_MODELS) <= set(a.objects), "add the new model to build_tenant so the scoping tests cover it"


@pytest.mark.parametrize("model", APP_MODELS, ids=lambda m: m.__name__)
def test_staff_sees_only_their_organisations_rows(client: Any, tenants: tuple[Tenant, Tenant], model: Any) -> None:
    a, b = tenants
    client.force_login(a.staff)
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    shown = {obj.pk for obj in response.context["cl"].result_list}
    assert a.objects[model].pk in shown
    assert b.objects[model].pk not in shown
    assert b.org.name not in response.content.decode()  # not even in a filter's list of organisations
    searched = client.get(admin_url(model, "changelist"), {"q": "Bravo"})  # every search field is a valid lookup
    assert searched.status_code == 200
    assert b.objects[model].pk not in {obj.pk for obj in searched.context["cl"].result_list}


@pytest.mark.parametrize("model", APP_MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("view", ["change", "history", "delete"])
def test_another_organisations_object_is_not_found(
    client: Any, tenants: tuple[Tenant, Tenant], model: Any, view: str
) -> None:
    a, b = tenants
    client.force_login(a.staff)
    assert client.get(admin_url(model, view, b.objects[model].pk)).status_code == 404
    assert client.get(admin_url(model, view, 987654)).status_code == 404  # the same answer as "no such id"
    if view == "change":
        assert client.get(admin_url(model, view, a.objects[model].pk)).status_code == 200


@pytest.mark.parametrize("model", APP_MODELS, ids=lambda m: m.__name__)
def test_foreign_key_choices_exclude_other_organisations(
    client: Any, tenants: tuple[Tenant, Tenant], model: Any
) -> None:
    a, b = tenants
    client.force_login(a.staff)
    response = client.get(admin_url(model, "change", a.objects[model].pk))
    form = response.context["adminform"].form
    b_rows = set(b.objects.values()) | {b.staff}
    for name, form_field in form.fields.items():
        if isinstance(form_field, ModelChoiceField):
            offered = set(form_field.queryset)
            assert not offered & b_rows, f"{model.__name__}.{name} offers another organisation's rows"


def test_posting_another_organisations_choice_is_refused(client: Any, tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    lock = a.objects[Lock]
    client.force_login(a.staff)
    response = client.post(
        admin_url(Lock, "change", lock.pk),
        {
            "organisation": a.org.pk, "cloud_account": a.objects[CloudAccount].pk, "unit": b.objects[Unit].pk,
            "device_id": lock.device_id, "name": lock.name, "kind": lock.kind,
        },
    )  # fmt: skip
    assert response.status_code == 200
    assert "unit" in response.context["adminform"].form.errors
    lock.refresh_from_db()
    assert lock.unit == a.objects[Unit]


def test_an_action_on_another_organisations_rows_touches_nothing(client: Any, tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    theirs = b.objects[AccessCode]
    client.force_login(a.staff)
    response = client.post(
        admin_url(AccessCode, "changelist"), {"action": "remove", "_selected_action": [theirs.pk], "index": 0}
    )
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.desired == AccessCode.Desired.ACTIVE
    assert not AuditEvent.objects.filter(action="code.delete").exists()


def test_one_object_cannot_mix_two_of_the_staff_members_organisations(
    client: Any, tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = tenants
    Membership.objects.create(user=a.staff, organisation=b.org, role=Role.OWNER)
    lock = a.objects[Lock]
    client.force_login(a.staff)
    response = client.post(
        admin_url(Lock, "change", lock.pk),
        {
            "organisation": a.org.pk, "cloud_account": a.objects[CloudAccount].pk, "unit": b.objects[Unit].pk,
            "device_id": lock.device_id, "name": lock.name, "kind": lock.kind,
        },
    )  # fmt: skip
    assert response.status_code == 200
    assert "same organisation" in str(response.context["adminform"].form.non_field_errors())


@pytest.mark.parametrize("model", APP_MODELS, ids=lambda m: m.__name__)
def test_superuser_sees_every_organisation(admin_client: Any, tenants: tuple[Tenant, Tenant], model: Any) -> None:
    response = admin_client.get(admin_url(model, "changelist"))
    shown = {obj.pk for obj in response.context["cl"].result_list}
    assert {t.objects[model].pk for t in tenants} <= shown
    for tenant in tenants:
        assert admin_client.get(admin_url(model, "change", tenant.objects[model].pk)).status_code == 200


@pytest.mark.parametrize("model", APP_MODELS, ids=lambda m: m.__name__)
def test_no_secret_or_pin_on_any_admin_page(admin_client: Any, tenants: tuple[Tenant, Tenant], model: Any) -> None:
    a, _ = tenants
    operation_secret = a.objects[LockOperation].secret  # type: ignore[attr-defined]
    for url in (
        admin_url(model, "changelist"),
        admin_url(model, "change", a.objects[model].pk),
        admin_url(model, "add"),
    ):
        response = admin_client.get(url)
        assert response.status_code in (200, 403), url  # 403: no add page for rows only services write
        html = response.content.decode()
        for secret in (a.pin, SECRET, a.local_key, operation_secret):
            assert secret not in html, f"{secret!r} shown on {url}"


def test_access_code_list_shows_the_masked_pin(admin_client: Any, tenants: tuple[Tenant, Tenant]) -> None:
    a, _ = tenants
    html = admin_client.get(admin_url(AccessCode, "changelist")).content.decode()
    assert "•" * len(a.pin) in html


def test_access_secret_is_write_only_and_blank_keeps_it(admin_client: Any, tenants: tuple[Tenant, Tenant]) -> None:
    a, _ = tenants
    account = a.objects[CloudAccount]
    data = {"organisation": a.org.pk, "name": "Renamed", "endpoint": "eu", "access_id": "id-alpha", "access_secret": ""}
    assert admin_client.post(admin_url(CloudAccount, "change", account.pk), data).status_code == 302
    account.refresh_from_db()
    assert (account.name, account.access_secret) == ("Renamed", SECRET)
    assert not AuditEvent.objects.filter(action="account.secret_change").exists()

    data["access_secret"] = "a-new-secret-42"
    assert admin_client.post(admin_url(CloudAccount, "change", account.pk), data).status_code == 302
    account.refresh_from_db()
    assert account.access_secret == "a-new-secret-42"
    event = AuditEvent.objects.get(action="account.secret_change")
    assert "a-new-secret-42" not in event.summary


# --- the audit trail in the admin ---------------------------------------------------------------------------


def test_audit_rows_cannot_be_added_changed_or_deleted(client: Any, tenants: tuple[Tenant, Tenant]) -> None:
    a, _ = tenants
    event = a.objects[AuditEvent]
    client.force_login(a.staff)
    response = client.get(admin_url(AuditEvent, "change", event.pk))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False  # the view-only page: no inputs, no save
    assert 'name="_save"' not in response.content.decode()
    assert client.post(admin_url(AuditEvent, "change", event.pk), {"action": "x"}).status_code == 403
    assert client.post(admin_url(AuditEvent, "delete", event.pk), {"post": "yes"}).status_code == 403
    assert client.get(admin_url(AuditEvent, "add")).status_code == 403
    changelist = client.get(admin_url(AuditEvent, "changelist"))
    assert "delete_selected" not in changelist.content.decode()
    event.refresh_from_db()
    assert event.action == "code.issue"
    event.summary = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


def test_audit_changelist_filters_by_action_family_and_date(admin_client: Any, tenants: tuple[Tenant, Tenant]) -> None:
    audit("auth.login", summary="someone")
    response = admin_client.get(admin_url(AuditEvent, "changelist"), {"family": "auth."})
    assert {e.action for e in response.context["cl"].result_list} == {"auth.login"}
    today = timezone.now().date()
    response = admin_client.get(
        admin_url(AuditEvent, "changelist"), {"at__gte": f"{today} 00:00:00+00:00", "q": "code.issue"}
    )
    assert len(response.context["cl"].result_list) == 2


# --- actions on the simulator -------------------------------------------------------------------------------


def staff_of(org: Organisation, user: Any) -> Any:
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["tenants", "audit", "locks"]))
    return user


def act(client: Any, model: Any, action: str, objs: list[Any]) -> list[tuple[int, str]]:
    response = client.post(
        admin_url(model, "changelist"),
        {"action": action, "_selected_action": [o.pk for o in objs], "index": 0},
        follow=True,
    )
    assert response.status_code == 200
    return [(m.level, m.message) for m in response.context["messages"]]


def issued(lock: Lock, **extra: Any) -> AccessCode:
    starts, ends = window()
    code = codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends, **extra)
    run_workers()
    code.refresh_from_db()
    return code


def status_after_workers(code: AccessCode) -> str:
    run_workers()
    code.refresh_from_db()
    return code.status


@pytest.mark.django_db(transaction=True)
def test_freeze_unfreeze_remove_actions_reach_the_lock(
    client: Any, make_lock: Any, world: Any, front_desk: Any
) -> None:
    lock = make_lock("zigbee")
    code = issued(lock)
    assert code.status == Status.SET
    client.force_login(staff_of(lock.organisation, front_desk))

    assert act(client, AccessCode, "freeze", [code])[0][0] == 25  # messages.SUCCESS
    assert status_after_workers(code) == Status.FROZEN
    assert not world.opens(lock.device_id, code.pin)

    act(client, AccessCode, "unfreeze", [code])
    assert status_after_workers(code) == Status.SET
    assert world.opens(lock.device_id, code.pin)

    act(client, AccessCode, "remove", [code])
    assert status_after_workers(code) == Status.REMOVED
    assert not world.opens(lock.device_id, code.pin)
    actions = list(AuditEvent.objects.filter(object_id=str(code.pk)).values_list("action", "actor", "ip_address"))
    assert ("code.freeze", front_desk.pk, "127.0.0.1") in actions
    assert ("code.delete", front_desk.pk, "127.0.0.1") in actions


@pytest.mark.django_db(transaction=True)
def test_resend_action_sends_a_failed_code_again(client: Any, make_lock: Any, world: Any, front_desk: Any) -> None:
    lock = make_lock("zigbee_hotel")
    first = issued(lock)
    second = issued(lock)  # the hotel lock refuses overlapping windows: this one fails
    assert second.status == Status.FAILED
    client.force_login(staff_of(lock.organisation, front_desk))
    act(client, AccessCode, "remove", [first])
    assert status_after_workers(first) == Status.REMOVED
    act(client, AccessCode, "resend", [second])
    assert status_after_workers(second) == Status.SET, second.failure_reason
    assert world.opens(lock.device_id, second.pin)


@pytest.mark.django_db(transaction=True)
def test_a_service_refusal_is_a_message_not_a_500(client: Any, make_lock: Any, front_desk: Any) -> None:
    wifi_code = issued(make_lock("wifi"))
    client.force_login(staff_of(wifi_code.organisation, front_desk))
    level, message = act(client, AccessCode, "freeze", [wifi_code])[0]
    assert level == 40  # messages.ERROR
    assert "Only Zigbee locks can freeze" in message
    (level, message), *_ = act(client, AccessCode, "resend", [wifi_code])  # it is set, not failed
    assert level == 40
    assert "Only a code that failed" in message
    assert status_after_workers(wifi_code) == Status.SET


@pytest.mark.django_db(transaction=True)
def test_a_role_that_may_not_manage_codes_gets_a_message(
    client: Any, make_lock: Any, front_desk: Any, org: Organisation
) -> None:
    code = issued(make_lock("zigbee"))
    # A front desk limited to another property: its role may manage codes, but this lock's are not even listed to
    # it (#11 B.4), so acting on one by its id does nothing and says nothing was done.
    other = Property.objects.create(organisation=org, name="Main house", kind=Property.Kind.HOTEL)
    Membership.objects.get(user=front_desk, organisation=org).limit_to([other])
    client.force_login(staff_of(org, front_desk))
    assert not any(level == 25 for level, _ in act(client, AccessCode, "remove", [code]))  # 25: messages.SUCCESS
    assert status_after_workers(code) == Status.SET
    # A viewer is not offered the action at all, whatever Django permissions say.
    Membership.objects.filter(user=front_desk, organisation=org).update(role=Role.VIEWER)
    changelist = client.get(admin_url(AccessCode, "changelist")).content.decode()
    assert 'value="remove"' not in changelist
    act(client, AccessCode, "remove", [code])
    assert status_after_workers(code) == Status.SET


@pytest.mark.django_db(transaction=True)
def test_reconcile_actions_run_in_a_worker(client: Any, make_lock: Any, owner: Any) -> None:
    lock = make_lock("zigbee")
    code = issued(lock)
    client.force_login(staff_of(lock.organisation, owner))
    act(client, Lock, "reconcile_now", [lock])
    lock.refresh_from_db()
    assert lock.last_reconciled_at is None  # the request only queued it
    run_workers()
    lock.refresh_from_db()
    assert lock.last_reconciled_at is not None

    before = lock.last_reconciled_at
    act(client, AccessCode, "reconcile_lock_now", [code])
    run_workers()
    lock.refresh_from_db()
    assert lock.last_reconciled_at > before
    assert AuditEvent.objects.filter(action="lock.reconcile", object_id=str(lock.pk)).count() == 2


@pytest.mark.django_db(transaction=True)
def test_import_locks_action(client: Any, account: CloudAccount, world: Any, owner: Any) -> None:
    device_id = world.device("wifi")
    client.force_login(staff_of(account.organisation, owner))
    level, message = act(client, CloudAccount, "import_locks", [account])[0]
    assert level == 25, message
    assert Lock.objects.filter(cloud_account=account, device_id=device_id).exists()


@pytest.mark.django_db(transaction=True)
def test_import_failure_is_a_message(client: Any, account: CloudAccount, owner: Any) -> None:
    CloudAccount.objects.filter(pk=account.pk).update(access_secret="wrong-secret")
    account.refresh_from_db()
    client.force_login(staff_of(account.organisation, owner))
    level, message = act(client, CloudAccount, "import_locks", [account])[0]
    assert level == 40
    assert "import failed" in message
    assert "wrong-secret" not in message


@pytest.mark.django_db(transaction=True)
def test_stay_check_out_action_removes_its_codes(client: Any, make_lock: Any, guest: Guest, front_desk: Any) -> None:
    lock = make_lock("wifi")
    starts, ends = window()
    stay = tenant_services.book_stay(unit=lock.unit, guest=guest, check_in=starts, check_out=ends)
    run_workers()
    client.force_login(staff_of(lock.organisation, front_desk))
    act(client, Stay, "check_out", [stay])
    run_workers()
    stay.refresh_from_db()
    assert stay.status == Stay.Status.CHECKED_OUT
    assert tenant_selectors.removal_confirmed(stay)


# --- the job dashboard --------------------------------------------------------------------------------------


def rq_urls() -> list[str]:
    return [
        reverse("django_rq:home"),
        reverse("django_rq:jobs", args=[0]),
        reverse("django_rq:failed_jobs", args=[0]),
        reverse("django_rq:job_detail", args=[0, "converge-1"]),
        reverse("django_rq:requeue_all", args=[0]),
        reverse("django_rq:clear", args=[0]),
        reverse("django_rq:workers", args=[0]),
    ]


def test_the_rq_dashboard_sends_anonymous_visitors_to_sign_in(client: Any, tenants: tuple[Tenant, Tenant]) -> None:
    for url in rq_urls():
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("admin:login")), url
    assert client.get(reverse("django_rq:home_json")).status_code == 401


@pytest.mark.parametrize("who", ["member_not_staff", "staff"])
def test_the_rq_dashboard_refuses_all_but_superusers(client: Any, tenants: tuple[Tenant, Tenant], who: str) -> None:
    """It shows and changes every organisation's jobs: staff of one organisation are refused, and it is audited."""
    a, _ = tenants
    if who == "member_not_staff":
        a.staff.is_staff = False
        a.staff.save()
    client.force_login(a.staff)
    urls = [*rq_urls(), reverse("django_rq:home_json"), "/admin/django_rq/dashboard/"]
    for url in urls:
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 403, url
    refused = AuditEvent.objects.filter(action="access.refused", actor=a.staff)
    assert refused.count() == 2 * len(urls)
    assert "superusers only" in refused.first().summary


def test_the_rq_dashboard_opens_for_superusers(admin_client: Any, redis_url: str) -> None:
    assert admin_client.get(reverse("django_rq:home")).status_code == 200
    assert admin_client.get("/admin/django_rq/dashboard/").status_code == 200


# --- add pages that go through the services ----------------------------------------------------------------


def local(moment: Any) -> str:
    """A datetime-local value in Amsterdam (the fixture property's zone)."""
    import zoneinfo

    return moment.astimezone(zoneinfo.ZoneInfo("Europe/Amsterdam")).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.django_db(transaction=True)
def test_booking_a_stay_in_the_admin_issues_its_code_which_opens_the_door(
    client: Any, make_lock: Any, world: Any, front_desk: Any
) -> None:
    lock = make_lock("wifi")
    client.force_login(staff_of(lock.organisation, front_desk))
    now = timezone.now()
    response = client.post(
        reverse("admin:tenants_stay_add"),
        {
            "unit": lock.unit.pk,
            "guest_name": "Grace Hopper",
            "guest_email": "grace@example.com",
            "check_in": local(now - timedelta(hours=1)),
            "check_out": local(now + timedelta(days=1)),
            "kind": "hotel",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    stay = Stay.objects.get(guest__name="Grace Hopper")
    code = stay.access_codes.get()
    assert abs(stay.check_out - (now + timedelta(days=1))) < timedelta(minutes=1)  # typed in Amsterdam time
    assert AuditEvent.objects.filter(action="stay.book", actor=front_desk).exists()
    assert stay.guest.created_by == front_desk  # a desk limited to some properties keeps seeing its own
    assert status_after_workers(code) == Status.SET
    assert world.opens(lock.device_id, code.pin)


@pytest.mark.django_db(transaction=True)
def test_admin_stay_form_errors_sit_beside_their_fields_and_create_nothing(
    client: Any, make_lock: Any, front_desk: Any
) -> None:
    lock = make_lock("wifi")
    client.force_login(staff_of(lock.organisation, front_desk))
    now = timezone.now()
    response = client.post(
        reverse("admin:tenants_stay_add"),
        {
            "unit": lock.unit.pk,
            "guest_name": "Grace Hopper",
            "check_in": local(now + timedelta(days=2)),
            "check_out": local(now + timedelta(days=1)),
            "kind": "hotel",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"check_out": ["Check-out must be after check-in."]}
    assert not Stay.objects.exists()
    assert not Guest.objects.filter(name="Grace Hopper").exists()
    assert not AccessCode.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_issuing_a_weekly_code_in_the_admin(client: Any, make_lock: Any, world: Any, front_desk: Any) -> None:
    lock = make_lock("zigbee")
    client.force_login(staff_of(lock.organisation, front_desk))
    now = timezone.now()
    form = {
        "lock": lock.pk,
        "label": "Cleaner",
        "kind": "weekly",
        "starts_at": local(now - timedelta(hours=1)),
        "ends_at": local(now + timedelta(days=60)),
        "schedule_start": "09:00",
        "schedule_end": "12:00",
    }
    response = client.post(reverse("admin:locks_accesscode_add"), form)
    assert response.status_code == 200
    assert response.context["form"].errors == {"schedule_days": ["Choose at least one day."]}
    response = client.post(reverse("admin:locks_accesscode_add"), {**form, "schedule_days": ["0", "2"]})
    assert response.status_code == 302
    code = AccessCode.objects.get(label="Cleaner")
    assert (code.schedule_days, code.schedule_start_minute, code.schedule_end_minute) == ([0, 2], 540, 720)
    assert status_after_workers(code) == Status.SET


@pytest.mark.django_db(transaction=True)
def test_admin_add_pages_offer_only_the_staff_members_locks_and_units(
    client: Any, tenants: tuple[Tenant, Tenant]
) -> None:
    mine, theirs = tenants
    client.force_login(mine.staff)
    for url, field_name in (
        (reverse("admin:locks_accesscode_add"), "lock"),
        (reverse("admin:tenants_stay_add"), "unit"),
    ):
        choices = client.get(url).context["form"].fields[field_name].queryset
        assert set(choices) == {mine.objects[Lock if field_name == "lock" else Unit]}
    response = client.post(
        reverse("admin:locks_accesscode_add"),
        {"lock": theirs.objects[Lock].pk, "label": "x", "kind": "window", "starts_at": "2030-01-01T10:00",
         "ends_at": "2030-01-02T10:00"},
    )  # fmt: skip
    assert "lock" in response.context["form"].errors
    assert not AccessCode.objects.filter(label="x").exists()
