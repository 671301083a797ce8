"""Tuya's "device offline" (2001) is about the moment of a call; the lock's own last report says whether it has power.
Every failure a person reads (a code, a lock operation, an unlock method, a remote unlock) says "check its power"
only for a lock we know offline (#11 D.16)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from locks import codes, operations, remote
from locks.models import AccessCode, Lock, LockOperation, UnlockMethod
from tests.locks.conftest import World, run_workers, window
from tests.locks.test_lock_users import add_user, post

pytestmark = pytest.mark.django_db(transaction=True)


def _code(client: Client, lock: Lock, owner: Any) -> str:
    starts, ends = window()
    code = codes.issue_access_code(lock=lock, label="Guest", starts_at=starts, ends_at=ends, actor=owner)
    run_workers()
    return AccessCode.objects.get(pk=code.pk).failure_reason


def _operation(client: Client, lock: Lock, owner: Any) -> str:
    operation = operations.request_dynamic_password(lock=lock, actor=owner)
    run_workers()
    return LockOperation.objects.get(pk=operation.pk).failure_reason


def _remote_open(client: Client, lock: Lock, owner: Any) -> str:
    request = remote.open_from_lock_page(lock, actor=owner)
    run_workers()
    request.refresh_from_db()
    return request.failure_reason


PATHS: dict[str, Callable[[Client, Lock, Any], str]] = {
    "code": _code,
    "operation": _operation,
    "enrollment": lambda client, lock, owner: "",  # the person is added before the cloud refuses: below
    "remote open": _remote_open,
}


@pytest.mark.parametrize("online", [True, False], ids=["online", "offline"])
@pytest.mark.parametrize("path", PATHS)
def test_device_offline_says_check_its_power_only_for_a_lock_known_offline(
    owner_client: Client, owner: Any, make_lock: Any, world: World, path: str, online: bool
) -> None:
    lock = make_lock("zigbee")
    Lock.objects.filter(pk=lock.pk).update(online=online)
    lock.refresh_from_db()
    if path == "enrollment":
        reason = _enrollment_with_fault(owner_client, lock, world)
    else:
        world.fault(kind="tuya_code", code=2001, device_id=lock.device_id)
        reason = PATHS[path](owner_client, lock, owner)
    assert reason, "the failure is shown"
    if online:
        assert "power" not in reason, reason
        assert "reports online" in reason or "asleep" in reason, reason
    else:
        assert "offline" in reason.lower(), reason


def _enrollment_with_fault(client: Client, lock: Lock, world: World) -> str:
    user = add_user(client, lock)
    world.fault(endpoint="method_entry", kind="tuya_code", code=2001, device_id=lock.device_id)
    post(client, "lock-user-enroll", user.pk, unlock_type="fingerprint")
    run_workers()
    return UnlockMethod.objects.get(lock_user=user).failure_reason


def test_the_lock_page_shows_an_online_lock_it_could_not_reach_without_check_its_power(
    owner_client: Client, owner: Any, make_lock: Any, world: World
) -> None:
    lock = make_lock("zigbee")
    world.fault(kind="tuya_code", code=2001, device_id=lock.device_id)
    remote.open_from_lock_page(lock, actor=owner)
    run_workers()
    page = owner_client.get(reverse("locks:lock", args=[lock.pk])).content.decode()
    assert "Online" in page
    assert "2001" in page
    assert "check its power" not in page
