"""Applying pending events to the projection, in chain order, a batch per database transaction
together with the sync state. A batch is set-based: its projection rows and off-chain projects
are read up front in a few queries, every event is applied in memory, and what changed is
written back in a few statements (chainsync.handlers.projection; the off-chain projects through
the projects app's chain book, projects.services.chain_book, fed by chainsync.handlers.facts)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from chainsync.handlers.facts import DISPUTE_EVENTS, chain_facts
from chainsync.handlers.projection import (
    AUDIT_ONLY,
    PROJECT_HANDLERS,
    AmountsUnknown,
    Applied,
    Projection,
    ProjectionError,
    on_project_created,
    on_settings,
)
from chainsync.log.amounts import FeeRates, create_args_amounts, offchain_gross, stored_args
from chainsync.log.events import event_states_save
from chainsync.log.state import state_advance, sync_state_lock
from chainsync.models import CHAIN_ORDER, ChainEvent, ChainProject, ChainTransaction
from projects.services.chain_book import ChainBook
from stxworx.errors import ApplicationError

# Events per batch (and per transaction): the projection rows a batch reads are shared by more
# of its events the larger it is (some 300 projects are open at once in the bench's history).
BATCH = 2000


@dataclass(frozen=True)
class ApplyResult:
    applied: int
    failed: int
    blocked: bool  # stopped at an event that cannot be applied yet (amounts unknown)
    lookup: str = ""  # blocked by a wrong split: the create call whose arguments are needed


@dataclass(frozen=True)
class BatchOutcome:
    done: list[ChainEvent]  # applied or failed, in chain order, states set (not saved)
    blocked: bool
    lookup: str = ""


BATCH_COLUMNS = (  # as BatchEvent.__init__ takes them
    "id",
    "tx_id",
    "event_index",
    "block_height",
    "block_hash",
    "burn_block_height",
    "tx_index",
    "sender",
    "function_name",
    "event_name",
    "payload",
    "state",
    "error",
    "project_id",
    "applied_at",
)


class BatchEvent:
    """A pending event as a batch reads and sets it: its columns without a model instance
    (building 2,000 of those per batch was a tenth of the apply). `pk` as on a model."""

    __slots__ = BATCH_COLUMNS

    def __init__(self, values: tuple[Any, ...]) -> None:
        (
            self.id,
            self.tx_id,
            self.event_index,
            self.block_height,
            self.block_hash,
            self.burn_block_height,
            self.tx_index,
            self.sender,
            self.function_name,
            self.event_name,
            self.payload,
            self.state,
            self.error,
            self.project_id,
            self.applied_at,
        ) = values

    @property
    def pk(self) -> int:
        return self.id


def events_apply(*, contract_id: str, batch_size: int = BATCH, notify: bool = True) -> ApplyResult:
    """Apply pending canonical events in chain order, a batch per database transaction together
    with the sync state, so a crash anywhere loses nothing and applies nothing twice. An event
    that does not fit is recorded as failed and the rest go on. Stops at an event whose amounts
    are unknown (`blocked`, with the call to look up)."""
    applied = failed = 0
    while True:
        with transaction.atomic(durable=True):
            state = sync_state_lock(contract_id=contract_id)
            rows = ChainEvent.objects.filter(state=ChainEvent.State.PENDING, canonical=True)
            batch = [
                BatchEvent(values)
                for values in rows.order_by(*CHAIN_ORDER).values_list(*BATCH_COLUMNS)[:batch_size]
            ]
            outcome = events_batch_apply(batch, contract_id=contract_id, notify=notify)
            ok = event_states_save(outcome.done)
            applied, failed = applied + ok, failed + len(outcome.done) - ok
            state_advance(state, outcome.done, ok, len(outcome.done) - ok)
        if outcome.blocked or len(batch) < batch_size:
            return ApplyResult(applied, failed, outcome.blocked, outcome.lookup)


def events_batch_apply(
    batch: list[ChainEvent], *, contract_id: str, notify: bool | Collection[int] = True
) -> BatchOutcome:
    """Apply `batch` (pending events, in chain order) to the projection and the off-chain
    projects, and write what changed; the events' states are set on them, not saved. `notify`:
    whether to tell the parties, or the pks of the events to tell about (a rebuild's new ones).
    Runs in the caller's transaction (it locks the off-chain projects concerned, in pk order)."""
    projection = Projection.load(
        contract_id=contract_id,
        project_ids={e.project_id for e in batch if e.project_id is not None},
    )
    offchain = Offchain.load(projection, batch)
    args = stored_args(e.tx_id for e in batch if e.event_name == "project-created")
    rates = FeeRates()  # asked only by a project-created whose call gives no amounts
    done: list[ChainEvent] = []
    blocked, lookup, now = False, "", timezone.now()
    for event in batch:
        try:
            applied = _apply_one(projection, offchain, args, rates, event)
        except AmountsUnknown as unknown:
            blocked, lookup = True, unknown.tx_id if unknown.split else ""
            break
        except (ProjectionError, KeyError, ValueError) as exc:
            event.state, event.error = ChainEvent.State.FAILED, f"{type(exc).__name__}: {exc}"
        else:
            tell = notify if isinstance(notify, bool) else event.pk in notify
            event.state = ChainEvent.State.APPLIED
            event.error = offchain.event_sync(event, applied, notify=tell)
        event.applied_at = now
        done.append(event)
    projection.save()
    offchain.book.save()
    return BatchOutcome(done, blocked, lookup)


def _apply_one(
    projection: Projection,
    offchain: Offchain,
    args: dict[str, list[str]],
    rates: FeeRates,
    event: ChainEvent,
) -> Applied:
    """The projection's part, in memory. Raises ProjectionError, KeyError or ValueError (the
    event fails, leaving no trace) or AmountsUnknown (the batch stops there)."""
    name = event.event_name
    if name == "project-created":
        fee_rate = rates.at(event.block_height, event.tx_index)
        gross = create_args_amounts(args.get(event.tx_id)) or offchain_gross(
            offchain.amounts(event.tx_id), event.payload, fee_rate
        )
        if gross is None:
            raise AmountsUnknown(event.tx_id)
        return on_project_created(projection, event, gross, fee_rate)
    if name in PROJECT_HANDLERS:
        return PROJECT_HANDLERS[name](projection, event)
    if name in AUDIT_ONLY:
        return Applied(None)
    return on_settings(projection, event)


@dataclass
class Offchain:
    """The off-chain projects of one batch, in the projects app's chain book (locked), and which
    of them an on-chain project links to."""

    projection: Projection
    book: ChainBook
    linked: set[int]  # off-chain projects linked to an on-chain one
    block_times: dict[str, datetime]  # tx -> its block's time, for the batch's dispute events

    @classmethod
    def load(cls, projection: Projection, batch: Iterable[ChainEvent]) -> Offchain:
        """Lock and read the off-chain projects the batch can touch: a few queries, none when
        there are none."""
        created = {e.tx_id for e in batch if e.event_name == "project-created"}
        linked = {p.project_id for p in projection.projects.values() if p.project_id}
        book = ChainBook.load(pks=linked, funding_txs=created)
        candidates = set(book.funded.values()) - linked
        if candidates:
            chains = ChainProject.objects.filter(project_id__in=candidates)
            linked |= set(chains.values_list("project_id", flat=True))
        times = _block_times(batch, projection, book.funded) if book.rows else {}
        return cls(projection, book, linked, times)

    def amounts(self, tx_id: str) -> list[int] | None:
        """Gross amounts, by milestone number, of the off-chain project funded by `tx_id`."""
        pk = self.book.funded.get(tx_id)
        if pk is None:
            return None
        return [m.amount for m in self.book.milestone_rows[pk].values()]

    def event_sync(self, event: ChainEvent, applied: Applied, *, notify: bool) -> str:
        """The off-chain step of an applied event: the reason it failed, or ""."""
        chain = applied.project
        if chain is None:
            return ""
        if event.event_name == "project-created":
            pk = self.book.funded.get(event.tx_id)
            if pk is None or pk in self.linked:
                return ""  # an on-chain-only project: indexed all the same
        elif chain.project_id is None:
            return ""  # an on-chain-only project: nothing off chain to keep in step
        else:
            pk = chain.project_id
        at = self.block_times.get(event.tx_id)
        facts = chain_facts(
            self.projection,
            chain,
            event,
            split_corrected=applied.split_corrected,
            at=at,
            notify=notify,
        )
        try:
            linked = self.book.event(pk, facts)
        except ApplicationError as exc:
            return f"off-chain project not updated: {exc.message}"
        if linked is not None:
            self.projection.project_link(chain, pk if linked else None)
            (self.linked.add if linked else self.linked.discard)(pk)
        return ""


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
