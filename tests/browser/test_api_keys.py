"""An owner makes an API key in the browser, a script uses it, the owner revokes it; the API's docs page runs
under the Content-Security-Policy."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tenants.models import ApiKey, Membership, Organisation, Role
from tests.browser.conftest import screenshot
from tests.browser.test_csp import watch_violations

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
OWNER = ("keys-owner", "pw-keys-owner-1")


def api_status(base: str, secret: str) -> int:
    request = urllib.request.Request(base + "/api/v1/properties", headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.loads(response.read())
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_an_owner_makes_uses_and_revokes_a_key(
    signed_in: Callable[..., Any], org: Organisation, django_user_model: Any, live_server: Any
) -> None:
    user = django_user_model.objects.create_user(OWNER[0], password=OWNER[1])
    Membership.objects.create(user=user, organisation=org, role=Role.OWNER)
    page = signed_in(*OWNER)
    violations = watch_violations(page)
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    page.get_by_label("Name").fill("Opera PMS")
    page.get_by_label("Book, change, check in, check out and cancel stays").check()
    page.get_by_role("button", name="Make the key").click()
    secret = page.locator("#new-key-secret").inner_text()
    assert secret.startswith("doors_")
    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    screenshot(page, "api-keys-new")
    assert api_status(live_server.url, secret) == 200
    assert ApiKey.objects.get().scopes == ["read", "stays"]

    page.reload()  # sends the form again: the same key, not a second one, and its secret is not shown again
    expect(page.get_by_text("was made when this form was first sent")).to_be_visible()
    assert ApiKey.objects.count() == 1
    page.goto("/integrations/api-keys/")
    expect(page.locator("#new-key-secret")).to_have_count(0)
    page.get_by_role("button", name="Revoke…").click()
    expect(page.get_by_role("heading", name="Revoke the key “Opera PMS”", exact=False)).to_be_visible()
    page.get_by_role("button", name="Revoke the key").click()
    expect(page.locator("main")).to_contain_text("Revoked")
    assert api_status(live_server.url, secret) == 401
    assert not violations, violations


def test_the_api_docs_page_runs_under_the_csp(new_page: Callable[..., Any]) -> None:
    page = new_page()
    violations = watch_violations(page)
    page.goto("/api/v1/docs")
    expect(page.get_by_text("Doors API").first).to_be_visible()
    expect(page.get_by_text("/api/v1/stays").first).to_be_visible()
    screenshot(page, "api-docs")
    assert not violations, violations
