"""The landlord's and the front desk's journeys by keyboard alone (issue 16 item 3): the skip link first, a focus
ring one can see, and after an htmx swap the focus where the result is, not lost at the top of the page. No clicks:
only Tab, Shift+Tab, Enter and typing. The slip printed in black and white keeps its code readable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from locks.models import AccessCode, Lock
from tenants.models import Membership, Organisation, Role, Stay
from tests.browser.conftest import log_in
from tests.locks.conftest import window

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
SETTLE = 30_000  # ms: a ceiling; the simulator answers in a fraction of a second


def tab_to(page: Any, selector: str, *, limit: int = 80) -> Any:
    """Press Tab until the focus is on `selector` (as a person would), checking each stop shows a focus ring."""
    target = page.locator(selector).first
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            assert_focus_visible(page)
            return target
    raise AssertionError(f"Tab never reached {selector}")


def assert_focus_visible(page: Any) -> None:
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }"
    )
    assert style[0] != "none", style
    assert float(style[1].removesuffix("px")) >= 2, style


def focused_inside(page: Any, selector: str) -> bool:
    return bool(page.evaluate("s => !!document.activeElement.closest(s)", selector))


@pytest.fixture
def landlord(org: Organisation, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("keys-owner", password="pw-keys-1")
    Membership.objects.create(user=user, organisation=org, role=Role.OWNER)
    return user


def test_the_skip_link_is_the_first_stop_and_lands_in_the_main_content(
    new_page: Callable[..., Any], landlord: Any
) -> None:
    page = new_page()
    log_in(page, "keys-owner", "pw-keys-1")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    expect(skip).to_be_focused()
    assert_focus_visible(page)
    assert skip.bounding_box()["x"] >= 0  # shown on screen once focused
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


def test_a_landlord_issues_and_freezes_a_code_by_keyboard(
    new_page: Callable[..., Any], landlord: Any, make_lock: Callable[..., Lock], workers: None
) -> None:
    lock = make_lock("zigbee")  # Tuya freezes the codes of Zigbee locks
    page = new_page()
    log_in(page, "keys-owner", "pw-keys-1")
    page.goto(f"/locks/{lock.pk}/")

    tab_to(page, "#issue-form [name=label]")
    page.keyboard.type("Cleaner")
    tab_to(page, "#issue-form button[type=submit]")
    page.keyboard.press("Enter")
    row = page.locator("#code-table tbody tr", has_text="Cleaner")
    expect(row.get_by_test_id("status")).to_have_text("On the lock", timeout=SETTLE)

    code = AccessCode.objects.get(label="Cleaner")
    tab_to(page, f"#code-{code.pk} button:text-is('Freeze')")
    page.keyboard.press("Enter")
    expect(row.get_by_test_id("status")).to_contain_text("Frozen", timeout=SETTLE)
    # The row came back with Unfreeze in place of Freeze: the focus went with it, not to the top of the page.
    page.wait_for_function("() => document.activeElement !== document.body")
    assert focused_inside(page, f"#code-{code.pk}")
    assert_focus_visible(page)


def test_form_errors_take_the_focus_to_the_first_wrong_field(
    new_page: Callable[..., Any], landlord: Any, make_lock: Callable[..., Lock]
) -> None:
    lock = make_lock("wifi")
    page = new_page()
    log_in(page, "keys-owner", "pw-keys-1")
    page.goto(f"/locks/{lock.pk}/")
    tab_to(page, "#issue-form button[type=submit]")
    page.keyboard.press("Enter")  # no name: refused
    expect(page.locator("#issue-form")).to_contain_text("This field is required.")
    page.wait_for_function("() => document.activeElement.getAttribute('aria-invalid') === 'true'")
    assert page.evaluate("() => document.activeElement.name") == "label"


def test_the_desk_shows_a_pin_by_keyboard_and_the_focus_is_on_it(
    new_page: Callable[..., Any], front_desk: Any, make_lock: Callable[..., Lock], unit: Any, workers: None
) -> None:
    from tenants import services
    from tenants.models import Guest

    make_lock("wifi")
    guest = Guest.objects.create(organisation=unit.property.organisation, name="Ada Lovelace")
    starts, ends = window()
    stay = services.book_stay(unit=unit, guest=guest, check_in=starts, check_out=ends)
    code = stay.access_codes.get()
    page = new_page()
    log_in(page, front_desk.username, "pw-desk-1")
    page.goto(f"/desk/stays/{stay.pk}/")
    expect(page.locator(f"#code-{code.pk}-status")).to_contain_text("On the lock", timeout=SETTLE)
    tab_to(page, f"#pin-{code.pk} button")
    page.keyboard.press("Enter")
    expect(page.locator(f"#pin-{code.pk} .pin.revealed")).to_have_text(AccessCode.objects.get(pk=code.pk).pin)
    page.wait_for_function("() => document.activeElement !== document.body")
    assert focused_inside(page, f"#pin-{code.pk}")


def test_the_slip_prints_in_black_on_white_without_the_page_chrome(
    new_page: Callable[..., Any], front_desk: Any, make_lock: Callable[..., Lock], unit: Any, workers: None
) -> None:
    from tenants import services
    from tenants.models import Guest

    make_lock("wifi")
    guest = Guest.objects.create(organisation=unit.property.organisation, name="Ada Lovelace")
    starts, ends = window()
    stay: Stay = services.book_stay(unit=unit, guest=guest, check_in=starts, check_out=ends)
    page = new_page()
    log_in(page, front_desk.username, "pw-desk-1")
    page.goto(f"/desk/stays/{stay.pk}/")
    expect(page.locator(f"#code-{stay.access_codes.get().pk}-status")).to_contain_text("On the lock", timeout=SETTLE)
    tab_to(page, "button:text-is('Print welcome slip')")
    page.keyboard.press("Enter")
    page.locator(".slip-pin").first.wait_for()
    page.emulate_media(media="print", color_scheme="light")
    colours = page.evaluate(
        "() => { const pin = document.querySelector('.slip-pin'); const s = getComputedStyle(pin);"
        " return [s.color, getComputedStyle(document.body).backgroundColor, s.fontSize,"
        " getComputedStyle(document.querySelector('.topbar')).display]; }"
    )
    assert colours[0] == "rgb(0, 0, 0)", colours
    assert colours[1] in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), colours
    assert float(colours[2].removesuffix("px")) >= 32, colours  # 32 pt and more: readable from arm's length
    assert colours[3] == "none", colours
