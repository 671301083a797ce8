"""Round trips through the simulator and the workers, driven by an API key: someone rings, the PMS looks at the
photo and opens the door; an offline code asked for, carried out by the cloud, revealed and typed on the lock."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from audit.models import AuditEvent
from locks.models import RemoteUnlockRequest
from tenants.models import Organisation
from tests.api.conftest import ApiClient, hours
from tests.locks.conftest import World, run_workers
from tests.locks.test_remote_unlock import app_unlocks, at_the_door, ring

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_pms_sees_who_rang_and_opens_the_door(make_lock: Any, world: World, make_key: Any) -> None:
    lock = make_lock("wifi_video")
    request = ring(world, lock)
    key, secret = make_key(["read", "remote-unlock"])
    api = ApiClient(secret)
    [waiting] = api.get("/remote-unlock-requests?status=pending").json()["items"]
    assert (waiting["id"], waiting["lock_id"], waiting["event_id"]) == (request.pk, lock.pk, request.event_id)
    [photo] = waiting["photos"]
    assert photo["status"] == "done"
    event = api.get(f"/events/{request.event_id}").json()
    assert (event["classification"], event["photos"]) == ("doorbell", [photo])
    picture = api.get(photo["url"].removeprefix("/api/v1"))
    assert picture.status_code == 200
    assert picture["Content-Type"].startswith("image/")
    Image.open(io.BytesIO(picture.getvalue())).verify()  # the decrypted photo, not the cloud's ciphertext
    assert ApiClient(None).get(photo["url"].removeprefix("/api/v1")).status_code == 401
    other = Organisation.objects.create(name="Other", slug="other")
    stranger = ApiClient(make_key(organisation=other)[1])
    assert stranger.get(photo["thumbnail_url"].removeprefix("/api/v1")).status_code == 404
    assert stranger.post(f"/remote-unlock-requests/{request.pk}/approve").status_code == 404

    approving = api.post(f"/remote-unlock-requests/{request.pk}/approve", headers={"Idempotency-Key": "ring-1"})
    assert approving.json()["status"] == "approving"
    replay = api.post(f"/remote-unlock-requests/{request.pk}/approve", headers={"Idempotency-Key": "ring-1"})
    assert replay["Idempotent-Replayed"] == "true"
    run_workers()
    assert api.get(f"/remote-unlock-requests/{request.pk}").json()["status"] == "approved"
    assert at_the_door(world, lock)["status"] == "approved"
    assert app_unlocks(world, lock) == 1
    trail = AuditEvent.objects.get(action="lock.remote_unlock")
    assert (trail.api_key_id, trail.actor_id, trail.object_id) == (key.pk, None, str(request.pk))


def test_the_pms_turns_someone_away(make_lock: Any, world: World, make_key: Any) -> None:
    lock = make_lock("wifi")  # the lock is told (the spec's revoke call is for Wi-Fi locks)
    request = ring(world, lock)
    api = ApiClient(make_key(["read", "remote-unlock"])[1])
    assert api.post(f"/remote-unlock-requests/{request.pk}/reject").json()["status"] == "rejected"
    run_workers()
    assert at_the_door(world, lock)["status"] == "rejected"
    assert app_unlocks(world, lock) == 0
    assert api.post(f"/remote-unlock-requests/{request.pk}/approve").status_code == 409
    run_workers()
    assert app_unlocks(world, lock) == 0
    assert RemoteUnlockRequest.objects.get(pk=request.pk).status == "rejected"


def test_an_offline_code_from_the_api_opens_the_offline_lock(make_lock: Any, world: World, make_key: Any) -> None:
    lock = make_lock("wifi")
    world.online(lock.device_id, False)
    key, secret = make_key(["read", "codes", "reveal-pins"])
    api = ApiClient(secret)
    asked = api.post(
        f"/locks/{lock.pk}/offline-codes",
        {"kind": "multiple", "label": "Plumber", "starts_at": hours(-1), "ends_at": hours(26)},
    )
    assert asked.status_code == 201
    operation_id = asked.json()["id"]
    run_workers()
    done = api.get(f"/lock-operations/{operation_id}").json()
    assert (done["status"], done["has_code"], done["failure_reason"]) == ("done", True, "")
    assert done["valid_from"] < done["valid_until"]
    code = api.post(f"/lock-operations/{operation_id}/reveal").json()["code"]
    assert world.opens(lock.device_id, code)
    assert AuditEvent.objects.filter(action="lock.secret_reveal", api_key=key).count() == 1

    cleared = api.post(f"/locks/{lock.pk}/offline-codes", {"kind": "clear_one", "clears": operation_id}).json()
    run_workers()
    clearing = api.post(f"/lock-operations/{cleared['id']}/reveal").json()["code"]
    assert not world.opens(lock.device_id, clearing)  # typing the clearing code clears, it does not open
    assert not world.opens(lock.device_id, code)


def test_a_dynamic_code_from_the_api_opens_the_door(make_lock: Any, world: World, make_key: Any) -> None:
    lock = make_lock("zigbee")
    api = ApiClient(make_key(["read", "codes", "reveal-pins"])[1])
    operation_id = api.post(f"/locks/{lock.pk}/dynamic-code").json()["id"]
    run_workers()
    done = api.get(f"/lock-operations/{operation_id}").json()
    assert (done["kind"], done["status"]) == ("dynamic", "done")
    assert done["valid_until"] is not None
    assert world.opens(lock.device_id, api.post(f"/lock-operations/{operation_id}/reveal").json()["code"])
