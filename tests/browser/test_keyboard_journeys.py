"""The front desk's and the landlord's journeys by keyboard alone (Tab, Enter, Space; no clicks): the focus is
always visible and lands where it should, htmx results are read out through the live regions (static/js/a11y.js),
polling never takes the focus; and the welcome slip printed in black and white (WCAG 2.2 AA, issue #16)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone as dj_timezone
from playwright.sync_api import expect

from bookings import guest_pass
from locks import codes
from locks.models import AccessCode, Lock
from tenants import services
from tenants.models import Guest, Membership, Organisation, Role, Stay
from tests.locks.conftest import window

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
DESK = ("desk", "pw-desk-1")
OWNER = ("landlord", "pw-landlord-1")
SETTLE = 30_000  # ms: the simulator delivers in 0.2 s; this is only a ceiling
MAX_TABS = 80

# The focused element, with what a sighted keyboard user would see of it.
FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(), id: el.id, name: (el.innerText || el.value || "").trim(),
    testid: el.dataset ? el.dataset.testid || "" : "", inMain: Boolean(el.closest("main")),
    row: el.closest("tr") ? el.closest("tr").id : "",
    outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth), outlineColor: style.outlineColor,
    onScreen: box.right > 0 && box.bottom > 0 && box.left < innerWidth && box.width > 0,
  };
}"""


def focused(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(FOCUSED)
    return result


def luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def assert_focus_visible(page: Any) -> dict[str, Any]:
    """A ring of at least 2 px whose colour has 3:1 against the white page (WCAG 1.4.11), on screen."""
    now = focused(page)
    assert now["outlineStyle"] != "none", now
    assert now["outlineWidth"] >= 2, now
    contrast = 1.05 / (luminance(now["outlineColor"]) + 0.05)
    assert contrast >= 3, (now, contrast)
    assert now["onScreen"], now
    return now


def tab_to(page: Any, name: str, *, key: str = "Tab") -> dict[str, Any]:
    """Press Tab until the control called `name` has the focus, checking the focus is visible at every stop."""
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        now = focused(page)
        if now["tag"] != "body" and now["tag"] != "main":
            assert_focus_visible(page)
        if now["name"] == name:
            return now
    raise AssertionError(f"{name!r} not reached with {MAX_TABS} presses of {key}")


def sign_in_by_keyboard(page: Any, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def use_skip_link(page: Any) -> None:
    """The first Tab of a page reaches the skip link, shown on focus; Enter puts the focus on <main>, so the next
    Tab is inside the page's content, past the header."""
    page.keyboard.press("Tab")
    now = assert_focus_visible(page)
    assert now["name"] == "Skip to content", now
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"
    page.keyboard.press("Tab")
    assert focused(page)["inMain"], focused(page)


@pytest.fixture
def landlord(org: Organisation, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user(OWNER[0], password=OWNER[1])
    Membership.objects.create(user=user, organisation=org, role=Role.OWNER)
    return user


def test_the_front_desk_checks_a_guest_in_and_opens_the_slip_by_keyboard(
    new_page: Callable[..., Any], front_desk: Any, make_lock: Callable[..., Lock], workers: None
) -> None:
    make_lock("wifi")
    page = new_page()
    sign_in_by_keyboard(page, *DESK)
    page.goto("/desk/stays/")
    use_skip_link(page)

    # Back to the top of the page, then through the header to the front desk.
    page.goto("/desk/stays/")
    tab_to(page, "Front desk")
    page.keyboard.press("Enter")
    page.wait_for_url("**/desk/")
    expect(page.get_by_label("Room or unit")).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.type("Canal Hotel · Room 12")
    page.keyboard.press("Tab")
    page.keyboard.type("Ada Lovelace")
    page.keyboard.press("Tab")
    page.keyboard.type("ada@example.com")
    page.keyboard.press("Enter")
    page.wait_for_url("**/desk/stays/*/")
    stay = Stay.objects.get()

    # The code's status is polled; the change is read out politely, and the poll leaves the focus where it is.
    tab_to(page, "Show PIN")
    expect(page.locator("#live-polite")).to_have_text(re.compile("On the lock"), timeout=SETTLE)
    assert focused(page)["name"] == "Show PIN"
    assert page.locator("#live-polite").get_attribute("aria-live") == "polite"

    tab_to(page, "Print welcome slip")
    page.keyboard.press("Space")
    page.wait_for_url(f"**/desk/stays/{stay.pk}/slip/")
    expect(page.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()
    tab_to(page, "Print")  # reachable, and visibly focused; the print dialog itself is the browser's


def test_the_landlord_issues_and_freezes_a_code_by_keyboard(
    new_page: Callable[..., Any], landlord: Any, make_lock: Callable[..., Lock], workers: None
) -> None:
    lock = make_lock("zigbee")
    page = new_page()
    sign_in_by_keyboard(page, *OWNER)
    page.goto(f"/locks/{lock.pk}/")
    use_skip_link(page)

    # Enter in the empty form: the error is read out at once and the focus is on the field in error.
    name = page.locator("#issue-form").get_by_label("Name", exact=True)
    for _ in range(MAX_TABS):
        if page.evaluate("document.activeElement.name") == "label":
            break
        page.keyboard.press("Tab")
    expect(name).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.locator("#live-assertive")).to_contain_text("This field is required.")
    expect(page.locator("#issue-form").get_by_label("Name", exact=True)).to_be_focused()
    assert not AccessCode.objects.exists()

    page.keyboard.type("Cleaner")
    page.keyboard.press("Enter")  # the page reloads with the new code: its flash message is read out
    expect(page.locator("#live-polite")).to_contain_text("Code “Cleaner” is on its way to the lock", timeout=SETTLE)
    code = AccessCode.objects.get(label="Cleaner")
    row = page.locator(f"#code-{code.pk}")
    expect(row.get_by_test_id("status")).to_have_text("On the lock", timeout=SETTLE)

    page.keyboard.press("Tab")
    tab_to(page, "Freeze")
    assert focused(page)["row"] == f"code-{code.pk}"
    page.keyboard.press("Enter")
    expect(page.locator("#live-polite")).to_contain_text("Freezing: the lock will refuse this code")
    # The button that had the focus is gone with the old row: the focus is on the new row's status instead.
    expect(row.get_by_test_id("status")).to_be_focused()
    expect(page.locator("#live-polite")).to_have_text(re.compile(r"Cleaner.*Frozen"), timeout=SETTLE)
    expect(row.get_by_test_id("status")).to_be_focused()  # the polls that followed did not move it
    assert_focus_visible(page)
    page.keyboard.press("Tab")
    assert focused(page)["row"] == f"code-{code.pk}"  # the next Tab goes on from the row, not from the top


def test_a_confirmation_page_takes_the_focus_and_escape_goes_back(
    new_page: Callable[..., Any], landlord: Any, make_lock: Callable[..., Lock],
    django_capture_on_commit_callbacks: Any, browser: Any, live_server: Any,
) -> None:  # fmt: skip
    lock = make_lock("zigbee")
    starts, ends = window()
    with django_capture_on_commit_callbacks(execute=True):
        code = codes.issue_access_code(lock=lock, label="Ada", starts_at=starts, ends_at=ends)
    page = new_page()
    sign_in_by_keyboard(page, *OWNER)
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    # The page a plain (JavaScript-less) Delete is asked on, opened as such a form would.
    page.set_content(
        f'<form method="post" action="{live_server.url}/codes/{code.pk}/delete/">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
        f'<input type="hidden" name="version" value="{code.version}"><button>Delete</button></form>'
    )
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Remove the code “Ada” from the lock?")).to_be_focused()
    tab_to(page, "Yes, remove the code")
    page.keyboard.press("Escape")
    page.wait_for_url(f"**/locks/{lock.pk}/")
    code.refresh_from_db()
    assert code.desired == AccessCode.Desired.ACTIVE


def test_the_slip_prints_black_on_white_without_the_page_around_it(
    new_page: Callable[..., Any], front_desk: Any, make_lock: Callable[..., Lock], unit: Any, workers: None
) -> None:
    make_lock("wifi")
    guest = Guest.objects.create(organisation=unit.property.organisation, name="Ada Lovelace")
    starts, ends = window()
    stay = services.book_stay(unit=unit, guest=guest, check_in=starts, check_out=ends)
    page = new_page()
    sign_in_by_keyboard(page, *DESK)
    page.goto(f"/desk/stays/{stay.pk}/")
    expect(page.locator(".code-status .chip")).to_have_text("On the lock", timeout=SETTLE)
    tab_to(page, "Print welcome slip")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/desk/stays/{stay.pk}/slip/")

    pin = page.locator(".slip-pin").first
    screen_size = float(pin.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))
    page.emulate_media(media="print")
    expect(page.locator("nav.mainnav")).to_be_hidden()
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(pin).to_have_text(stay.access_codes.get().pin)
    style = pin.evaluate("el => { const s = getComputedStyle(el); return [s.color, s.backgroundColor, s.fontSize]; }")
    assert style[0] == "rgb(0, 0, 0)", style
    assert style[1] == "rgb(255, 255, 255)", style
    assert float(style[2].removesuffix("px")) >= screen_size  # at least as large as on screen: 40 pt
    for words in page.locator(".slip, .slip *").evaluate_all("els => els.map(el => getComputedStyle(el).color)"):
        assert words == "rgb(0, 0, 0)", words  # no grey or coloured text left to fade on a black-and-white printer


def test_the_remote_open_result_is_announced_and_the_polls_keep_the_focus_on_it(
    new_page: Callable[..., Any], landlord: Any, make_lock: Callable[..., Lock], workers: None
) -> None:
    lock = make_lock("zigbee")
    page = new_page()
    sign_in_by_keyboard(page, *OWNER)
    page.goto(f"/locks/{lock.pk}/")
    page.once("dialog", lambda dialog: dialog.accept())  # the browser's own "Open … now?", keyboard-operable
    tab_to(page, "Open the door now")
    page.keyboard.press("Enter")
    heading = page.locator("#remote-open").get_by_role("heading", name="Open the door")
    expect(heading).to_be_focused()
    expect(page.locator("#live-polite")).to_contain_text("Door opened", timeout=SETTLE)
    expect(heading).to_be_focused()  # the section was polled and replaced meanwhile: the focus is still on it
    assert_focus_visible(page)


def test_the_guest_page_starts_with_a_skip_link(
    new_page: Callable[..., Any], make_lock: Callable[..., Lock], unit: Any
) -> None:
    make_lock("wifi")
    guest = Guest.objects.create(organisation=unit.property.organisation, name="Ada Lovelace")
    now = dj_timezone.now()
    stay = services.book_stay(unit=unit, guest=guest, check_in=now, check_out=now + timedelta(days=1))
    page = new_page()
    page.goto(f"/g/{guest_pass.pass_for(stay).token}/")
    use_skip_link(page)
