from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "locks.simulator"
    label = "simulator"
    verbose_name = "Tuya cloud simulator"
