"""A weekly code keeps its local hours across a daylight-saving change (Europe/Amsterdam, 2027-03-28)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from locks import codes
from locks.models import AccessCode
from locks.simulator import clock as sim_clock
from tests.locks.conftest import run_workers

pytestmark = pytest.mark.django_db(transaction=True)
AMS = ZoneInfo("Europe/Amsterdam")


def typed_at(world, monkeypatch, local: datetime, device_id: str, pin: str) -> bool:
    """Type on the keypad with the lock's clock at a local time (the simulated lock decides by its own clock)."""
    monkeypatch.setattr(sim_clock, "now", lambda: local.astimezone(UTC))
    try:
        return world.opens(device_id, pin)
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("kind", ["wifi", "zigbee"])
def test_cleaner_monday_wednesday_nine_to_twelve_across_the_clock_change(
    make_lock, world, monkeypatch, kind, django_capture_on_commit_callbacks
):
    lock = make_lock(kind)
    mon_wed = codes.WeeklySchedule(frozenset({0, 2}), 9 * 60, 12 * 60)
    starts = timezone.now() - timedelta(hours=1)
    ends = datetime(2027, 4, 30, tzinfo=AMS)
    with django_capture_on_commit_callbacks(execute=True):
        code = codes.issue_access_code(
            lock=lock, label="Cleaner", starts_at=starts, ends_at=ends, kind=AccessCode.Kind.WEEKLY, schedule=mon_wed
        )
    run_workers()
    code.refresh_from_db()
    assert code.status == AccessCode.Status.SET, code.failure_reason
    before, after = datetime(2027, 3, 22, tzinfo=AMS), datetime(2027, 3, 29, tzinfo=AMS)  # Mondays, CET then CEST
    for monday in (before, after):
        assert typed_at(world, monkeypatch, monday.replace(hour=9, minute=5), lock.device_id, code.pin)
        assert typed_at(world, monkeypatch, monday.replace(hour=11, minute=55), lock.device_id, code.pin)
        assert not typed_at(world, monkeypatch, monday.replace(hour=8, minute=55), lock.device_id, code.pin)
        assert not typed_at(world, monkeypatch, monday.replace(hour=12, minute=5), lock.device_id, code.pin)
        tuesday = monday + timedelta(days=1)
        assert not typed_at(world, monkeypatch, tuesday.replace(hour=10), lock.device_id, code.pin)
        wednesday = monday + timedelta(days=2)
        assert typed_at(world, monkeypatch, wednesday.replace(hour=10), lock.device_id, code.pin)
