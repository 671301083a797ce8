from django.apps import AppConfig


class LocksConfig(AppConfig):
    name = "locks"
    verbose_name = "Locks and door codes"

    def ready(self) -> None:
        from locks import checks  # noqa: F401  # why: registers the deployment checks once the apps are loaded
