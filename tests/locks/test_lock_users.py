"""Lock users and unlock methods end to end: the page, the services and the jobs against the simulator's cloud.

The world API plays the people at the door (a finger on the reader during enrollment, a member joining the
owner's home in the Tuya app); the cloud side is only reached through our jobs."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from locks import enrollment, push
from locks.models import Lock, LockUser, UnlockMethod
from tenants.models import Membership, Organisation, Role
from tests.locks.conftest import World, run_workers

pytestmark = pytest.mark.django_db(transaction=True)
HTMX = {"HX-Request": "true"}
Status = UnlockMethod.Status


@pytest.fixture(autouse=True)
def fast_enrollment(settings: Any) -> None:
    settings.ENROLL_POLL_SECONDS = 1
    settings.ENROLL_WINDOW_SECONDS = 60


def cloud_users(world: World, lock: Lock) -> dict[str, dict[str, Any]]:
    return {u["user_id"]: u for u in world.call("GET", f"/_sim/devices/{lock.device_id}/home-users")["users"]}


def cloud_methods(world: World, lock: Lock) -> list[dict[str, Any]]:
    return list(world.call("GET", f"/_sim/devices/{lock.device_id}/methods")["methods"])


def post(client: Client, url_name: str, *args: Any, **data: Any) -> Any:
    return client.post(reverse(f"locks:{url_name}", args=args), data)


def add_user(client: Client, lock: Lock, name: str = "Ada") -> LockUser:
    response = post(client, "lock-user-add", lock.pk, name=name, sex="2")
    assert response.status_code == 302, response.content.decode()[:2000]
    run_workers()
    user = LockUser.objects.get(lock=lock, name=name)
    assert user.cloud_user_id, user.failure_reason
    return user


def press(world: World, lock: Lock, times: int) -> list[dict[str, Any]]:
    """Someone puts a finger on the reader `times` times; returns the doorUnlockMethodStatus pushes so far."""
    result: dict[str, Any] = {}
    for _ in range(times):
        result = world.call("POST", f"/_sim/devices/{lock.device_id}/enroll-step", {})
    return [m["bizData"] for m in result["enrollment"]["messages"]]


def watch_until_settled(method: UnlockMethod, seconds: float = 8) -> UnlockMethod:
    deadline = time.monotonic() + seconds
    while True:
        run_workers()
        method.refresh_from_db()
        if method.status != Status.ENROLLING or time.monotonic() > deadline:
            return method
        time.sleep(0.3)


# --- people ------------------------------------------------------------------------------------------------------


def test_add_modify_delete_user_reach_the_cloud(owner_client: Client, make_lock: Any, world: World) -> None:
    lock = make_lock("wifi")
    user = add_user(owner_client, lock, "Ada")
    assert cloud_users(world, lock)[user.cloud_user_id]["nick_name"] == "Ada"

    response = post(owner_client, "lock-user-edit", user.pk, name="Ada L.", sex="2")
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.name == "Ada"
    assert user.pending["action"] == "modify"
    run_workers()
    user.refresh_from_db()
    assert user.name == "Ada L."
    assert not user.pending
    assert cloud_users(world, lock)[user.cloud_user_id]["nick_name"] == "Ada L."

    assert post(owner_client, "lock-user-delete", user.pk).status_code == 302
    run_workers()
    user.refresh_from_db()
    assert user.removed_at is not None
    assert not user.pending
    assert user.cloud_user_id not in cloud_users(world, lock)
    actions = set(AuditEvent.objects.filter(object_id=str(user.pk)).values_list("action", flat=True))
    assert {"lockuser.add", "lockuser.modify", "lockuser.delete"} <= actions


def test_add_form_errors_beside_the_field_and_kinds_that_cannot_add(owner_client: Client, make_lock: Any) -> None:
    lock = make_lock("wifi")
    response = post(owner_client, "lock-user-add", lock.pk, name="", sex="2")
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not LockUser.objects.exists()

    hotel = make_lock("zigbee_hotel")
    response = owner_client.post(reverse("locks:lock-user-add", args=[hotel.pk]), {"name": "Bo", "sex": "1"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert">This kind of lock takes its people from the owner&#x27;s home in the Tuya app' in html
    assert not LockUser.objects.exists()


def test_access_control_role_and_validity_in_the_property_zone(
    owner_client: Client, make_lock: Any, world: World
) -> None:
    lock = make_lock("access_control")
    joined = world.call(
        "POST", f"/_sim/devices/{lock.device_id}/home-users", {"nick_name": "Cleaner", "role": "normal"}
    )
    assert post(owner_client, "lock-users-sync", lock.pk).status_code == 302
    run_workers()
    user = LockUser.objects.get(lock=lock, cloud_user_id=joined["user_id"])
    assert user.role == "normal"

    data = {
        "role": "admin",
        "valid_from": "2031-03-01T09:00",
        "valid_until": "2031-03-31T18:00",
        "days": ["0", "2"],  # Monday and Wednesday
        "start_time": "09:00",
        "end_time": "12:00",
    }
    assert post(owner_client, "lock-user-edit", user.pk, **data).status_code == 302
    run_workers()
    user.refresh_from_db()
    assert not user.pending, user.failure_reason
    assert user.role == "admin"
    assert user.valid_from.isoformat() == "2031-03-01T08:00:00+00:00"  # 09:00 in Amsterdam (CET)
    assert user.schedule == [{"days": [0, 2], "start_minute": 540, "end_minute": 720}]
    assert cloud_users(world, lock)[user.cloud_user_id]["user_type"] == 10

    # A sync reads the validity back from the cloud unchanged.
    post(owner_client, "lock-users-sync", lock.pk)
    run_workers()
    user.refresh_from_db()
    assert user.valid_until.isoformat() == "2031-03-31T16:00:00+00:00"
    assert user.schedule == [{"days": [0, 2], "start_minute": 540, "end_minute": 720}]

    bad = {**data, "valid_until": "2031-02-01T09:00"}
    response = post(owner_client, "lock-user-edit", user.pk, **bad)
    assert response.status_code == 400
    assert "The validity must end after it starts." in response.content.decode()


# --- enrollment ---------------------------------------------------------------------------------------------------


def test_enroll_fingerprint_with_progress_to_active(owner_client: Client, make_lock: Any, world: World) -> None:
    lock = make_lock("wifi")
    user = add_user(owner_client, lock)
    assert post(owner_client, "lock-user-enroll", user.pk, unlock_type="fingerprint").status_code == 302
    method = UnlockMethod.objects.get(lock_user=user)
    assert method.status == Status.ENROLLING
    run_workers()  # the entry call: the lock is now waiting for a finger

    pushes = press(world, lock, 2)
    for biz_data in pushes:  # what Tuya's message service delivers
        enrollment.record_enrollment_message(lock=lock, progress=push.enrollment_progress(lock.device_id, biz_data))
    method.refresh_from_db()
    assert (method.steps_total, method.steps_left, method.progress) == (4, 2, 50)
    row = owner_client.get(reverse("locks:unlock-method", args=[method.pk]), headers=HTMX).content.decode()
    assert 'value="50"' in row
    assert "2 of 4 presses to go" in row
    assert 'hx-trigger="every 1s"' in row

    press(world, lock, 2)
    method = watch_until_settled(method)
    assert method.status == Status.ACTIVE, method.failure_reason
    on_lock = [m for m in cloud_methods(world, lock) if m["dp_code"] == "unlock_fingerprint"]
    assert [m["unlock_sn"] for m in on_lock] == [method.unlock_sn]
    assert on_lock[0]["user_id"] == user.cloud_user_id
    assert method.progress == 100
    assert world.call(
        "POST", f"/_sim/devices/{lock.device_id}/present", {"type": "fingerprint", "number": method.unlock_sn}
    )["opened"]
    row = owner_client.get(reverse("locks:unlock-method", args=[method.pk]), headers=HTMX).content.decode()
    assert "hx-trigger" not in row
    assert "Active" in row


def test_cancel_enrollment_midway(owner_client: Client, make_lock: Any, world: World) -> None:
    lock = make_lock("wifi")
    user = add_user(owner_client, lock)
    post(owner_client, "lock-user-enroll", user.pk, unlock_type="fingerprint")
    run_workers()
    press(world, lock, 1)
    method = UnlockMethod.objects.get(lock_user=user)
    assert post(owner_client, "unlock-method-action", method.pk, "cancel").status_code == 302
    run_workers()
    method.refresh_from_db()
    assert method.status == Status.CANCELLED
    assert not method.pending
    assert world.call("GET", f"/_sim/devices/{lock.device_id}/enrollment")["enrollment"]["state"] == "cancelled"
    assert not [m for m in cloud_methods(world, lock) if m["dp_code"] == "unlock_fingerprint"]
    # The lock is free again: a new enrollment can start.
    assert post(owner_client, "lock-user-enroll", user.pk, unlock_type="card").status_code == 302
    run_workers()
    assert UnlockMethod.objects.get(lock_user=user, unlock_type="card").status == Status.ENROLLING


# --- methods: duress, rename, assign, unassigned ------------------------------------------------------------------


def enrolled(owner_client: Client, world: World, lock: Lock, user: LockUser, unlock_type: str = "card") -> UnlockMethod:
    post(owner_client, "lock-user-enroll", user.pk, unlock_type=unlock_type)
    run_workers()
    press(world, lock, 1 if unlock_type == "card" else 4)
    method = watch_until_settled(UnlockMethod.objects.get(lock_user=user, unlock_type=unlock_type))
    assert method.status == Status.ACTIVE, method.failure_reason
    return method


def test_duress_on_and_off(owner_client: Client, make_lock: Any, world: World) -> None:
    lock = make_lock("zigbee")
    user = add_user(owner_client, lock)
    card = enrolled(owner_client, world, lock, user)

    assert post(owner_client, "unlock-method-action", card.pk, "duress-on").status_code == 302
    run_workers()
    card.refresh_from_db()
    assert card.duress
    assert not card.pending
    assert [m["hijack"] for m in cloud_methods(world, lock) if m["unlock_sn"] == card.unlock_sn] == [True]

    post(owner_client, "unlock-method-action", card.pk, "duress-off")
    run_workers()
    card.refresh_from_db()
    assert not card.duress
    assert [m["hijack"] for m in cloud_methods(world, lock) if m["unlock_sn"] == card.unlock_sn] == [False]
    assert AuditEvent.objects.filter(action="unlockmethod.duress", object_id=str(card.pk)).count() == 2


def test_rename_on_access_control_reaches_the_cloud(owner_client: Client, make_lock: Any, world: World) -> None:
    lock = make_lock("access_control")
    joined = world.call("POST", f"/_sim/devices/{lock.device_id}/home-users", {"nick_name": "Guard"})
    post(owner_client, "lock-users-sync", lock.pk)
    run_workers()
    user = LockUser.objects.get(cloud_user_id=joined["user_id"])
    card = enrolled(owner_client, world, lock, user)

    post(owner_client, "unlock-method-action", card.pk, "rename", name="Blue badge")
    card.refresh_from_db()
    assert card.pending == {"action": "rename", "name": "Blue badge"}
    run_workers()
    card.refresh_from_db()
    assert card.name == "Blue badge"
    assert not card.pending
    assert [m["name"] for m in cloud_methods(world, lock) if m["opmode_id"] and m["unlock_sn"] == card.unlock_sn] == [
        "Blue badge"
    ]
    # Duress is not an access-control feature: refused in plain words before anything is sent.
    response = owner_client.post(reverse("locks:unlock-method-action", args=[card.pk, "duress-on"]), headers=HTMX)
    assert "Only Wi-Fi, Zigbee and Bluetooth locks can mark a method as duress." in response.content.decode()
    card.refresh_from_db()
    assert not card.pending
    assert not card.duress


def test_unassigned_methods_are_listed_and_can_be_assigned(owner_client: Client, make_lock: Any, world: World) -> None:
    lock = make_lock("wifi")
    user = add_user(owner_client, lock)
    # A card enrolled at the lock itself, by nobody in particular.
    world.call("POST", f"/_sim/devices/{lock.device_id}/methods", {"type": "card", "unlock_sn": 7})
    post(owner_client, "lock-users-sync", lock.pk)
    run_workers()
    card = UnlockMethod.objects.get(lock=lock, unlock_type="card", unlock_sn=7)
    assert card.lock_user is None
    assert card.status == Status.ACTIVE
    page = owner_client.get(reverse("locks:lock-users", args=[lock.pk])).content.decode()
    assert f'id="unassigned-{card.pk}"' in page

    post(owner_client, "unlock-method-action", card.pk, "assign", lock_user=str(user.pk))
    run_workers()
    card.refresh_from_db()
    assert card.lock_user == user
    assert not card.pending
    assert [m["user_id"] for m in cloud_methods(world, lock) if m["unlock_sn"] == 7] == [user.cloud_user_id]
    page = owner_client.get(reverse("locks:lock-users", args=[lock.pk])).content.decode()
    assert f'id="unassigned-{card.pk}"' not in page
    assert f'id="method-{card.pk}"' in page

    post(owner_client, "unlock-method-action", card.pk, "delete")
    run_workers()
    card.refresh_from_db()
    assert card.status == Status.DELETED
    assert not [m for m in cloud_methods(world, lock) if m["unlock_sn"] == 7 and m["dp_code"] == "unlock_card"]


# --- sync ---------------------------------------------------------------------------------------------------------


def test_sync_picks_up_new_users_and_marks_removed_ones(owner_client: Client, make_lock: Any, world: World) -> None:
    lock = make_lock("access_control")
    ann = world.call("POST", f"/_sim/devices/{lock.device_id}/home-users", {"nick_name": "Ann", "role": "admin"})
    bob = world.call("POST", f"/_sim/devices/{lock.device_id}/home-users", {"nick_name": "Bob"})
    post(owner_client, "lock-users-sync", lock.pk)
    run_workers()
    names = {u.name: u for u in LockUser.objects.filter(lock=lock)}
    assert {"Ann", "Bob"} <= set(names)
    assert names["Ann"].role == "admin"
    assert names["Bob"].removed_at is None

    world.call("DELETE", f"/_sim/devices/{lock.device_id}/home-users/{bob['user_id']}")
    post(owner_client, "lock-users-sync", lock.pk)
    run_workers()
    bob_row = LockUser.objects.get(cloud_user_id=bob["user_id"])
    assert bob_row.removed_at is not None
    assert LockUser.objects.get(cloud_user_id=ann["user_id"]).removed_at is None
    page = owner_client.get(reverse("locks:lock-users", args=[lock.pk])).content.decode()
    assert "No longer on the lock" in page


# --- errors, scoping, roles ---------------------------------------------------------------------------------------


def test_tuya_error_is_shown_in_plain_words(owner_client: Client, make_lock: Any, world: World) -> None:
    lock = make_lock("wifi")
    user = add_user(owner_client, lock)
    world.fault(endpoint="method_entry", kind="tuya_code", code=2001, count=1)
    post(owner_client, "lock-user-enroll", user.pk, unlock_type="fingerprint")
    run_workers()
    method = UnlockMethod.objects.get(lock_user=user)
    assert method.status == Status.FAILED
    # The lock reports online, so 2001 is not "check its power" (#11 D.16; tests/locks/test_unreachable_words.py).
    assert method.failure_reason.startswith("The lock is online but asleep")

    card = enrolled(owner_client, world, lock, user)
    world.fault(endpoint="hijack_set", kind="tuya_code", code=1106, count=1)
    post(owner_client, "unlock-method-action", card.pk, "duress-on")
    run_workers()  # the worker records the refusal instead of crashing
    card.refresh_from_db()
    assert not card.duress
    assert not card.pending
    assert "Authorise this API for the cloud project" in card.failure_reason
    page = owner_client.get(reverse("locks:lock-users", args=[lock.pk])).content.decode()
    assert "The lock is online but asleep" in page
    assert "Authorise this API for the cloud project" in page


def test_other_organisations_ids_are_404(client: Client, make_lock: Any, django_user_model: Any) -> None:
    lock = make_lock("wifi")
    user = LockUser.objects.create(organisation=lock.organisation, lock=lock, name="Ada", cloud_user_id="1")
    method = UnlockMethod.objects.create(
        organisation=lock.organisation, lock=lock, lock_user=user, unlock_type="card", unlock_sn=1, status="active"
    )
    other = Organisation.objects.create(name="Other", slug="other")
    stranger = django_user_model.objects.create_user("stranger", password="pw-stranger-1")
    Membership.objects.create(user=stranger, organisation=other, role=Role.OWNER)
    client.force_login(stranger)
    assert client.get(reverse("locks:lock-users", args=[lock.pk])).status_code == 404
    assert client.get(reverse("locks:unlock-method", args=[method.pk])).status_code == 404
    assert client.get(reverse("locks:lock-user-edit", args=[user.pk])).status_code == 404
    for name, args, data in [
        ("lock-user-add", [lock.pk], {"name": "X", "sex": "1"}),
        ("lock-users-sync", [lock.pk], {}),
        ("lock-user-delete", [user.pk], {}),
        ("lock-user-enroll", [user.pk], {"unlock_type": "card"}),
        ("unlock-method-action", [method.pk, "duress-on"], {}),
    ]:
        assert client.post(reverse(f"locks:{name}", args=args), data).status_code == 404, name
    assert LockUser.objects.count() == 1
    assert not UnlockMethod.objects.exclude(pk=method.pk).exists()


def test_viewer_sees_but_cannot_act(client: Client, org: Organisation, make_lock: Any, django_user_model: Any) -> None:
    lock = make_lock("wifi")
    user = LockUser.objects.create(organisation=org, lock=lock, name="Ada", cloud_user_id="1")
    method = UnlockMethod.objects.create(
        organisation=org, lock=lock, lock_user=user, unlock_type="card", unlock_sn=1, status="active"
    )
    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-1")
    Membership.objects.create(user=viewer, organisation=org, role=Role.VIEWER)
    client.force_login(viewer)
    page = client.get(reverse("locks:lock-users", args=[lock.pk])).content.decode()
    assert "Ada" in page
    assert "Start enrollment" not in page
    assert "Sync from the cloud" not in page
    assert client.post(reverse("locks:lock-user-enroll", args=[user.pk]), {"unlock_type": "card"}).status_code == 403
    assert client.post(reverse("locks:unlock-method-action", args=[method.pk, "delete"])).status_code == 403
    assert client.post(reverse("locks:lock-user-add", args=[lock.pk]), {"name": "X", "sex": "1"}).status_code == 403
    assert LockUser.objects.count() == 1
    assert UnlockMethod.objects.get().status == "active"


def test_unsafe_requests_need_csrf(owner: Any, make_lock: Any) -> None:
    lock = make_lock("wifi")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(reverse("locks:lock-user-add", args=[lock.pk]), {"name": "X", "sex": "1"}).status_code == 403
    assert not LockUser.objects.exists()


def test_an_enrollment_whose_watch_was_lost_gets_a_new_one_from_the_sweep(
    owner_client: Client, make_lock: Any, world: World
) -> None:
    import django_rq

    from locks import jobs, queues

    lock = make_lock("wifi")
    user = add_user(owner_client, lock)
    post(owner_client, "lock-user-enroll", user.pk, unlock_type="fingerprint")
    run_workers()  # the entry call; its watch chain is now scheduled
    method = UnlockMethod.objects.get(lock_user=user)
    assert jobs.sweep_enrollments() == 0  # the chain is alive: nothing to restart
    queue = django_rq.get_queue("codes")
    for job_id in queue.scheduled_job_registry.get_job_ids():  # lost, as with a flushed Redis
        queue.scheduled_job_registry.remove(job_id, delete_job=True)
    queue.connection.delete(queues.watch_marker(method.pk))  # and its marker lapsed
    assert jobs.sweep_enrollments() == 1
    assert jobs.sweep_enrollments() == 0  # once
    press(world, lock, 4)
    method = watch_until_settled(method)
    assert method.status == Status.ACTIVE, method.failure_reason
