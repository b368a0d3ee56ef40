from __future__ import annotations

from django.db import models
from django.db.models import Q

from stxworx.models import TimeStampedModel


class Proposal(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        REJECTED = "rejected"
        WITHDRAWN = "withdrawn"

    TRANSITIONS: dict[str, set[str]] = {
        Status.PENDING: {Status.ACCEPTED, Status.REJECTED, Status.WITHDRAWN},
        Status.ACCEPTED: set(),
        Status.REJECTED: set(),
        Status.WITHDRAWN: set(),
    }

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="proposals"
    )
    freelancer_address = models.CharField(max_length=64, db_index=True)
    cover_letter = models.TextField(max_length=10000)
    proposed_budget = models.PositiveBigIntegerField()
    proposed_duration = models.PositiveIntegerField(help_text="Days.")
    portfolio_links = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "freelancer_address"], name="proposal_one_per_freelancer"
            ),
            # The database's own guarantee behind race-safe accepts.
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status="accepted"),
                name="proposal_one_accepted_per_project",
            ),
            models.CheckConstraint(
                condition=Q(proposed_budget__gt=0), name="proposal_budget_positive"
            ),
            models.CheckConstraint(
                condition=Q(proposed_duration__gt=0), name="proposal_duration_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"proposal #{self.pk} on {self.project_id} by {self.freelancer_address}"

    def can_transition(self, to: str) -> bool:
        return to in self.TRANSITIONS[self.status]
