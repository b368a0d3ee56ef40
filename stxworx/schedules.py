"""django-q2 schedules the apps keep from their post_migrate handlers."""

from __future__ import annotations

from django_q.models import Schedule


def schedule_ensure(*, func: str, name: str, minutes: int, using: str = "default") -> Schedule:
    """Create the repeating schedule of `func` (every `minutes` minutes), or bring it to `name`
    and `minutes`. Idempotent: one schedule, however often run (duplicates from a race of two
    migrates go)."""
    rows = Schedule.objects.using(using).filter(func=func).order_by("pk")
    schedule = rows.first()
    if schedule is None:
        schedule = Schedule(func=func)
    else:
        rows.exclude(pk=schedule.pk).delete()
    schedule.name = name
    schedule.schedule_type, schedule.minutes, schedule.repeats = Schedule.MINUTES, minutes, -1
    schedule.save(using=using)
    return schedule
