"""The simulator's only source of time, so tests can move it without sleeping."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()


def now_ms() -> int:
    return int(now().timestamp() * 1000)
