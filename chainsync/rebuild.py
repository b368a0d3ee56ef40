"""Rebuild the projection from the chain record alone: reset the rows of the projects concerned
(and the contract settings), reset what their linked off-chain projects took from the chain, and
replay the canonical events in chain order. Deterministic: the same record always gives the same
projection, and the same result as indexing that record event by event did."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet

from chainsync import record, services
from chainsync.client import StacksApiClient
from chainsync.models import (
    CHAIN_ORDER,
    NEWEST_FIRST,
    ChainEvent,
    ChainProject,
    ContractSettings,
    SyncState,
)
from chainsync.projection import settings_get
from chainsync.services.apply import BATCH  # replayed in events_apply's batches
from projects import services as projects_services
from projects.models import Project
from stxworx.sql import chunks

PENDING = ChainEvent.State.PENDING
# Statuses only the chain gives (or, for pending, a funding tx recorded): the ones a reset undoes.
CHAIN_STATUSES = [
    Project.Status.PENDING,
    Project.Status.ACTIVE,
    Project.Status.COMPLETED,
    Project.Status.REVIEWED,
    Project.Status.DISPUTED,
    Project.Status.REFUNDED,
]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RebuildResult:
    projects: int  # on-chain projects in the rebuilt projection
    replayed: int  # events replayed (applied + failed)
    applied: int
    failed: int
    blocked: bool  # stopped at a project-created whose amounts are unknown; the rest is pending


NOTHING = RebuildResult(0, 0, 0, 0, False)


def projection_rebuild(
    *,
    contract_id: str,
    on_chain_ids: Iterable[int | None] | None = None,
    notify_new: bool = False,
    progress: Progress | None = None,
) -> RebuildResult:
    """Rebuild the projection of `on_chain_ids` (None: every project and the contract settings)
    from the canonical stored event log, in one transaction holding the sync-state lock.

    The contract settings are reset and their applied events replayed too, so each project is
    created at the fee rate then in force. Events are replayed in chain order without
    notifications, except, with `notify_new`, those never applied before (the news of a fork's
    replacement blocks). Linked off-chain projects are unlinked first and follow the replay
    (reviews given stay: a completed project both parties reviewed is `reviewed` again).
    Non-canonical events in scope become pending (no longer in the projection). Network: none."""
    ids = None if on_chain_ids is None else sorted({i for i in on_chain_ids if i is not None})
    if ids == []:
        return NOTHING
    with transaction.atomic():
        services.sync_state_lock(contract_id=contract_id)
        replay = _replay_set(ids)
        order = list(replay.order_by(*CHAIN_ORDER).values_list("pk", "state"))
        fresh = {pk for pk, state in order if state == PENDING} if notify_new else set()
        replay.update(state=PENDING, error="", applied_at=None)
        _orphans_unapply(ids)
        _offchain_reset(ids)
        _projection_reset(ids, contract_id)
        result = _replay([pk for pk, _ in order], fresh, contract_id, progress)
    return result


def chain_resync(
    *,
    contract_id: str,
    client: StacksApiClient | None = None,
    progress: Progress | None = None,
) -> RebuildResult:
    """Rebuild every chain-derived field from the event log alone, silently (no
    notifications). With `client`, first read the contract's whole history again and make the
    record match it (record.snapshot_fetch: network first, every page), then reconcile and
    rebuild in one transaction. Raises StacksApiError before writing anything."""
    snapshot = None
    if client is not None:
        if progress:
            progress(f"reading the history of {contract_id} from {client.base_url}")
        snapshot = record.snapshot_fetch(client=client, contract_id=contract_id, progress=progress)
    with transaction.atomic():
        if snapshot is not None:
            record.snapshot_reconcile(snapshot, contract_id=contract_id)
        result = projection_rebuild(contract_id=contract_id, progress=progress)
        SyncState.objects.filter(contract_id=contract_id).update(reorg_due={})  # all rebuilt
        cursor_repair(contract_id=contract_id)
    return result


def cursor_repair(*, contract_id: str) -> None:
    """Keep the last indexed block a canonical one: after a fork, the block of the newest
    canonical event processed (or none). Runs in the caller's transaction."""
    state = SyncState.objects.select_for_update().get(contract_id=contract_id)
    processed = ChainEvent.objects.filter(canonical=True).exclude(state=PENDING)
    if processed.filter(block_hash=state.last_indexed_hash).exists():
        return
    newest = processed.order_by(*NEWEST_FIRST).first()
    state.last_indexed_height = newest.block_height if newest else 0
    state.last_indexed_hash = newest.block_hash if newest else ""
    state.save(update_fields=["last_indexed_height", "last_indexed_hash"])


# --- the steps -------------------------------------------------------------------------------


def _replay_set(ids: list[int] | None) -> QuerySet[ChainEvent]:
    """Canonical, well-formed events: of the projects in scope, and the contract's own ones
    already applied (a partial rebuild leaves pending ones to events_apply, in chain order)."""
    parsed = ChainEvent.objects.filter(canonical=True).exclude(event_name="")
    if ids is None:
        return parsed
    contract_applied = Q(project_id__isnull=True) & ~Q(state=PENDING)
    return parsed.filter(Q(project_id__in=ids) | contract_applied)


def _orphans_unapply(ids: list[int] | None) -> None:
    """Non-canonical events in scope are no longer in the projection (clears the "undone" mark;
    `applied_at` keeps when they had been)."""
    rows = ChainEvent.objects.filter(canonical=False).exclude(event_name="")
    if ids is not None:
        rows = rows.filter(project_id__in=ids)
    rows.exclude(state=PENDING).update(state=PENDING, error="")


def _offchain_reset(ids: list[int] | None) -> None:
    """Unlink the off-chain projects linked to the projects in scope, and those whose funding tx
    created one of them (a recorded disagreement is chain-derived too)."""
    created = ChainEvent.objects.filter(event_name="project-created")
    if ids is None:
        linked = Q(on_chain_id__isnull=False) | Q(chain__isnull=False)
    else:
        linked = Q(on_chain_id__in=ids) | Q(chain__on_chain_id__in=ids)
        created = created.filter(project_id__in=ids)
    funded = Q(funding_tx_id__in=created.values("tx_id"))
    targets = Project.objects.filter(linked | funded, status__in=CHAIN_STATUSES)
    for pk in sorted(set(targets.values_list("pk", flat=True))):
        projects_services.project_chain_unlink(project_id=pk)


def _projection_reset(ids: list[int] | None, contract_id: str) -> None:
    projects = ChainProject.objects.all()
    if ids is not None:
        projects = projects.filter(on_chain_id__in=ids)
    projects.delete()  # milestones and disputes cascade
    settings = settings_get(contract_id)
    for column in ContractSettings._meta.concrete_fields:
        if column.name not in ("id", "contract_id"):
            setattr(settings, column.attname, column.get_default())
    settings.save()


def _replay(
    pks: list[int], fresh: set[int], contract_id: str, progress: Progress | None
) -> RebuildResult:
    applied = failed = 0
    blocked = False
    for chunk in chunks(pks, BATCH):
        rows = ChainEvent.objects.in_bulk(chunk)
        batch = [rows[pk] for pk in chunk]
        # Notifying only for the events in `fresh` (never applied before).
        outcome = services.events_batch_apply(batch, contract_id=contract_id, notify=fresh)
        done, blocked = outcome.done, outcome.blocked
        ok = services.event_states_save(done)
        applied, failed = applied + ok, failed + len(done) - ok
        if progress and _tenth(applied + failed - len(done), applied + failed, len(pks)):
            progress(f"replayed {applied + failed}/{len(pks)} events")
        if blocked:
            break
    projects = ChainProject.objects.count()
    return RebuildResult(projects, applied + failed, applied, failed, blocked)


def _tenth(before: int, after: int, total: int) -> bool:
    """Whether replaying from `before` to `after` of `total` crossed a tenth (long runs only)."""
    return total > BATCH and (10 * before) // total != (10 * after) // total
