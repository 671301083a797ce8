"""Simulator settings: Django settings first (tests override them), then the environment, then defaults.

Read on every use, not at import, so `override_settings` and env changes in tests take effect.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

# The embedded default project: the app uses these when TUYA_ACCESS_ID / TUYA_ACCESS_SECRET are unset.
DEMO_ACCESS_ID = "simdemoaccessid00001"
DEMO_ACCESS_SECRET = "SimDemoSecret0123456789abcdefXYZ"  # 32 chars, like a real Tuya access secret


def _get(name: str, default: Any) -> Any:
    if hasattr(settings, name):
        return getattr(settings, name)
    return os.environ.get(name) or default


def access_id() -> str:
    return str(_get("TUYA_ACCESS_ID", "") or DEMO_ACCESS_ID)


def access_secret() -> str:
    # The id and the secret go together: a configured id without its secret would lock everyone out.
    if str(_get("TUYA_ACCESS_ID", "") or ""):
        return str(_get("TUYA_ACCESS_SECRET", ""))
    return DEMO_ACCESS_SECRET


def token_ttl() -> int:
    """Access-token lifetime in seconds (Tuya: 7200)."""
    return int(_get("SIM_TOKEN_TTL", 7200))


def delivery_seconds() -> float:
    """Time one hop cloud → gateway → lock takes; each gateway retry waits as long again."""
    return float(_get("SIM_DELIVERY_SECONDS", 3))


def clock_skew_seconds() -> int:
    """Allowed |server time - t| before 1013; 0 disables the check (signing-vector replays)."""
    return int(_get("SIM_CLOCK_SKEW_SECONDS", 300))


def ticket_ttl() -> int:
    """Password-ticket lifetime in seconds ("valid for 5 minutes")."""
    return int(_get("SIM_TICKET_TTL", 300))


def issue_password_interval() -> int:
    """issue-password may be called once per this many seconds per device (spec: 60)."""
    return int(_get("SIM_ISSUE_PASSWORD_INTERVAL", 60))


def rate_limit() -> float:
    """Calls per second allowed per project and API before 1199 (0 = unlimited); Tuya's own are 2-50/s."""
    return float(_get("SIM_RATE_LIMIT", 50))


def rate_burst() -> float:
    """How many calls may arrive at once before the rate applies (0 = twice the rate)."""
    return float(_get("SIM_RATE_BURST", 0))
