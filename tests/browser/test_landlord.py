"""The landlord in a real browser: the portfolio, a weekly-schedule code issued on the lock page that opens the
door, freeze and unfreeze from the lock page with the lock's word for it, the organisation switcher."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from locks import codes
from locks.models import AccessCode, Lock
from tenants.models import Membership, Organisation, Role
from tests.browser.conftest import PHONE, screenshot
from tests.locks.conftest import window

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
OWNER = ("landlord", "pw-landlord-1")
SETTLE = 30_000  # ms: the simulator delivers in 0.2 s; this is only a ceiling
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@pytest.fixture
def landlord(org: Organisation, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user(OWNER[0], password=OWNER[1])
    Membership.objects.create(user=user, organisation=org, role=Role.OWNER)
    return user


def test_a_weekly_schedule_code_from_the_lock_page_reaches_the_lock_and_opens_the_door(
    signed_in: Callable[..., Any], landlord: Any, make_lock: Callable[..., Lock], world: Any, workers: None
) -> None:
    lock = make_lock("zigbee")
    page = signed_in(*OWNER)
    expect(page).to_have_url(f"{page.url.split('/portfolio/')[0]}/portfolio/")  # a landlord starts here
    screenshot(page, "portfolio-desktop")
    page.get_by_role("link", name="Canal Hotel").first.click()
    page.get_by_role("link", name=lock.name).click()

    today = WEEKDAYS[timezone.now().astimezone(zoneinfo.ZoneInfo("Europe/Amsterdam")).weekday()]
    form = page.locator("#issue-form")
    form.get_by_label("Name", exact=True).fill("Cleaner")
    form.get_by_label("Kind").select_option("weekly")
    form.get_by_label(today).check()
    form.get_by_label("From", exact=True).fill("00:00")
    form.get_by_label("Until", exact=True).fill("00:00")  # until midnight: the whole day
    screenshot(page, "lock-issue-weekly-filled")
    form.get_by_role("button", name="Issue code").click()

    row = page.locator("#code-table tbody tr", has_text="Cleaner")
    expect(row.get_by_test_id("status")).to_have_text("On the lock", timeout=SETTLE)
    expect(row).to_contain_text(f"{today} 00:00–24:00")
    code = AccessCode.objects.get(label="Cleaner")
    assert code.schedule_days == [WEEKDAYS.index(today)]
    row.get_by_role("button", name="Show PIN").click()
    expect(row.get_by_test_id("pin")).to_have_text(code.pin)
    assert world.opens(lock.device_id, code.pin)
    on_lock = world.call("GET", f"/_sim/devices/{lock.device_id}/passwords")
    assert any(p["pin"] == code.pin for p in on_lock["passwords"])
    screenshot(page, "lock-desktop")


def test_form_errors_show_beside_their_fields_in_the_browser(
    signed_in: Callable[..., Any], landlord: Any, make_lock: Callable[..., Lock], workers: None
) -> None:
    lock = make_lock("wifi")
    page = signed_in(*OWNER)
    page.goto(f"/locks/{lock.pk}/")
    form = page.locator("#issue-form")
    form.get_by_label("Kind").select_option("weekly")
    form.get_by_role("button", name="Issue code").click()
    expect(page.locator("#issue-form")).to_contain_text("This field is required.")  # the label
    expect(page.locator("#issue-form")).to_contain_text("Choose at least one day.")
    assert not AccessCode.objects.exists()
    screenshot(page, "lock-issue-errors")


def test_freeze_and_unfreeze_from_the_lock_page(
    signed_in: Callable[..., Any], landlord: Any, make_lock: Callable[..., Lock], world: Any, workers: None,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    lock = make_lock("zigbee")
    starts, ends = window()
    with django_capture_on_commit_callbacks(execute=True):
        code = codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends)
    page = signed_in(*OWNER)
    page.goto(f"/locks/{lock.pk}/")
    row = page.locator(f"#code-{code.pk}")
    expect(row.get_by_test_id("status")).to_have_text("On the lock", timeout=SETTLE)

    row.get_by_role("button", name="Freeze").click()
    expect(row.get_by_test_id("status")).to_have_text("Frozen", timeout=SETTLE)
    assert not world.opens(lock.device_id, code.pin)
    screenshot(page, "lock-frozen")

    row.get_by_role("button", name="Unfreeze").click()
    expect(row.get_by_test_id("status")).to_have_text("On the lock", timeout=SETTLE)
    assert world.opens(lock.device_id, code.pin)

    page.once("dialog", lambda dialog: dialog.accept())  # "Remove the code … from the lock?"
    row.get_by_role("button", name="Delete").click()
    expect(row.get_by_test_id("status")).to_have_text("Removed", timeout=SETTLE)
    assert not world.opens(lock.device_id, code.pin)


def test_the_lock_page_on_a_phone(
    signed_in: Callable[..., Any], landlord: Any, make_lock: Callable[..., Lock], workers: None,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    lock = make_lock("zigbee")
    starts, ends = window()
    with django_capture_on_commit_callbacks(execute=True):
        code = codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends)
    page = signed_in(*OWNER, viewport=PHONE)
    page.goto(f"/locks/{lock.pk}/")
    expect(page.locator(f"#code-{code.pk}").get_by_test_id("status")).to_have_text("On the lock", timeout=SETTLE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"
    screenshot(page, "lock-phone")
    page.goto("/portfolio/")
    screenshot(page, "portfolio-phone")


def test_the_organisation_switcher_changes_what_the_pages_show(
    signed_in: Callable[..., Any], landlord: Any, make_lock: Callable[..., Lock], workers: None
) -> None:
    make_lock("wifi")
    second = Organisation.objects.create(name="Harbour Flats", slug="harbour")
    Membership.objects.create(user=landlord, organisation=second, role=Role.MANAGER)
    page = signed_in(*OWNER)
    page.goto("/portfolio/")
    expect(page.locator("main")).to_contain_text("Canal Hotel")
    page.get_by_label("Organisation").select_option(label="Harbour Flats")
    page.wait_for_load_state("networkidle")
    page.goto("/portfolio/")
    expect(page.locator("main")).not_to_contain_text("Canal Hotel")
    expect(page.locator(".account")).to_contain_text("Manager")


def test_the_timeline_shows_the_photo_the_lock_took(
    signed_in: Callable[..., Any], landlord: Any, make_lock: Callable[..., Lock], world: Any, workers: None
) -> None:
    import django_rq

    from locks import jobs

    lock = make_lock("wifi")
    world.call("POST", f"/_sim/devices/{lock.device_id}/doorbell")  # the lock's camera takes a photo
    django_rq.get_queue("sync").enqueue(jobs.sync_lock_events, lock.pk)  # what the periodic sync does
    page = signed_in(*OWNER)
    page.goto(f"/activity/?lock={lock.pk}")
    photo = page.get_by_role("img", name="Photo taken by")
    for _ in range(30):  # the sync, then the photo's download and decryption, run in the worker thread
        if photo.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(photo.first).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", photo.first.element_handle()) > 0  # a real decoded image
    expect(page.locator("main")).to_contain_text("doorbell")
    screenshot(page, "activity-photo")


def test_connect_a_cloud_project_and_put_its_lock_on_a_door(
    signed_in: Callable[..., Any], landlord: Any, sim_url: str, world: Any, unit: Any, workers: None
) -> None:
    from locks.simulator import conf as sim_conf

    device_id = world.device("wifi")
    page = signed_in(*OWNER)
    page.get_by_role("link", name="Cloud and locks").click()
    page.get_by_label("Name", exact=True).fill("Tuya EU")
    page.get_by_label("Region or URL").fill(sim_url)
    page.get_by_label("Access ID").fill(sim_conf.DEMO_ACCESS_ID)
    page.get_by_label("Access secret").fill(sim_conf.DEMO_ACCESS_SECRET)
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("#messages")).to_contain_text("is connected")
    expect(page.locator("tbody tr", has_text="Connected")).to_be_visible(timeout=SETTLE)  # the page reloads when done
    lock = Lock.objects.get(device_id=device_id)
    row = page.locator(f"#lock-{lock.pk}")
    row.get_by_label(f"Door of {lock.name}").select_option(label=str(unit))
    row.get_by_role("button", name="Save").click()
    expect(page.locator(f"#lock-{lock.pk}")).to_contain_text(f"On {unit}.")
    lock.refresh_from_db()
    assert lock.unit == unit
    screenshot(page, "setup-desktop")
