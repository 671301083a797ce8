"""Remote unlock (docs/product.md journey 7) end to end: someone rings at the simulator's door, the events sync brings
the doorbell record (and its photo) in, a person approves or refuses on the panel, the worker answers the lock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_rq
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from locks import alert_scans, alerts, jobs, remote
from locks.cloud.tuya import client as cloud
from locks.models import EventMedia, Lock, LockEvent, RemoteUnlockRequest
from locks.tuya.api import RemoteUnlockType
from tenants.models import Membership, Organisation, Role
from tests.locks.conftest import World, event_place, run_workers

pytestmark = pytest.mark.django_db(transaction=True)
Status = RemoteUnlockRequest.Status
HTMX = {"HX-Request": "true"}


def ring(world: World, lock: Lock) -> RemoteUnlockRequest:
    """Someone at the door asks to be let in; the events sync job brings the record in."""
    world.call("POST", f"/_sim/devices/{lock.device_id}/remote-request", {})
    django_rq.get_queue("sync").enqueue(jobs.sync_lock_events, lock.pk)
    run_workers()
    return RemoteUnlockRequest.objects.get(lock=lock)


def at_the_door(world: World, lock: Lock) -> dict[str, Any]:
    return world.call("GET", f"/_sim/devices/{lock.device_id}/remote-request")["request"]


def app_unlocks(world: World, lock: Lock) -> int:
    events = world.call("GET", f"/_sim/devices/{lock.device_id}/events")["events"]
    return sum(1 for e in events if e["kind"] == "unlock_app")


def decide(client: Client, request: RemoteUnlockRequest, action: str) -> Any:
    return client.post(reverse("locks:remote-unlock-decide", args=[request.pk, action]), headers=HTMX)


def test_a_doorbell_becomes_a_request_with_its_photo_and_approving_opens_the_door(
    owner_client: Client, owner, make_lock, world
) -> None:
    lock = make_lock("wifi_video")
    request = ring(world, lock)
    assert request.status == Status.PENDING
    assert request.event is not None
    assert request.event.classification == "doorbell"
    photo = EventMedia.objects.get(event=request.event)  # the photo the lock took, fetched and thumbnailed
    assert photo.status == EventMedia.Status.DONE, photo.failure_reason
    panel = owner_client.get(reverse("locks:remote-unlock"))
    html = panel.content.decode()
    assert lock.name in html
    assert reverse("locks:remote-unlock-decide", args=[request.pk, "approve"]) in html
    thumb = reverse("locks:event-media", args=[photo.pk, "thumb"])
    assert thumb in html
    assert owner_client.get(thumb)["Content-Type"].startswith("image/")
    assert panel.context["pending_remote_unlock_count"] == 1
    polled = owner_client.get(reverse("locks:remote-unlock"), headers=HTMX).content.decode()  # the list's polling
    assert polled.lstrip().startswith('<div id="request-lists"')
    assert f'id="request-{request.pk}"' in polled

    response = decide(owner_client, request, "approve")
    assert response.status_code == 200
    assert "Opening the door" in response.content.decode()
    run_workers()
    request.refresh_from_db()
    assert request.status == Status.APPROVED, request.failure_reason
    assert at_the_door(world, lock)["status"] == "approved"
    assert app_unlocks(world, lock) == 1
    audit = AuditEvent.objects.get(action="lock.remote_unlock")
    assert (audit.actor, audit.object_id) == (owner, str(request.pk))
    row = owner_client.get(reverse("locks:remote-unlock-row", args=[request.pk]), headers=HTMX)
    assert "Door opened" in row.content.decode()


def test_rejecting_tells_the_lock_and_the_door_stays_shut(owner_client: Client, make_lock, world) -> None:
    lock = make_lock("wifi")  # the spec's revoke call is for Wi-Fi locks
    request = ring(world, lock)
    response = decide(owner_client, request, "reject")
    assert "Refused" in response.content.decode()
    run_workers()
    request.refresh_from_db()
    assert request.status == Status.REJECTED
    assert request.failure_reason == ""
    assert at_the_door(world, lock)["status"] == "rejected"
    assert app_unlocks(world, lock) == 0
    assert AuditEvent.objects.filter(action="lock.remote_unlock_rejected", object_id=str(request.pk)).count() == 1
    assert remote.tell_rejected(request.pk) == "done already"  # a re-run job does not call again
    decide(owner_client, request, "approve")  # too late to change one's mind: it was decided
    run_workers()
    request.refresh_from_db()
    assert request.status == Status.REJECTED
    assert app_unlocks(world, lock) == 0


def test_a_double_approve_opens_the_door_once(owner_client: Client, make_lock, world) -> None:
    lock = make_lock("wifi_video")
    request = ring(world, lock)
    decide(owner_client, request, "approve")
    decide(owner_client, request, "approve")
    remote.approve_request(request.pk, actor=Membership.objects.get(role=Role.OWNER).user)
    run_workers()
    assert remote.open_door(request.pk) == "done already"  # a re-run job
    request.refresh_from_db()
    assert request.status == Status.APPROVED
    assert app_unlocks(world, lock) == 1
    assert AuditEvent.objects.filter(action="lock.remote_unlock").count() == 1


def test_a_viewer_may_not_decide_and_another_organisation_gets_404(
    client: Client, org, make_lock, world, django_user_model
) -> None:
    lock = make_lock("wifi_video")
    request = ring(world, lock)
    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-1")
    Membership.objects.create(user=viewer, organisation=org, role=Role.VIEWER)
    client.force_login(viewer)
    assert decide(client, request, "approve").status_code == 403
    assert decide(client, request, "reject").status_code == 403
    stranger = django_user_model.objects.create_user("stranger", password="pw-stranger-1")
    other = Organisation.objects.create(name="Other", slug="other")
    Membership.objects.create(user=stranger, organisation=other, role=Role.OWNER)
    client.force_login(stranger)
    assert decide(client, request, "approve").status_code == 404
    assert client.get(reverse("locks:remote-unlock-row", args=[request.pk])).status_code == 404
    assert lock.name not in client.get(reverse("locks:remote-unlock")).content.decode()
    run_workers()
    request.refresh_from_db()
    assert request.status == Status.PENDING
    assert at_the_door(world, lock)["status"] == "pending"
    assert app_unlocks(world, lock) == 0
    assert AuditEvent.objects.filter(action="lock.remote_unlock_refused").count() == 1
    assert AuditEvent.objects.filter(action="lock.remote_unlock").count() == 0


def test_an_unanswered_request_expires_and_can_no_longer_be_approved(owner_client: Client, make_lock, world) -> None:
    lock = make_lock("wifi_video")
    request = ring(world, lock)
    RemoteUnlockRequest.objects.filter(pk=request.pk).update(requested_at=timezone.now() - remote.WINDOW)
    panel = owner_client.get(reverse("locks:remote-unlock")).content.decode()
    assert "Nobody answered in time" in panel  # no button for a door that stopped waiting ...
    assert reverse("locks:remote-unlock-decide", args=[request.pk, "approve"]) not in panel
    assert RemoteUnlockRequest.objects.get(pk=request.pk).status == Status.PENDING  # ... and a GET writes nothing
    alert_scans.scan()  # the periodic scan (and the delayed job at the deadline) expire it
    request.refresh_from_db()
    assert request.status == Status.EXPIRED
    response = decide(owner_client, request, "approve")
    assert "Nobody answered in time" in response.content.decode()
    run_workers()
    assert app_unlocks(world, lock) == 0
    assert not AuditEvent.objects.filter(action="lock.remote_unlock").exists()


def test_an_approval_the_worker_reaches_too_late_does_not_open_the_door(owner_client: Client, make_lock, world) -> None:
    lock = make_lock("wifi_keepalive")  # always awake: the cloud would open it at any time
    event = LockEvent.objects.create(
        organisation=lock.organisation,
        lock=lock,
        **event_place(lock),
        category=LockEvent.Category.ALARM,
        dp_code="doorbell",
        dp_value="true",
        classification="doorbell",
        occurred_at=timezone.now(),
        natural_key="doorbell-1",
    )
    alerts.on_new_events([event])
    request = RemoteUnlockRequest.objects.get(event=event)
    decide(owner_client, request, "approve")
    RemoteUnlockRequest.objects.filter(pk=request.pk).update(requested_at=timezone.now() - timedelta(minutes=5))
    run_workers()
    request.refresh_from_db()
    assert request.status == Status.FAILED
    assert "Too late" in request.failure_reason
    assert app_unlocks(world, lock) == 0


def test_an_old_doorbell_record_is_history_not_a_request_to_answer(make_lock) -> None:
    lock = make_lock("wifi_video")
    event = LockEvent.objects.create(
        organisation=lock.organisation,
        lock=lock,
        **event_place(lock),
        category=LockEvent.Category.ALARM,
        dp_code="doorbell",
        dp_value="true",
        classification="doorbell",
        occurred_at=timezone.now() - timedelta(hours=3),
        natural_key="doorbell-old",
    )
    alerts.on_new_events([event])
    alerts.on_new_events([event])  # a re-run: still one request
    assert RemoteUnlockRequest.objects.get().status == Status.EXPIRED


def test_the_lock_refusing_password_free_unlocking_is_a_failure_with_the_reason(
    owner_client: Client, make_lock, world
) -> None:
    lock = make_lock("wifi")
    cloud.api_for(lock.cloud_account).remote_unlock.set_remote_unlock(
        lock.device_id, RemoteUnlockType.WITHOUT_PASSWORD, False
    )
    request = ring(world, lock)
    decide(owner_client, request, "approve")
    run_workers()
    request.refresh_from_db()
    assert request.status == Status.FAILED
    assert "2306" in request.failure_reason
    assert app_unlocks(world, lock) == 0
    panel = owner_client.get(reverse("locks:remote-unlock")).content.decode()
    assert "2306" in panel


@pytest.mark.parametrize("kind", ["wifi", "wifi_video", "zigbee"])
def test_a_doorbell_is_a_request_the_panel_can_answer(owner_client: Client, make_lock, world, kind) -> None:
    # A plain ring (not the "ask to be let in" world call): the panel offers "Open the door", so it must work.
    lock = make_lock(kind)
    world.call("POST", f"/_sim/devices/{lock.device_id}/doorbell", {})
    django_rq.get_queue("sync").enqueue(jobs.sync_lock_events, lock.pk)
    run_workers()
    request = RemoteUnlockRequest.objects.get(lock=lock)
    assert "Open the door" in owner_client.get(reverse("locks:remote-unlock")).content.decode()
    decide(owner_client, request, "approve")
    run_workers()
    request.refresh_from_db()
    assert (request.status, request.failure_reason) == (Status.APPROVED, "")
    assert app_unlocks(world, lock) == 1


def test_a_sleeping_lock_whose_window_closed_is_not_told_to_check_its_power(
    owner_client: Client, make_lock, world
) -> None:
    lock = make_lock("wifi")
    request = ring(world, lock)
    cloud.api_for(lock.cloud_account).remote_unlock.cancel_remote_unlock(lock.device_id, 2)  # the lock sleeps again
    decide(owner_client, request, "approve")
    run_workers()
    request.refresh_from_db()
    assert request.status == Status.FAILED
    assert "2001" in request.failure_reason
    assert "asleep" in request.failure_reason
    assert "power" not in request.failure_reason
    assert app_unlocks(world, lock) == 0


def test_rejecting_on_a_lock_without_the_revoke_call_leaves_it_to_time_out(owner_client: Client, make_lock, world):
    lock = make_lock("wifi_video")
    request = ring(world, lock)
    decide(owner_client, request, "reject")
    run_workers()
    request.refresh_from_db()
    assert (request.status, request.failure_reason) == (Status.REJECTED, "")
    assert at_the_door(world, lock)["status"] == "pending"  # it lapses by itself at the end of its countdown
    assert app_unlocks(world, lock) == 0


# --- from the lock page (#11 D.16) ----------------------------------------------------------------------------


def open_now(client: Client, lock: Lock) -> Any:
    return client.post(reverse("locks:lock-remote-open", args=[lock.pk]), headers=HTMX)


@pytest.mark.parametrize("kind", sorted(remote.LOCK_PAGE_KINDS))
def test_a_manager_opens_an_always_connected_lock_from_its_page(
    client: Client, org, make_lock, world, django_user_model, kind
) -> None:
    lock = make_lock(kind)
    manager = django_user_model.objects.create_user("manager", password="pw-manager-1")
    Membership.objects.create(user=manager, organisation=org, role=Role.MANAGER)
    client.force_login(manager)
    page = client.get(reverse("locks:lock", args=[lock.pk])).content.decode()
    assert "Open the door now" in page
    response = open_now(client, lock)
    assert response.status_code == 200
    assert "Opening the door" in response.content.decode()
    run_workers()
    section = client.get(reverse("locks:lock-remote-open", args=[lock.pk]), headers=HTMX).content.decode()
    assert "Door opened" in section, section
    opened = RemoteUnlockRequest.objects.get(lock=lock)
    assert (opened.status, opened.event, opened.decided_by) == (Status.APPROVED, None, manager)
    assert app_unlocks(world, lock) == 1
    audit = AuditEvent.objects.get(action="lock.remote_unlock")
    assert (audit.actor, audit.object_id) == (manager, str(opened.pk))


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.VIEWER])
def test_other_roles_are_not_offered_the_lock_page_open_and_are_refused(
    client: Client, org, make_lock, world, django_user_model, role
) -> None:
    lock = make_lock("zigbee")
    user = django_user_model.objects.create_user("someone", password="pw-someone-1")
    Membership.objects.create(user=user, organisation=org, role=role)
    client.force_login(user)
    assert "Open the door now" not in client.get(reverse("locks:lock", args=[lock.pk])).content.decode()
    assert open_now(client, lock).status_code == 403
    run_workers()
    assert not RemoteUnlockRequest.objects.exists()
    assert app_unlocks(world, lock) == 0
    assert AuditEvent.objects.filter(action="lock.remote_unlock_refused").count() == 1


def test_another_organisation_gets_404_for_the_lock_page_open(client: Client, make_lock, world, django_user_model):
    lock = make_lock("zigbee")
    stranger = django_user_model.objects.create_user("stranger", password="pw-stranger-1")
    other = Organisation.objects.create(name="Other", slug="other")
    Membership.objects.create(user=stranger, organisation=other, role=Role.OWNER)
    client.force_login(stranger)
    assert open_now(client, lock).status_code == 404
    assert app_unlocks(world, lock) == 0


@pytest.mark.parametrize("kind", ["wifi", "wifi_video"])
def test_a_sleeping_lock_is_not_offered_a_lock_page_open(owner_client: Client, make_lock, world, kind) -> None:
    lock = make_lock(kind)
    page = owner_client.get(reverse("locks:lock", args=[lock.pk])).content.decode()
    assert "Open the door now" not in page
    assert "only while someone at the door has rung" in page
    assert open_now(owner_client, lock).status_code == 403
    assert app_unlocks(world, lock) == 0


def test_an_offline_lock_is_not_offered_a_lock_page_open(owner_client: Client, make_lock) -> None:
    lock = make_lock("zigbee")
    Lock.objects.filter(pk=lock.pk).update(online=False)
    page = owner_client.get(reverse("locks:lock", args=[lock.pk])).content.decode()
    assert "Open the door now" not in page
    assert "cannot be opened remotely until it is back" in page


def test_the_lock_page_open_asks_the_cloud_whether_the_switch_is_on(owner_client: Client, make_lock, world) -> None:
    lock = make_lock("zigbee")
    cloud.api_for(lock.cloud_account).remote_unlock.set_remote_unlock(
        lock.device_id, RemoteUnlockType.WITHOUT_PASSWORD, False
    )
    open_now(owner_client, lock)
    run_workers()
    opened = RemoteUnlockRequest.objects.get(lock=lock)
    assert opened.status == Status.FAILED
    assert opened.failure_reason == remote.SWITCHED_OFF
    assert "switched off" in owner_client.get(reverse("locks:lock", args=[lock.pk])).content.decode()
    assert app_unlocks(world, lock) == 0
