from __future__ import annotations

from django.db import models


class Notification(models.Model):
    class Type(models.TextChoices):
        PROPOSAL_RECEIVED = "proposal_received"
        PROPOSAL_ACCEPTED = "proposal_accepted"
        PROPOSAL_REJECTED = "proposal_rejected"
        PROJECT_FUNDED = "project_funded"
        MILESTONE_SUBMITTED = "milestone_submitted"
        MILESTONE_APPROVED = "milestone_approved"
        PAYMENT_RELEASED = "payment_released"
        DISPUTE_FILED = "dispute_filed"
        DISPUTE_EVIDENCE_ADDED = "dispute_evidence_added"
        DISPUTE_RESOLVED = "dispute_resolved"
        REFUND_ISSUED = "refund_issued"
        CHAIN_REORG = "chain_reorg"

    # Money moving and disputes are always streamed; the rest can be muted for the live stream
    # (the inbox keeps every notification either way).
    MANDATORY_TYPES = frozenset(
        {
            Type.PROJECT_FUNDED,
            Type.MILESTONE_APPROVED,
            Type.PAYMENT_RELEASED,
            Type.DISPUTE_FILED,
            Type.DISPUTE_EVIDENCE_ADDED,
            Type.DISPUTE_RESOLVED,
            Type.REFUND_ISSUED,
            Type.CHAIN_REORG,
        }
    )

    recipient = models.CharField(max_length=64, help_text="Stacks address.")
    type = models.CharField(max_length=32, choices=Type.choices)
    project = models.ForeignKey(
        "projects.Project",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    message = models.CharField(max_length=500)
    link = models.CharField(max_length=500, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["recipient", "-id"])]

    def __str__(self) -> str:
        return f"{self.type} -> {self.recipient}"


class NotificationPreference(models.Model):
    """Which notification types a user has muted on the live stream."""

    recipient = models.CharField(max_length=64, unique=True)
    muted_types = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"preferences of {self.recipient}"
