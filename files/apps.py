from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class FilesConfig(AppConfig):
    name = "files"
    verbose_name = "Files (IPFS)"

    def ready(self) -> None:
        # The pinning sweep's schedule is made after migrations, when its table exists.
        post_migrate.connect(_schedule_ensure, sender=self)


def _schedule_ensure(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    from files.tasks import schedule_ensure

    schedule_ensure(using=using)
