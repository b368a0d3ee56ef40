from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ChainsyncConfig(AppConfig):
    verbose_name = "Chain sync"
    name = "chainsync"

    def ready(self) -> None:
        from chainsync.projects_reader import ProjectsChainReader
        from projects.chain import chain_reader_set

        # No database access here: the schedule is made after migrations, when its table exists.
        post_migrate.connect(_schedule_ensure, sender=self)
        chain_reader_set(ProjectsChainReader())  # the dispute review page's view of the chain


def _schedule_ensure(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    from chainsync.tasks import schedule_ensure

    schedule_ensure(using=using)
