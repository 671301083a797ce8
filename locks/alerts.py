"""Alerts worth reading (PRODUCT.md "Better than the anchors" 7): raised once per incident, counted after that.

The events sync calls `on_new_events` with the events it has just stored (each exactly once)."""

from __future__ import annotations

from collections.abc import Sequence

from locks.models import LockEvent


def on_new_events(events: Sequence[LockEvent]) -> None:
    """Raise or bump the alerts these newly stored events call for (being built: see issue #6 item 4)."""
