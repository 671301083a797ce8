"""The deployment check that keeps the embedded simulator out of production (`manage.py check --deploy`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register


@register(Tags.security, deploy=True)
def embedded_simulator_off_in_production(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG or not settings.EMBEDDED_SIMULATOR:
        return []
    return [
        Error(
            "EMBEDDED_SIMULATOR is on while DEBUG is off: the Tuya cloud simulator is mounted at /tuya-sim/, where "
            "anyone can create devices, read their PINs and write into this database without signing in.",
            hint="Unset EMBEDDED_SIMULATOR (it follows DEBUG) or set it to false. A benchmark that needs a simulated "
            "cloud beside a production-mode app runs `manage.py tuya_simulator` on its own.",
            id="simulator.E001",
        )
    ]
