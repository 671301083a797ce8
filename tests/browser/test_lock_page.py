"""The lock page in a real browser (issue 11, D.15 and D.18): a weekly code that could never open is refused beside
its days, weekly codes get months of validity, and an offline password shows its rounded window after issuing
without a single Content-Security-Policy violation."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from locks.models import AccessCode, Lock, LockOperation
from tenants.models import Membership, Organisation, Role
from tests.browser.conftest import screenshot
from tests.browser.test_csp import watch_violations

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
OWNER = ("lock-owner", "pw-lock-owner-1")
SETTLE = 30_000
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
AMS = zoneinfo.ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def owner_user(org: Organisation, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user(OWNER[0], password=OWNER[1])
    Membership.objects.create(user=user, organisation=org, role=Role.OWNER)
    return user


def test_a_weekly_code_that_could_never_open_is_refused_and_weekly_codes_get_months(
    signed_in: Callable[..., Any], owner_user: Any, make_lock: Callable[..., Lock], workers: None
) -> None:
    lock = make_lock("wifi")
    page = signed_in(*OWNER)
    violations = watch_violations(page)
    page.goto(f"/locks/{lock.pk}/")
    form = page.locator("#issue-form")
    until = form.get_by_label("Valid until")
    one_day = until.input_value()
    form.get_by_label("Kind").select_option("weekly")
    proposed = until.input_value()
    assert proposed > one_day
    assert proposed[:10] >= (timezone.now() + timedelta(days=80)).astimezone(AMS).strftime("%Y-%m-%d")
    # Back to the one-day default: two days that are neither today nor tomorrow in Amsterdam.
    until.fill(one_day)
    today = timezone.now().astimezone(AMS).weekday()
    never = [WEEKDAYS[(today + 2) % 7], WEEKDAYS[(today + 4) % 7]]
    form.get_by_label("Name", exact=True).fill("Cleaner")
    for day in never:
        form.get_by_label(day).check()
    form.get_by_label("From", exact=True).fill("09:00")
    form.get_by_label("Until", exact=True).fill("12:00")
    form.get_by_role("button", name="Issue code").click()
    expect(page.locator("#issue-form .days")).to_contain_text("could never open")
    screenshot(page, "lock-weekly-refused")
    assert not AccessCode.objects.exists()
    # With the proposed months it is issued.
    page.locator("#issue-form").get_by_label("Valid until").fill(proposed)
    page.locator("#issue-form").get_by_role("button", name="Issue code").click()
    row = page.locator("#code-table tbody tr", has_text="Cleaner")
    expect(row.get_by_test_id("status")).to_have_text("On the lock", timeout=SETTLE)
    assert violations == []


def test_an_offline_password_shows_its_rounded_window_and_breaks_no_csp_rule(
    signed_in: Callable[..., Any], owner_user: Any, make_lock: Callable[..., Lock], workers: None
) -> None:
    lock = make_lock("wifi")
    page = signed_in(*OWNER)
    violations = watch_violations(page)
    page.goto(f"/locks/{lock.pk}/")
    # A one-use password first, then a refused one: each answer swaps the panel, as a clerk's second try does.
    page.locator("#offline").get_by_label("Type").select_option("once")
    page.locator("#offline").get_by_role("button", name="Issue offline password").click()
    expect(page.locator("#operations-panel tbody tr").first).to_contain_text("Done", timeout=SETTLE)
    # A screenshot, like an extension or autofill, leaves an empty style="" on the inputs; htmx copied it onto the
    # swapped-in inputs (its "settle"), which the CSP refused three times per issue (issue 11, D.18).
    screenshot(page, "lock-offline-once")
    page.locator("#offline").get_by_label("Type").select_option("multiple")
    page.locator("#offline").get_by_role("button", name="Issue offline password").click()
    expect(page.locator("#operations-panel .flash.error")).to_contain_text("needs a start and an end")
    offline = page.locator("#offline")
    start = (timezone.now() + timedelta(hours=1)).astimezone(AMS).replace(minute=20)
    end = start + timedelta(hours=5)
    offline.get_by_label("For", exact=True).fill("Plumber")
    offline.get_by_label("Valid from").fill(start.strftime("%Y-%m-%dT%H:%M"))
    offline.get_by_label("Valid until").fill(end.strftime("%Y-%m-%dT%H:%M"))
    expect(page.locator("#offline-preview")).to_contain_text(f"{start:%H}:00")
    page.locator("#offline").get_by_role("button", name="Issue offline password").click()
    row = page.locator("#operations-panel tbody tr", has_text="Plumber")
    expect(row).to_contain_text("Done", timeout=SETTLE)
    window = row.get_by_test_id("window")
    expect(window).to_contain_text(f"{start.day} {start:%b} {start:%H}:00 – ")
    expect(window).to_contain_text(f"{end:%H}:00")
    expect(window).to_contain_text("Europe/Amsterdam")
    screenshot(page, "lock-offline-issued")
    row.get_by_role("button", name="Show code").click()
    expect(row.get_by_test_id("secret")).not_to_be_empty()
    operation = LockOperation.objects.get(label="Plumber")
    assert operation.status == LockOperation.Status.DONE
    page.wait_for_timeout(500)
    assert violations == []
