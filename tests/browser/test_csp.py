"""The Content-Security-Policy in a real browser: the pages, htmx polling and swaps, the organisation switcher and
the admin run without a single violation (no inline script, handler or style slips through unsigned)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from locks import codes
from locks.models import AccessCode, Lock
from tenants.models import Membership, Organisation, Role
from tests.browser.conftest import with_app
from tests.locks.conftest import window

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
OWNER = ("csp-owner", "pw-csp-owner-1")


def watch_violations(page: Any) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(f"{page.url}: {msg.text}") if "Content Security Policy" in msg.text else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation',"
        " (e) => console.error('Content Security Policy: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return violations


def test_pages_and_htmx_run_without_csp_violations(
    signed_in: Callable[..., Any],
    org: Organisation,
    django_user_model: Any,
    make_lock: Callable[..., Lock],
    workers: None,
) -> None:
    user = django_user_model.objects.create_user(OWNER[0], password=OWNER[1], is_staff=True, is_superuser=True)
    with_app(user)  # staff pass a second factor (their code is typed in the second step)
    Membership.objects.create(user=user, organisation=org, role=Role.OWNER)
    second = Organisation.objects.create(name="Harbour Flats", slug="harbour")
    Membership.objects.create(user=user, organisation=second, role=Role.MANAGER)
    lock = make_lock("zigbee")
    starts, ends = window()
    codes.issue_access_code(lock=lock, label="Polling", starts_at=starts, ends_at=ends)

    page = signed_in(*OWNER)
    violations = watch_violations(page)
    page.goto(f"/locks/{lock.pk}/")
    # The code row polls (htmx) until the lock confirms; then the row says so.
    expect(page.locator("main")).to_contain_text("Polling")
    # A locator, not wait_for_function: its string predicate is evaluated in the page, which this very CSP forbids
    # (it failed whenever the first check came too early and Playwright had to poll).
    expect(page.locator(f"#code-{AccessCode.objects.get().pk}[hx-trigger]")).to_have_count(0, timeout=30_000)
    page.goto(f"/locks/{lock.pk}/users/")  # its inline <style> carries the nonce
    expect(page.locator(".method-progress, main").first).to_be_visible()
    page.goto("/activity/")
    page.goto("/desk/")
    page.goto("/admin/")
    # The favicon (#11 C.19): linked from the admin as from the app's pages, and served from the app itself.
    assert page.request.get(page.locator('link[rel="icon"]').get_attribute("href") or "").status == 200
    page.goto("/django-rq/")
    page.goto("/tuya-sim/_sim/")
    page.goto("/portfolio/")
    page.get_by_label("Organisation").select_option(label="Harbour Flats")  # the handler lives in app.js now
    page.wait_for_load_state("networkidle")
    expect(page.locator(".account")).to_contain_text("Manager")
    page.goto("/portfolio/")
    assert violations == []
