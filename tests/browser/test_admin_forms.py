"""The staff admin's add pages in a real browser (#11 D.17): the dashboard's forms laid out like the admin's own, the
zone their times are read in named, no stray hidden field label, and a superuser of no organisation finds the admin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from tenants.models import Membership, Organisation, Property, Role
from tests.browser.conftest import screenshot, with_app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
STAFF = ("staffer", "pw-staffer-1")


@pytest.fixture
def staffer(org: Organisation, unit: Any, django_user_model: Any) -> Any:
    Property.objects.filter(organisation=org).update(time_zone="Europe/Amsterdam")
    user = django_user_model.objects.create_user(STAFF[0], password=STAFF[1], is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["tenants", "audit", "locks"]))
    Membership.objects.create(user=user, organisation=org, role=Role.OWNER)
    return with_app(user)  # staff pass a second factor for the admin


def test_the_issue_a_code_form_in_the_admin(signed_in: Callable[..., Any], staffer: Any, make_lock: Any) -> None:
    make_lock("zigbee")
    page = signed_in(*STAFF)
    page.goto("/admin/locks/accesscode/add/")
    expect(page.get_by_role("heading", name="Issue a door code")).to_be_visible()
    expect(page.locator("#content")).not_to_contain_text("Request token")
    expect(page.locator(".zone-note").first).to_contain_text("Europe/Amsterdam")
    days = page.locator(".service-form #id_schedule_days > div")
    assert days.count() == 7
    tops = {round(days.nth(i).bounding_box()["y"]) for i in range(7)}
    assert len(tops) == 1, f"the weekday checkboxes sit on one row, not {len(tops)}"
    screenshot(page, "admin-issue-code")


def test_a_superuser_of_no_organisation_finds_the_admin(
    new_page: Callable[..., Any], django_user_model: Any, live_server: Any
) -> None:
    from tests.browser.conftest import log_in

    with_app(django_user_model.objects.create_superuser("root", password="pw-root-1"))
    page = new_page()
    log_in(page, "root", "pw-root-1")
    page.goto("/")
    expect(page.locator("main")).to_contain_text("not a member of any organisation")
    page.get_by_role("link", name="Open the staff admin").click()
    expect(page).to_have_url(f"{live_server.url}/admin/")
