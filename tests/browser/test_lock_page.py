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
from tests.browser.conftest import log_in, screenshot
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


def _code(lock: Lock, label: str) -> AccessCode:
    now = timezone.now()
    return AccessCode.objects.create(
        organisation=lock.organisation, lock=lock, label=label, pin="1234567", status=AccessCode.Status.SET,
        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=1), time_zone="Europe/Amsterdam",
    )  # fmt: skip


def test_delete_and_clear_all_ask_first_also_without_javascript(
    browser: Any, live_server: Any, owner_user: Any, make_lock: Callable[..., Lock]
) -> None:
    lock = make_lock("zigbee_hotel")
    code = _code(lock, "Ada")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, *OWNER)
        page.goto(f"/locks/{lock.pk}/")
        page.locator(f"#code-{code.pk}").get_by_role("button", name="Delete").click()
        expect(page.get_by_role("heading", name="Remove the code “Ada” from the lock?")).to_be_visible()
        screenshot(page, "lock-delete-confirm")
        code.refresh_from_db()
        assert code.desired == AccessCode.Desired.ACTIVE  # only asked
        page.get_by_role("link", name="No, keep the code").click()
        page.locator(f"#code-{code.pk}").get_by_role("button", name="Delete").click()
        page.get_by_role("button", name="Yes, remove the code").click()
        expect(page.locator("main")).to_contain_text("Ada: Removing")
        code.refresh_from_db()
        assert code.desired == AccessCode.Desired.REMOVED
        page.get_by_role("button", name="Clear all codes").click()
        expect(page.get_by_role("heading", name="Remove every temporary code from this hotel lock?")).to_be_visible()
        assert not LockOperation.objects.exists()
        page.get_by_role("button", name="Yes, clear all codes").click()
        expect(page.locator("main")).to_contain_text("requested")
        assert LockOperation.objects.get().kind == LockOperation.Kind.CLEAR_ALL
    finally:
        context.close()


def test_with_javascript_the_browser_asks_and_the_row_is_swapped_in_place(
    signed_in: Callable[..., Any], owner_user: Any, make_lock: Callable[..., Lock]
) -> None:
    lock = make_lock("zigbee")
    code = _code(lock, "Ada")
    page = signed_in(*OWNER)
    violations = watch_violations(page)
    page.goto(f"/locks/{lock.pk}/")
    row = page.locator(f"#code-{code.pk}")
    page.once("dialog", lambda dialog: dialog.dismiss())  # "Remove the code “Ada” from the lock?": no
    row.get_by_role("button", name="Delete").click()
    page.wait_for_timeout(300)
    code.refresh_from_db()
    assert code.desired == AccessCode.Desired.ACTIVE
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(row).to_contain_text("Removing")  # the row, swapped by htmx: no confirm page
    assert page.url.endswith(f"/locks/{lock.pk}/")
    code.refresh_from_db()
    assert code.desired == AccessCode.Desired.REMOVED
    assert violations == []
