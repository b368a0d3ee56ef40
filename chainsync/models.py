"""The chain's record: the contract's transactions and print events as the API reported them
(append-only), and the sync state. The projection built from it (on-chain projects, milestones,
disputes, the contract's settings) is derived from these rows alone."""

from __future__ import annotations

from django.db import models

from chainsync.fields import U128Field

# Events in chain order (block, tx in it, print in the tx), and newest first.
CHAIN_ORDER = ("block_height", "tx_index", "event_index")
NEWEST_FIRST = tuple(f"-{column}" for column in CHAIN_ORDER)


class ChainTransaction(models.Model):
    """A call to the escrow contract, as the API reported it (success or aborted)."""

    tx_id = models.CharField(max_length=66, unique=True)
    block_height = models.PositiveBigIntegerField()
    block_hash = models.CharField(max_length=66)
    index_block_hash = models.CharField(max_length=66)
    burn_block_height = models.PositiveBigIntegerField()
    block_time = models.DateTimeField(null=True, blank=True)
    tx_index = models.PositiveIntegerField()
    sender = models.CharField(max_length=64)
    function_name = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=40)
    canonical = models.BooleanField(default=True)
    # Filled by a transaction lookup, when needed (create calls whose amounts are unknown,
    # verify-tx): the call's arguments and result as Clarity hex.
    function_args = models.JSONField(default=list, blank=True)
    result_hex = models.TextField(blank=True)
    error_code = models.PositiveIntegerField(null=True, blank=True)
    seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["block_height", "tx_index"])]

    def __str__(self) -> str:
        return f"{self.tx_id[:12]}… {self.function_name} @{self.block_height}"


class ChainEvent(models.Model):
    """Every print event of the contract seen, in the order the chain wrote them."""

    class State(models.TextChoices):
        """pending -> applied | failed (the apply); applied | failed -> pending (a rebuild
        queues it again, or a fork undid it). A print is stored pending, or failed when
        malformed, and a print read anew (a tx executed again) is stored afresh. The table:
        EVENT_STATE_MOVES."""

        PENDING = "pending"
        APPLIED = "applied"
        FAILED = "failed"

        def can_become(self, new: str) -> bool:
            return new in EVENT_STATE_MOVES[self]

    tx_id = models.CharField(max_length=66)
    event_index = models.PositiveIntegerField()
    block_height = models.PositiveBigIntegerField()
    block_hash = models.CharField(max_length=66)
    burn_block_height = models.PositiveBigIntegerField()
    tx_index = models.PositiveIntegerField()
    sender = models.CharField(max_length=64)
    function_name = models.CharField(max_length=128, blank=True)
    event_name = models.CharField(max_length=64, blank=True, db_index=True)
    payload = models.JSONField(default=dict, blank=True)
    raw_hex = models.TextField()
    canonical = models.BooleanField(default=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    error = models.TextField(blank=True)
    project_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tx_id", "event_index"], name="chain_event_unique")
        ]
        indexes = [
            models.Index(
                fields=["state", *CHAIN_ORDER],
                name="chain_event_order",
            ),
            models.Index(fields=list(CHAIN_ORDER), name="chain_event_chain_order"),
        ]
        ordering = list(CHAIN_ORDER)

    def __str__(self) -> str:
        return f"{self.event_name} {self.tx_id[:12]}…#{self.event_index}"


# ChainEvent.State's transition table: the states each one may move to (chainsync.log.events
# writes them; nothing else does).
EVENT_STATE_MOVES: dict[str, frozenset[str]] = {
    ChainEvent.State.PENDING: frozenset({ChainEvent.State.APPLIED, ChainEvent.State.FAILED}),
    ChainEvent.State.APPLIED: frozenset({ChainEvent.State.PENDING}),
    ChainEvent.State.FAILED: frozenset({ChainEvent.State.PENDING}),
}


class SyncState(models.Model):
    """One row per contract followed: where the indexer is, and how it is doing."""

    contract_id = models.CharField(max_length=200, unique=True)
    newest_event = models.CharField(max_length=80, blank=True, help_text="tx_id:event_index")
    newest_tx = models.CharField(max_length=66, blank=True)
    # The newest of the contract's calls when the prints were last walked to the end (every
    # print's call is one of its calls, so while that is still the newest, no print is new),
    # and when that walk was: chain_fetch skips the prints while both hold (log/fetch.py).
    logs_through_tx = models.CharField(max_length=66, blank=True)
    logs_walked_at = models.DateTimeField(null=True, blank=True)
    last_indexed_height = models.PositiveBigIntegerField(default=0)
    last_indexed_hash = models.CharField(max_length=66, blank=True)
    chain_tip_height = models.PositiveBigIntegerField(default=0)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    events_applied = models.PositiveBigIntegerField(default=0)
    events_failed = models.PositiveBigIntegerField(default=0)
    api_requests = models.PositiveBigIntegerField(default=0)
    reorgs = models.PositiveIntegerField(default=0)
    # What a fork changed in the record and the next settle must rebuild, kept until it has:
    # {"touched": [on-chain ids, null for the contract's own events], "undone": [on-chain ids]}.
    reorg_due = models.JSONField(default=dict, blank=True)
    # Leadership: one indexer at a time; another takes over when the lease lapses.
    leader = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"sync of {self.contract_id} at {self.last_indexed_height}"


# --- the projection: derived from canonical, applied events alone --------------------------


class ContractSettings(models.Model):
    """The contract's admin settings as its events set them."""

    contract_id = models.CharField(max_length=200, unique=True)
    owner = models.CharField(max_length=200, blank=True)
    proposed_owner = models.CharField(max_length=200, blank=True)
    treasury = models.CharField(max_length=200, blank=True)
    paused = models.BooleanField(default=False)
    fee_rate = models.PositiveIntegerField(default=1000, help_text="Basis points.")
    sbtc_contract = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name_plural = "contract settings"

    def __str__(self) -> str:
        return f"settings of {self.contract_id}"


class ChainProject(models.Model):
    """A project as the contract holds it; `project` links the off-chain record, when any."""

    on_chain_id = models.PositiveBigIntegerField(unique=True)
    project = models.OneToOneField(
        "projects.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="chain"
    )
    client = models.CharField(max_length=64)
    freelancer = models.CharField(max_length=64)
    token = models.CharField(max_length=4)
    gross_amount = U128Field()
    total_amount = U128Field(help_text="Net escrow.")
    fee_paid = U128Field()
    num_milestones = models.PositiveSmallIntegerField()
    created_tx = models.CharField(max_length=66)
    created_block_height = models.PositiveBigIntegerField()
    created_burn_height = models.PositiveBigIntegerField()
    refunded = models.BooleanField(default=False)
    refunded_amount = U128Field(default=0)

    class Meta:
        ordering = ["on_chain_id"]

    def __str__(self) -> str:
        return f"on-chain project {self.on_chain_id}"


class ChainMilestone(models.Model):
    project = models.ForeignKey(ChainProject, on_delete=models.CASCADE, related_name="milestones")
    slot = models.PositiveSmallIntegerField()
    gross_amount = U128Field(null=True, blank=True)
    amount = U128Field(null=True, blank=True, help_text="Net.")
    complete = models.BooleanField(default=False)
    completed_burn_height = models.PositiveBigIntegerField(null=True, blank=True)
    released = models.BooleanField(default=False)
    released_to = models.CharField(max_length=64, blank=True)
    released_tx = models.CharField(max_length=66, blank=True)

    class Meta:
        ordering = ["project_id", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["project", "slot"], name="chain_milestone_unique")
        ]

    def __str__(self) -> str:
        return f"{self.project_id}/{self.slot}"


class ChainDispute(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        RESOLVED = "resolved"

    project = models.ForeignKey(ChainProject, on_delete=models.CASCADE, related_name="disputes")
    slot = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    filed_by = models.CharField(max_length=64)
    filed_tx = models.CharField(max_length=66)
    filed_burn_height = models.PositiveBigIntegerField()
    resolved_in_favor_of = models.CharField(max_length=64, blank=True)
    resolved_tx = models.CharField(max_length=66, blank=True)

    class Meta:
        ordering = ["project_id", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["project", "slot"], name="chain_dispute_unique")
        ]

    def __str__(self) -> str:
        return f"dispute {self.project_id}/{self.slot} {self.status}"
