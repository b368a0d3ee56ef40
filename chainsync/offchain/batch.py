"""The off-chain projects of one batch (`Offchain`): read and locked up front, one step per
applied event in memory (chainsync.offchain.step), written back with the news once per batch."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from chainsync.models import ChainEvent, ChainProject, ChainTransaction
from chainsync.offchain.rules import DISPUTE_EVENTS
from chainsync.offchain.step import State, Step
from chainsync.projection import Applied, Projection
from notifications.services import NotificationDraft, notifications_create
from projects.models import Milestone, Project
from projects.services import DisputeBook
from stxworx.errors import ApplicationError
from stxworx.sql import rows_update

PROJECT_FIELDS = ["status", "on_chain_id", "funding_tx_id", "funding_error", "updated_at"]


@dataclass
class Offchain:
    """The off-chain projects of one batch: linked to its on-chain projects or funded by its
    project-created txs (locked), their state in memory, and the news to send."""

    projection: Projection
    rows: dict[int, Project]
    stored: dict[int, State]  # as loaded
    states: dict[int, State]  # as the batch leaves them
    funded: dict[str, int]  # funding tx -> the project it funds (the newest recorded)
    linked: set[int]  # off-chain projects linked to an on-chain one
    reviews: dict[int, int]
    milestone_rows: dict[int, dict[int, Milestone]]  # pk -> number -> row
    disputes: DisputeBook  # the projects' dispute records (projects.services)
    block_times: dict[str, datetime]  # tx -> its block's time, for the batch's dispute events
    news: list[NotificationDraft] = field(default_factory=list)

    @classmethod
    def load(cls, projection: Projection, batch: Iterable[ChainEvent]) -> Offchain:
        """Lock and read the off-chain projects the batch can touch: four queries, none when
        there are none."""
        created = {e.tx_id for e in batch if e.event_name == "project-created"}
        linked = {p.project_id for p in projection.projects.values() if p.project_id}
        rows: dict[int, Project] = {}
        if created or linked:
            query = Project.objects.select_for_update().filter(
                Q(pk__in=linked) | Q(funding_tx_id__in=created)
            )
            rows = {p.pk: p for p in query.order_by("pk")}
        funded: dict[str, int] = {}
        for p in sorted(rows.values(), key=lambda p: (p.created_at, p.pk)):
            if p.funding_tx_id in created:
                funded[p.funding_tx_id] = p.pk  # as .first() under Project's ordering
        milestone_rows: dict[int, dict[int, Milestone]] = {pk: {} for pk in rows}
        if rows:
            query = Milestone.objects.filter(project_id__in=rows).order_by("number")
            for m in query:
                milestone_rows[m.project_id][m.number] = m
        states = {pk: _state(row, milestone_rows[pk]) for pk, row in rows.items()}
        candidates = set(funded.values()) - linked
        if candidates:
            chains = ChainProject.objects.filter(project_id__in=candidates)
            linked |= set(chains.values_list("project_id", flat=True))
        reviews = dict(
            Project.objects.filter(pk__in=rows).annotate(n=Count("reviews")).values_list("pk", "n")
            if rows
            else {}
        )
        stored = {pk: state.copy() for pk, state in states.items()}
        numbers = {pk: set(by_number) for pk, by_number in milestone_rows.items()}
        disputes = DisputeBook(rows.values(), numbers)
        return cls(
            projection,
            rows,
            stored,
            states,
            funded,
            linked,
            reviews,
            milestone_rows,
            disputes,
            _block_times(batch, projection, funded) if rows else {},
        )

    def amounts(self, tx_id: str) -> list[int] | None:
        """Gross amounts, by milestone number, of the off-chain project funded by `tx_id`."""
        pk = self.funded.get(tx_id)
        if pk is None:
            return None
        return [m.amount for m in self.milestone_rows[pk].values()]

    # --- per event ---

    def event_sync(self, event: ChainEvent, applied: Applied, *, notify: bool) -> str:
        """The off-chain step of an applied event: the reason it failed, or ""."""
        chain = applied.project
        if chain is None:
            return ""
        if event.event_name == "project-created":
            pk = self.funded.get(event.tx_id)
            if pk is None or pk in self.linked:
                return ""  # an on-chain-only project: indexed all the same
        elif chain.project_id is None:
            return ""  # an on-chain-only project: nothing off chain to keep in step
        else:
            pk = chain.project_id
        step = Step(self, self.rows[pk], self.states[pk].copy(), event, notify)
        try:
            step.run(chain, split_corrected=applied.split_corrected)
        except ApplicationError as exc:
            return f"off-chain project not updated: {exc.message}"
        self.states[pk] = step.state
        self.news += step.news
        if step.linked is not None:
            self.projection.project_link(chain, pk if step.linked else None)
            (self.linked.add if step.linked else self.linked.discard)(pk)
        return ""

    # --- writing back ---

    def save(self) -> None:
        """Write the projects and milestones that changed, and the news (pushed after commit)."""
        now = timezone.now()
        projects, milestones = [], []
        for pk, state in sorted(self.states.items()):
            before, row = self.stored[pk], self.rows[pk]
            if (state.status, state.on_chain_id, state.funding_tx_id, state.funding_error) != (
                before.status,
                before.on_chain_id,
                before.funding_tx_id,
                before.funding_error,
            ):
                row.status, row.on_chain_id = state.status, state.on_chain_id
                row.funding_tx_id, row.funding_error = state.funding_tx_id, state.funding_error
                row.updated_at = now
                projects.append(row)
            for number, value in state.milestones.items():
                if value != before.milestones.get(number):
                    m = self.milestone_rows[pk][number]
                    m.status, m.tx_hash = value
                    milestones.append(m)
        rows_update(Project, projects, PROJECT_FIELDS)
        rows_update(Milestone, milestones, ["status", "tx_hash"])
        notifications_create(drafts=self.news + self.disputes.save())


def _state(row: Project, milestones: dict[int, Milestone]) -> State:
    return State(
        row.status,
        row.on_chain_id,
        row.funding_tx_id,
        row.funding_error,
        {n: (m.status, m.tx_hash) for n, m in milestones.items()},
    )


def _block_times(
    batch: Iterable[ChainEvent], projection: Projection, funded: dict[str, int]
) -> dict[str, datetime]:
    """When the blocks of the batch's dispute events were made (their calls' block_time), for
    the on-chain projects that can have an off-chain one in this batch (linked already, or
    created by a funding tx): only their steps keep dispute records. One query, none when the
    batch has no such event. An event whose project id is unknown counts (never too few)."""
    offchain = {i for i, p in projection.projects.items() if p.project_id is not None}
    offchain |= {
        e.project_id for e in batch if e.event_name == "project-created" and e.tx_id in funded
    }
    tx_ids = {
        e.tx_id
        for e in batch
        if e.event_name in DISPUTE_EVENTS and (e.project_id is None or e.project_id in offchain)
    }
    if not tx_ids:
        return {}
    rows = ChainTransaction.objects.filter(tx_id__in=tx_ids, block_time__isnull=False)
    return dict(rows.values_list("tx_id", "block_time"))
