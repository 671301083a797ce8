"""Reconciliation, resending failed codes, revealing PINs, importing a project's locks."""

import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from locks import accounts, codes, pins, reconcile
from locks.models import AccessCode
from tenants.models import Membership, Role
from tests.locks.conftest import run_workers, window

pytestmark = pytest.mark.django_db(transaction=True)
Status = AccessCode.Status


def issue(lock, capture, **extra):
    starts, ends = window()
    with capture(execute=True):
        return codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends, **extra)


def set_code(lock, capture):
    code = issue(lock, capture)
    run_workers()
    code.refresh_from_db()
    assert code.status == Status.SET
    return code


def test_code_deleted_outside_the_app_is_put_back(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("wifi")
    code = set_code(lock, django_capture_on_commit_callbacks)
    from locks.cloud.tuya import client as cloud

    cloud.api_for(lock.cloud_account).passwords.delete_temp_password(lock.device_id, code.cloud_password_id)
    time.sleep(0.5)  # the lock takes the deletion after the simulated delivery delay
    result = reconcile.reconcile_lock(lock)
    assert result.repaired == [code.pk]
    run_workers()
    code.refresh_from_db()
    assert code.status == Status.SET
    assert world.opens(lock.device_id, code.pin)


def test_foreign_code_is_flagged_not_deleted(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("wifi")
    set_code(lock, django_capture_on_commit_callbacks)
    from locks.cloud.tuya import client as cloud

    starts, ends = window()
    cloud.api_for(lock.cloud_account).passwords.create_temp_password(
        lock.device_id,
        lock_kind="wifi",
        pin="5820417",
        name="set in the Tuya app",
        effective_time=starts,
        invalid_time=ends,
    )
    result = reconcile.reconcile_lock(lock)
    assert [f["name"] for f in result.foreign] == ["set in the Tuya app"]
    lock.refresh_from_db()
    assert lock.foreign_codes[0]["name"] == "set in the Tuya app"
    assert lock.last_reconciled_at is not None
    assert len(world.passwords(lock.device_id)) == 2


def test_failed_code_can_be_sent_again(make_lock, world, django_capture_on_commit_callbacks):
    lock = make_lock("zigbee_hotel")
    first = set_code(lock, django_capture_on_commit_callbacks)
    # The hotel lock refuses overlapping windows (delivery_status 6): the second code fails.
    second = issue(lock, django_capture_on_commit_callbacks)
    run_workers()
    second.refresh_from_db()
    assert second.status == Status.FAILED
    assert "overlaps" in second.failure_reason
    with pytest.raises(ValidationError, match="Only a code that failed"):
        codes.resend_access_code(first)
    codes.remove_access_code(first)
    run_workers()
    with django_capture_on_commit_callbacks(execute=True):
        codes.resend_access_code(second)
    run_workers()
    second.refresh_from_db()
    assert second.status == Status.SET, second.failure_reason
    assert world.opens(lock.device_id, second.pin)


def test_front_desk_may_reveal_and_is_audited(make_lock, front_desk, django_capture_on_commit_callbacks):
    code = issue(make_lock("wifi"), django_capture_on_commit_callbacks)
    assert pins.reveal_pin(code, actor=front_desk, ip="10.0.0.7") == code.pin
    event = AuditEvent.objects.get(action="code.reveal")
    assert (event.actor, event.ip_address, event.object_id) == (front_desk, "10.0.0.7", str(code.pk))
    assert code.pin not in event.summary


def test_viewer_may_not_reveal_and_the_refusal_is_audited(
    make_lock, org, django_user_model, django_capture_on_commit_callbacks
):
    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-1")
    Membership.objects.create(user=viewer, organisation=org, role=Role.VIEWER)
    code = issue(make_lock("wifi"), django_capture_on_commit_callbacks)
    with pytest.raises(PermissionDenied):
        pins.reveal_pin(code, actor=viewer)
    assert AuditEvent.objects.filter(action="code.reveal_refused", actor=viewer).exists()


def test_front_desk_limited_to_other_properties_may_not_reveal(
    make_lock, org, front_desk, django_capture_on_commit_callbacks
):
    from tenants.models import Property

    other = Property.objects.create(organisation=org, name="Annex")
    front_desk.memberships.get().limit_to([other])
    code = issue(make_lock("wifi"), django_capture_on_commit_callbacks)
    with pytest.raises(PermissionDenied):
        pins.reveal_pin(code, actor=front_desk)


def test_member_of_another_organisation_may_not_reveal(
    make_lock, django_user_model, django_capture_on_commit_callbacks
):
    from tenants.models import Organisation

    outsider = django_user_model.objects.create_user("outsider", password="pw-out-1")
    other = Organisation.objects.create(name="Other", slug="other")
    Membership.objects.create(user=outsider, organisation=other, role=Role.OWNER)
    code = issue(make_lock("wifi"), django_capture_on_commit_callbacks)
    with pytest.raises(PermissionDenied):
        pins.reveal_pin(code, actor=outsider)


def test_import_by_device_ids(account, world):
    device_id = world.device("zigbee_hotel")
    (lock,) = accounts.import_locks(account, device_ids=[device_id])
    assert (lock.device_id, lock.kind, lock.organisation) == (device_id, "zigbee_hotel", account.organisation)
    assert lock.local_key  # stored encrypted
    account.refresh_from_db()
    assert account.uid


def test_import_finds_every_lock_of_the_project_and_only_locks(account, world):
    ids = {world.device(kind) for kind in ("wifi", "zigbee", "ble", "zigbee_hotel", "wifi_keepalive", "wifi_video")}
    ids |= {world.device(kind) for kind in ("ble_gateway", "access_control")}
    locks = accounts.import_locks(account)
    assert {lock.device_id for lock in locks} >= ids
    kinds = {lock.device_id: lock.kind for lock in locks}
    assert sorted(kinds[i] for i in ids) == sorted(
        ["wifi", "zigbee", "ble", "zigbee_hotel", "wifi_keepalive", "wifi_video", "ble_gateway", "access_control"]
    )
    assert accounts.import_locks(account)  # importing again updates, it does not duplicate
    assert account.locks.count() == len(locks)


def test_project_device_list_pages_by_last_id(account, world):
    from locks.cloud.tuya import client as cloud

    for _ in range(23):
        world.device("wifi")
    api = cloud.api_for(account)
    first = api.device.list_project_devices(page_size=20)
    second = api.device.list_project_devices(last_id=first.next_last_id, page_size=20)
    assert len(first.items) == 20
    assert second.next_last_id is None
    assert not {d.id for d in first} & {d.id for d in second}


def test_pins_are_erased_30_days_after_their_code_ended_and_not_before(
    make_lock, front_desk, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    lock = make_lock("wifi")
    ended, recent, live = (issue(lock, django_capture_on_commit_callbacks) for _ in range(3))
    now = timezone.now()
    AccessCode.objects.filter(pk=ended.pk).update(
        status=Status.EXPIRED, starts_at=now - timedelta(days=40), ends_at=now - timedelta(days=31)
    )
    AccessCode.objects.filter(pk=recent.pk).update(
        status=Status.REMOVED, starts_at=now - timedelta(days=40), ends_at=now - timedelta(days=29)
    )
    assert pins.purge_old_pins() == 1
    assert pins.purge_old_pins() == 0  # once
    ended.refresh_from_db()
    assert (ended.pin, ended.masked_pin) == ("", "(purged)")
    with connection.cursor() as cursor:  # the old ciphertext is gone too, not only hidden
        cursor.execute("SELECT pin FROM locks_accesscode WHERE id = %s", [ended.pk])
        stored = cursor.fetchone()[0]
    assert AccessCode._meta.get_field("pin").from_db_value(stored, None, connection) == ""
    assert pins.reveal_pin(recent, actor=front_desk) == recent.pin
    with pytest.raises(ValidationError, match="erased"):
        pins.reveal_pin(ended, actor=front_desk)
    # An erased code cannot be brought back (no PIN to send; the periodic work no longer looks at it), only deleted.
    later = now + timedelta(days=1)
    with pytest.raises(ValidationError, match="issue a new code"):
        codes.change_access_code(ended, starts_at=later, ends_at=later + timedelta(days=2))
    with pytest.raises(ValidationError, match="issue a new code"):
        codes.unfreeze_access_code(ended)
    for code in (recent, live):
        code.refresh_from_db()
        assert code.pin
        assert code.pin_purged_at is None
