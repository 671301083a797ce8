"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server, with the Tuya
simulator on a real socket and RQ jobs run continuously in a background thread while the browser waits.

Playwright's browser downloads are not used: Chromium comes from Debian (`apt-get install chromium`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django_otp.plugins.otp_totp.models import TOTPDevice
from rq.timeouts import TimerDeathPenalty

from locks.workers import DjangoSimpleWorker
from tests.conftest import totp_code
from tests.locks.conftest import (  # noqa: F401  (fixtures, found by pytest through this module)
    account,
    front_desk,
    make_lock,
    org,
    queues,
    run_workers,
    sim_url,
    unit,
    world,
)

# pytest-django's live server and Playwright's sync API in one process: Playwright's sync API runs its own event
# loop, which makes Django believe every ORM call in the test is in async context.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


class ThreadWorker(DjangoSimpleWorker):
    """Our worker, in a thread: signals (SIGINT/SIGTERM handlers, SIGALRM timeouts) belong to the main thread."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass


def _run_jobs() -> None:
    run_workers(ThreadWorker, logging_level="WARNING")


@pytest.fixture
def workers(queues: None, sim_url: str) -> Iterator[None]:  # noqa: F811
    """RQ jobs run every 0.2 s in a daemon thread for the whole test, as a worker process would."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def loop() -> None:
        try:
            while not stop.is_set():
                _run_jobs()
                stop.wait(0.2)
        except BaseException as error:  # reported at teardown: a dead worker thread must fail the test
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=loop, name="rq-worker", daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)
    assert not errors, errors


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"The browser tests need Debian's Chromium at {CHROMIUM}: apt-get install -y chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """Pages in fresh browser contexts (own cookies), opened on the live server."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] | None = None) -> Any:
        context = browser.new_context(base_url=live_server.url, viewport=viewport or DESKTOP)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page: Any, username: str, password: str) -> None:
    """Through the real sign-in form; a user with an authenticator app (staff, `with_app`) types its current code in
    the second step, as they would."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
    if "/accounts/verify/" in page.url and device is not None:  # with a passkey only, the test takes it from here
        page.get_by_label("Code").fill(totp_code(device))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(lambda url: "/accounts/verify/" not in url)


def with_app(user: Any) -> Any:
    """Give a user (staff must have one for the admin) an authenticator app that `log_in` reads its codes from."""
    TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return user


@pytest.fixture
def signed_in(new_page: Callable[..., Any]) -> Callable[..., Any]:
    def make(username: str, password: str, viewport: dict[str, int] | None = None) -> Any:
        page = new_page(viewport)
        log_in(page, username, password)
        return page

    return make


def screenshot(page: Any, name: str) -> Path:
    """A full-page PNG in tests/browser/screenshots/ (gitignored), to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
