"""django-q2 entry points of pinning, and the sweep's schedule."""

from __future__ import annotations

from django_q.models import Schedule

from files import services
from stxworx import schedules

SWEEP_TASK = "files.tasks.stored_files_pin_sweep"


def stored_file_pin(file_id: int) -> str:
    """Queued at upload (and on a pin request): one pinning step for the file."""
    return services.stored_file_pin_advance(file_id=file_id).pin_status


def stored_files_pin_sweep() -> str:
    """Every minute: retries that are due, polls of queued pins, and any lost task."""
    return f"{services.stored_files_pin_due()} file(s) advanced"


def schedule_ensure(*, using: str = "default") -> Schedule:
    """Create the sweep's schedule once (idempotent; duplicates from racing migrates go)."""
    name = "files: pinning retries and polls"
    return schedules.schedule_ensure(func=SWEEP_TASK, name=name, minutes=1, using=using)
