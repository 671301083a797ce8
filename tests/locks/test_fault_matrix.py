"""Every fault the simulator injects × every code operation ends in the right state, and the user is told.

The fault hits the operation's endpoint once; then the code is converged as the sweeper would do it
(each attempt a fresh run). Afterwards the lock holds exactly what we want, exactly once.
"""

import pytest

from locks import codes, convergence, pins
from locks.models import AccessCode
from tests.locks.conftest import run_workers, window

pytestmark = pytest.mark.django_db(transaction=True)
Status = AccessCode.Status

FAULTS = {
    "latency": {"kind": "latency", "latency_ms": 300},
    "http_500": {"kind": "http_500"},
    "token_expired_1010": {"kind": "tuya_code", "code": 1010},
    "rate_limited_1199": {"kind": "tuya_code", "code": 1199},
    "offline_2001": {"kind": "tuya_code", "code": 2001},
    "system_error_500": {"kind": "tuya_code", "code": 500},
    "reply_lost": {"kind": "lost_reply"},
}


def converge_until_settled(code, attempts=5):
    for _ in range(attempts):
        convergence.converge_access_code(code.pk)
        code.refresh_from_db()
        if code.is_settled and not code.needs_modify and code.status == _wanted(code):
            break
    return code


def _wanted(code):
    return {"active": Status.SET, "frozen": Status.FROZEN, "removed": Status.REMOVED}[code.desired]


def set_code(lock, capture):
    starts, ends = window()
    with capture(execute=True):
        code = codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends)
    run_workers()
    code.refresh_from_db()
    assert code.status == Status.SET
    return code


@pytest.mark.parametrize("fault", list(FAULTS))
def test_create(make_lock, world, fault):
    lock = make_lock("zigbee")
    world.fault(endpoint="temp_password_create", count=1, **FAULTS[fault])
    starts, ends = window()
    code = codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends)
    convergence.converge_access_code(code.pk)
    code.refresh_from_db()
    if code.status != Status.SET:
        assert code.failure_reason, "a code that is not set yet says why"
    code = converge_until_settled(code)
    assert code.status == Status.SET, code.failure_reason
    assert len(world.passwords(lock.device_id)) == 1
    assert world.opens(lock.device_id, code.pin)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_modify(make_lock, world, fault, django_capture_on_commit_callbacks):
    lock = make_lock("zigbee")
    code = set_code(lock, django_capture_on_commit_callbacks)
    old_pin, new_pin = code.pin, pins.generate_pin(lock)
    world.fault(endpoint="temp_password_modify", count=1, **FAULTS[fault])
    codes.change_access_code(code, pin=new_pin)
    code = converge_until_settled(code)
    assert (code.status, code.needs_modify) == (Status.SET, False), code.failure_reason
    assert world.opens(lock.device_id, new_pin)
    assert not world.opens(lock.device_id, old_pin)
    assert len(world.passwords(lock.device_id)) == 1


@pytest.mark.parametrize("fault", list(FAULTS))
def test_freeze_and_unfreeze(make_lock, world, fault, django_capture_on_commit_callbacks):
    lock = make_lock("zigbee")
    code = set_code(lock, django_capture_on_commit_callbacks)
    world.fault(endpoint="temp_password_freeze", count=1, **FAULTS[fault])
    codes.freeze_access_code(code)
    code = converge_until_settled(code)
    assert code.status == Status.FROZEN, code.failure_reason
    assert not world.opens(lock.device_id, code.pin)
    world.fault(endpoint="temp_password_unfreeze", count=1, **FAULTS[fault])
    codes.unfreeze_access_code(code)
    code = converge_until_settled(code)
    assert code.status == Status.SET, code.failure_reason
    assert world.opens(lock.device_id, code.pin)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_delete(make_lock, world, fault, django_capture_on_commit_callbacks):
    lock = make_lock("wifi")
    code = set_code(lock, django_capture_on_commit_callbacks)
    world.fault(endpoint="temp_password_delete", count=1, **FAULTS[fault])
    codes.remove_access_code(code)
    code = converge_until_settled(code)
    assert code.status == Status.REMOVED, code.failure_reason
    assert not world.opens(lock.device_id, code.pin)
