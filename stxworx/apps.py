from django.apps import AppConfig


class StxworxConfig(AppConfig):
    name = "stxworx"
    verbose_name = "STXWorx kernel"

    def ready(self) -> None:
        from stxworx import checks  # noqa: F401  (registers the system checks)
