from django.apps import AppConfig


class LocksConfig(AppConfig):
    name = "locks"
    verbose_name = "Locks and door codes"

    def ready(self) -> None:
        from locks import checks, signals  # noqa: F401  # why: registers the deployment checks and receivers once the apps are loaded
