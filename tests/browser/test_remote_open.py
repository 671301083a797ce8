"""Opening a door from its lock page in a real browser (#11 D.16): a manager confirms, the worker sends the
password-free unlock to the simulator, and the page shows the lock's answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from audit.models import AuditEvent
from locks.models import Lock
from tenants.models import Membership, Organisation, Role
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
MANAGER = ("manager", "pw-manager-1")
SETTLE = 30_000  # ms: a ceiling, the worker thread runs jobs every 0.2 s


@pytest.fixture
def manager(org: Organisation, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user(MANAGER[0], password=MANAGER[1])
    Membership.objects.create(user=user, organisation=org, role=Role.MANAGER)
    return user


def test_a_manager_opens_the_door_from_the_lock_page(
    signed_in: Callable[..., Any], manager: Any, make_lock: Callable[..., Lock], world: Any, workers: None
) -> None:
    lock = make_lock("zigbee")
    page = signed_in(*MANAGER)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"/locks/{lock.pk}/")
    section = page.locator("#remote-open")
    expect(section.get_by_role("heading", name="Open the door")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())  # "Open Room 12 (zigbee) now?"
    section.get_by_role("button", name="Open the door now").click()
    expect(page.locator("#remote-open-result")).to_contain_text("Door opened", timeout=SETTLE)
    events = world.call("GET", f"/_sim/devices/{lock.device_id}/events")["events"]
    assert [e["kind"] for e in events].count("unlock_app") == 1
    assert AuditEvent.objects.filter(action="lock.remote_unlock", actor=manager).count() == 1
    assert not errors, errors
    screenshot(page, "lock-remote-open")


def test_dismissing_the_confirmation_opens_nothing(
    signed_in: Callable[..., Any], manager: Any, make_lock: Callable[..., Lock], world: Any, workers: None
) -> None:
    lock = make_lock("wifi_keepalive")
    page = signed_in(*MANAGER)
    page.goto(f"/locks/{lock.pk}/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("#remote-open").get_by_role("button", name="Open the door now").click()
    page.wait_for_timeout(1000)
    expect(page.locator("#remote-open-result")).to_have_count(0)
    events = world.call("GET", f"/_sim/devices/{lock.device_id}/events")["events"]
    assert not [e for e in events if e["kind"] == "unlock_app"]
