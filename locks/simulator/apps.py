from django.apps import AppConfig
from django.conf import settings


class SimulatorConfig(AppConfig):
    name = "locks.simulator"
    label = "simulator"
    verbose_name = "Tuya cloud simulator"

    def ready(self) -> None:
        # The embedded simulator is reached through runserver in development; see devserver.py for why.
        if settings.DEBUG:
            from locks.simulator.devserver import keep_tuya_headers_in_devserver

            keep_tuya_headers_in_devserver()
