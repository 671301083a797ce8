from django.apps import AppConfig
from django.conf import settings


class SimulatorConfig(AppConfig):
    name = "locks.simulator"
    label = "simulator"
    verbose_name = "Tuya cloud simulator"

    def ready(self) -> None:
        from locks.simulator import checks  # noqa: F401  (registers the deployment check)

        # The embedded simulator is reached through runserver in development; see devserver.py for why.
        if settings.EMBEDDED_SIMULATOR:
            from locks.simulator.devserver import keep_tuya_headers_in_devserver

            keep_tuya_headers_in_devserver()
