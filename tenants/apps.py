from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Organisations, properties and stays"

    def ready(self) -> None:
        from tenants import reauth, signals  # noqa: F401  # why: connects the receivers once the models are loaded
