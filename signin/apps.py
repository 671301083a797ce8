from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "signin"
    verbose_name = "Second sign-in factor"

    def ready(self) -> None:
        from signin import signals  # noqa: F401  # why: connects the sign-in receiver once the models are loaded
