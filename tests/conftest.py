"""Fixtures shared by the whole suite."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Published facts the suite checks against, kept in the repository as data (see tests/data/README.md).
DATA = Path(__file__).resolve().parent / "data"


def vectors(name: str) -> list[dict]:
    """The vectors of tests/data/<name>.json: signing (Tuya's SDK and docs) or lock-password (the ticket crypto)."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))["vectors"]


def private_media_in(settings: Any, root: Path) -> Path:
    """Keep event photos (STORAGES["private_media"], on the disk) in `root`, a test's own folder. Setting STORAGES
    makes Django drop the storages it has built (django.test.signals.storages_changed); PRIVATE_MEDIA_ROOT alone
    would not reach the one already built."""
    settings.PRIVATE_MEDIA_ROOT = root
    on_disk = settings.STORAGES["private_media"]
    there = {**on_disk, "OPTIONS": {**on_disk["OPTIONS"], "location": root}}
    settings.STORAGES = {**settings.STORAGES, "private_media": there}
    return root


def spec_api_rows() -> list[tuple[str, str]]:
    """(method, path template) of each row of the smart-lock API list, the legacy asterisk stripped."""
    rows = []
    for line in (DATA / "spec-api-list.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            method, path = line.split()[:2]
            rows.append((method.lstrip("*"), path))
    return rows


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis the suite runs against: REDIS_URL (CI), or the embedded one `dev.py test` starts."""
    import redis
    from django.conf import settings

    try:
        redis.Redis.from_url(settings.REDIS_URL).ping()
    except redis.RedisError as exc:
        pytest.fail(f"No Redis at {settings.REDIS_URL} ({exc}): run the suite with `python3 dev.py test`.")
    return settings.REDIS_URL


@pytest.fixture(autouse=True)
def _fresh_simulator_rate_limits() -> None:
    """Each test starts with full buckets, as if it were the only caller of the simulated cloud."""
    from locks.simulator import ratelimit

    ratelimit.reset()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts and ends in the default language: a request through LocaleMiddleware (a test client asking
    for Spanish) leaves its language active in the thread, and a later test reading `Alert.text` would get Spanish."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_request_budgets() -> None:
    """Each test starts with the public pages' and the API's per-minute budgets unspent: the windows are counted in
    Redis per client address (always 127.0.0.1 here) and per key id (reused after a rollback on SQLite), so requests
    of earlier tests in the same minute would otherwise answer a later test with 429."""
    import redis
    from django.conf import settings

    try:
        client = redis.Redis.from_url(settings.REDIS_URL)
        stale = [*client.scan_iter("doors:public:*", count=1000), *client.scan_iter("doors:api:rate:*", count=1000)]
        if stale:
            client.delete(*stale)
    except redis.RedisError:
        pass  # no Redis: the budgets fail open (bookings/public_limits.py), nothing to reset


@contextlib.contextmanager
def production_log(level: int | None = None) -> Iterator[io.StringIO]:
    """What production writes: the root logger's records through our filters and the JSON formatter, into a
    string; with a level, the root logger is set to it meanwhile (LOG_LEVEL=DEBUG writes the most)."""
    from config import logs

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RequestIdFilter())
    handler.addFilter(logs.RedactFilter())
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    if level is not None:
        root.setLevel(level)
    try:
        yield stream
    finally:
        root.setLevel(previous)
        root.removeHandler(handler)


@pytest.fixture
def everything_logged() -> Iterator[io.StringIO]:
    """Every record at DEBUG, as a deployment with LOG_LEVEL=DEBUG would write it."""
    with production_log(logging.DEBUG) as stream:
        yield stream


def totp_code(device: Any, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows for this TOTPDevice now (or `steps_ahead` periods on), by RFC 6238 from
    the device's own key: what a user would type."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture(autouse=True)
def _second_factor_as_before_it_existed(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Outside tests/signin/ (which test the second factor itself), the suite signs in as it did before there was
    one: organisations the tests make default to `require_second_factor=False`, as every organisation that existed
    before the upgrade does, and a staff user signed in with `force_login` has passed a factor (a recovery-code
    device of theirs marks the session verified, as `django_otp.login` does), so the admin's tests reach the admin.
    Production code is untouched: this changes a field's default and the test client only, for these tests only."""
    if "signin" in request.node.path.parts:
        yield
        return
    from django.test.client import ClientMixin
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_static.models import StaticDevice

    from signin.services import PENDING
    from tenants.models import Organisation

    field = Organisation._meta.get_field("require_second_factor")
    monkeypatch.setattr(field, "default", False)
    field.__dict__.pop("_get_default", None)  # Django caches the default's getter on the field
    original = ClientMixin.force_login

    def force_login(self: Any, user: Any, backend: str | None = None) -> None:
        original(self, user, backend)
        if user.is_staff:
            device, _ = StaticDevice.objects.get_or_create(user=user, name="tests: force_login", confirmed=True)
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.pop(PENDING, None)
            session.save()

    monkeypatch.setattr(ClientMixin, "force_login", force_login)
    yield
    field.__dict__.pop("_get_default", None)
