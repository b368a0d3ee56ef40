from django.apps import AppConfig


class ChainsyncConfig(AppConfig):
    verbose_name = "Chain sync"
    name = "chainsync"
