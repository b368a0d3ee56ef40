"""django-q2 entry points of pinning, and the sweep's schedule."""

from __future__ import annotations

from django_q.models import Schedule

from files import services

SWEEP_TASK = "files.tasks.stored_files_pin_sweep"


def stored_file_pin(file_id: int) -> str:
    """Queued at upload (and on a pin request): one pinning step for the file."""
    return services.stored_file_pin_advance(file_id=file_id).pin_status


def stored_files_pin_sweep() -> str:
    """Every minute: retries that are due, polls of queued pins, and any lost task."""
    return f"{services.stored_files_pin_due()} file(s) advanced"


def schedule_ensure(*, using: str = "default") -> Schedule:
    """Create the sweep's schedule once (idempotent; duplicates from racing migrates go)."""
    rows = Schedule.objects.using(using).filter(func=SWEEP_TASK).order_by("pk")
    schedule = rows.first()
    if schedule is None:
        schedule = Schedule(func=SWEEP_TASK)
    else:
        rows.exclude(pk=schedule.pk).delete()
    schedule.name = "files: pinning retries and polls"
    schedule.schedule_type, schedule.minutes, schedule.repeats = Schedule.MINUTES, 1, -1
    schedule.save(using=using)
    return schedule
