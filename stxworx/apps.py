from django.apps import AppConfig


class StxworxConfig(AppConfig):
    name = "stxworx"
    verbose_name = "STXWorx kernel"
