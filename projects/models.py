from __future__ import annotations

from django.db import models
from django.db.models import Q

from stxworx.models import TimeStampedModel

MAX_MILESTONES = 4  # the contract takes exactly four amount slots


class Token(models.TextChoices):
    STX = "STX", "STX"
    SBTC = "sBTC", "sBTC"


class Project(TimeStampedModel):
    class Status(models.TextChoices):
        OPEN = "open"
        PENDING = "pending"  # a proposal is accepted; waiting for the escrow to be funded
        ACTIVE = "active"  # funded on chain
        COMPLETED = "completed"  # every milestone released
        REVIEWED = "reviewed"  # both parties reviewed
        DISPUTED = "disputed"
        REFUNDED = "refunded"
        CANCELLED = "cancelled"

    # The lifecycle. Transitions into ACTIVE, COMPLETED, DISPUTED (and back) and REFUNDED are
    # caused only by the chain, through the indexer.
    TRANSITIONS: dict[str, set[str]] = {
        Status.OPEN: {Status.PENDING, Status.CANCELLED},
        Status.PENDING: {Status.ACTIVE, Status.REFUNDED},
        Status.ACTIVE: {Status.COMPLETED, Status.DISPUTED, Status.REFUNDED},
        Status.DISPUTED: {Status.ACTIVE, Status.REFUNDED},
        Status.COMPLETED: {Status.REVIEWED},
        Status.REVIEWED: set(),
        Status.REFUNDED: set(),
        Status.CANCELLED: set(),
    }

    title = models.CharField(max_length=200)
    description = models.TextField(max_length=20000)
    category = models.CharField(max_length=80, blank=True, db_index=True)
    skills = models.JSONField(default=list, blank=True)
    token = models.CharField(max_length=4, choices=Token.choices)
    budget = models.PositiveBigIntegerField(help_text="Gross, in base units (micro-STX or sats).")
    client_address = models.CharField(max_length=64, db_index=True)
    freelancer_address = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    on_chain_id = models.PositiveBigIntegerField(null=True, blank=True, unique=True)
    funding_tx_id = models.CharField(max_length=66, blank=True, db_index=True)
    funding_error = models.TextField(
        blank=True, help_text="Why the funding transaction did not match this project."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(budget__gt=0), name="project_budget_positive"),
            models.CheckConstraint(
                condition=Q(token__in=["STX", "sBTC"]), name="project_token_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    def can_transition(self, to: str) -> bool:
        return to in self.TRANSITIONS[self.status]

    def is_party(self, address: str) -> bool:
        return bool(address) and address in (self.client_address, self.freelancer_address)


class Milestone(models.Model):
    class Status(models.TextChoices):
        LOCKED = "locked"  # funded (or to be funded), not yet complete
        SUBMITTED = "submitted"  # marked complete on chain
        APPROVED = "approved"  # released to the freelancer
        DISPUTED = "disputed"
        REFUNDED = "refunded"  # returned to the client

    TRANSITIONS: dict[str, set[str]] = {
        Status.LOCKED: {Status.SUBMITTED, Status.DISPUTED, Status.REFUNDED},
        Status.SUBMITTED: {Status.APPROVED, Status.DISPUTED, Status.LOCKED, Status.REFUNDED},
        Status.DISPUTED: {Status.APPROVED, Status.REFUNDED, Status.LOCKED},
        Status.APPROVED: set(),
        Status.REFUNDED: set(),
    }

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=5000, blank=True)
    amount = models.PositiveBigIntegerField(help_text="Gross, in base units.")
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.LOCKED)
    submission_link = models.URLField(max_length=1000, blank=True)
    submission_note = models.TextField(max_length=5000, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    tx_hash = models.CharField(max_length=66, blank=True)

    class Meta:
        ordering = ["project_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="milestone_number_unique"),
            models.CheckConstraint(
                condition=Q(number__gte=1) & Q(number__lte=MAX_MILESTONES),
                name="milestone_number_range",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="milestone_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}/{self.number} {self.title}"


class Review(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reviews")
    reviewer_address = models.CharField(max_length=64)
    reviewee_address = models.CharField(max_length=64, db_index=True)
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(max_length=5000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "reviewer_address"], name="review_once_per_party"
            ),
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer_address} -> {self.reviewee_address}: {self.rating}"


class Agreement(models.Model):
    """What both sides agreed to, frozen when the client accepted a proposal: the project, its
    milestones and the accepted proposal, as canonical JSON (sorted keys, no spaces, UTF-8) and
    its SHA-256. A dispute is judged against this, not against later edits."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="agreement")
    proposal = models.ForeignKey(
        "proposals.Proposal", on_delete=models.PROTECT, related_name="agreements"
    )
    document = models.TextField(help_text="Canonical JSON: the exact bytes hashed.")
    sha256 = models.CharField(max_length=64)
    accepted_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"agreement of project {self.project_id} ({self.sha256[:12]}…)"


class Dispute(models.Model):
    """A dispute on one milestone, as the chain filed and closed it (the indexer alone opens and
    closes one). A milestone has one dispute at a time; after a milestone-reset it may get a
    new one, so the filing tx, not the milestone, identifies a dispute."""

    class Status(models.TextChoices):
        OPEN = "open"
        RESOLVED = "resolved"
        # A fork took the filing out of the chain (set when the project is rebuilt from the
        # chain; a replay that finds the filing again reopens it).
        VOID = "void"

    class Party(models.TextChoices):
        CLIENT = "client"
        FREELANCER = "freelancer"

    class CloseReason(models.TextChoices):
        """The contract event that closed it (CONTRACT.md, "Event → indexer action")."""

        DISPUTE_RESOLVED = "dispute-resolved"
        MILESTONE_RELEASED = "milestone-released"
        FORCE_RELEASED = "force-released"
        FORCE_REFUND = "force-refund"
        MILESTONE_RESET = "milestone-reset"
        FULL_REFUND = "full-refund"
        EMERGENCY_REFUND = "emergency-refund"

    TRANSITIONS: dict[str, set[str]] = {
        Status.OPEN: {Status.RESOLVED, Status.VOID},
        Status.RESOLVED: {Status.VOID},
        Status.VOID: {Status.OPEN},
    }

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="disputes")
    milestone_number = models.PositiveSmallIntegerField()
    filed_by = models.CharField(max_length=64, help_text="Stacks address of the party who filed.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    filed_tx_id = models.CharField(max_length=66, unique=True)
    filed_block_height = models.PositiveBigIntegerField()
    filed_at = models.DateTimeField()
    resolved_in_favor_of = models.CharField(max_length=10, choices=Party.choices, blank=True)
    close_reason = models.CharField(max_length=20, choices=CloseReason.choices, blank=True)
    resolved_tx_id = models.CharField(max_length=66, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # The reviewer's decision, recorded when their wallet broadcast admin-resolve-dispute-*;
    # the dispute turns resolved only when the indexer sees dispute-resolved.
    rationale = models.TextField(max_length=10000, blank=True)
    resolution_release_to_freelancer = models.BooleanField(null=True, blank=True)
    resolution_tx_id = models.CharField(max_length=66, blank=True)
    resolution_by = models.CharField(max_length=64, blank=True, help_text="Reviewer's address.")
    resolution_recorded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["filed_at", "id"]
        indexes = [models.Index(fields=["status", "filed_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "milestone_number"],
                condition=Q(status="open"),
                name="dispute_one_open_per_milestone",
            ),
            models.CheckConstraint(
                condition=Q(milestone_number__gte=1) & Q(milestone_number__lte=MAX_MILESTONES),
                name="dispute_milestone_range",
            ),
        ]

    def __str__(self) -> str:
        return f"dispute {self.pk} on {self.project_id}/{self.milestone_number} ({self.status})"

    def can_transition(self, to: str) -> bool:
        return to in self.TRANSITIONS[self.status]


class DisputeStatement(models.Model):
    """A party's own account of the dispute: one per side, which that party may rewrite while
    the dispute is open (projects.services.dispute_statement_set). Both parties and the
    reviewers read both statements."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="statements")
    party = models.CharField(max_length=10, choices=Dispute.Party.choices)
    author = models.CharField(max_length=64, help_text="The party's Stacks address.")
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["dispute_id", "party"]
        constraints = [
            models.UniqueConstraint(
                fields=["dispute", "party"], name="dispute_statement_one_per_side"
            ),
            models.CheckConstraint(
                condition=Q(party__in=["client", "freelancer"]), name="dispute_statement_party"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.party}'s statement on dispute {self.dispute_id}"


class Evidence(models.Model):
    """What a party submits to a dispute. Immutable: no service edits or deletes a row. A file,
    when any, is recorded as plain copies of the stored file's identity (no foreign key: the
    record stays whatever happens to the upload)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="evidence")
    submitted_by = models.CharField(max_length=64)
    description = models.TextField(max_length=10000)
    links = models.JSONField(default=list, blank=True)
    file_cid = models.CharField(max_length=128, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "evidence"

    def __str__(self) -> str:
        return f"evidence {self.pk} on dispute {self.dispute_id} by {self.submitted_by}"


class ResolutionAttempt(models.Model):
    """A reviewer's broadcast of admin-resolve-dispute-*: the transaction, the decision and the
    written rationale. Append-only (a new broadcast after a failed one is a new row), so what
    each reviewer decided stays on record. The rationale is published to the parties only when
    the chain closed the dispute by dispute-resolved in this very transaction, with this
    decision."""

    dispute = models.ForeignKey(
        Dispute, on_delete=models.CASCADE, related_name="resolution_attempts"
    )
    tx_id = models.CharField(max_length=66, unique=True, help_text="Lower-case 0x + 64 hex.")
    release_to_freelancer = models.BooleanField()
    rationale = models.TextField(max_length=10000)
    reviewer = models.CharField(max_length=64, help_text="The reviewer's Stacks address.")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"resolution attempt {self.tx_id} on dispute {self.dispute_id}"

    @property
    def in_favor_of(self) -> str:
        return Dispute.Party.FREELANCER if self.release_to_freelancer else Dispute.Party.CLIENT
