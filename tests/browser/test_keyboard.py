"""A PIN shown in place of its button at the desk, by keyboard alone (issue 16 item 3): the focus goes to the PIN,
not to the top of the page, and the ring is visible. The whole journeys are walked in test_keyboard_journeys.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from locks.models import AccessCode, Lock
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
