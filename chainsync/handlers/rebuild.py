"""Rebuild the projection from the chain record alone: reset the rows of the projects concerned
(and the contract settings), reset what their linked off-chain projects took from the chain, and
replay the canonical events in chain order. Deterministic: the same record always gives the same
projection, and the same result as indexing that record event by event did.

Forks settle here too: after the fetch, the projects whose history a fork changed (recorded by
chainsync.log.tail/forks) are rebuilt, and the parties of linked projects where something they
saw was undone are told (chain_reorg). A fork deeper than the provisional window is repaired by
`chain_repair` (verify_sync --fix). No network I/O: a resync or repair from the chain is handed
the history its caller read (chainsync.log.snapshot.snapshot_fetch). Entry points that own a
transaction use atomic(durable=True); the rest runs in its caller's."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet

from chainsync.handlers.apply import BATCH, events_batch_apply  # replayed in its batches
from chainsync.handlers.projection import settings_get
from chainsync.log import forks
from chainsync.log.events import event_states_save, events_requeue
from chainsync.log.snapshot import Snapshot, snapshot_reconcile
from chainsync.log.state import cursor_repair, reorg_due_clear, sync_state_lock
from chainsync.models import CHAIN_ORDER, ChainEvent, ChainProject, ContractSettings, SyncState
from notifications.events import project_link
from notifications.models import Notification
from notifications.services import NotificationDraft, notifications_create
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
    from the canonical stored event log, in the caller's transaction, holding the sync-state
    lock.

    The contract settings are reset and their applied events replayed too, so each project is
    created at the fee rate then in force. Events are replayed in chain order without
    notifications, except, with `notify_new`, those never applied before (the news of a fork's
    replacement blocks). Linked off-chain projects are unlinked first and follow the replay
    (reviews given stay: a completed project both parties reviewed is `reviewed` again).
    Non-canonical events in scope become pending (no longer in the projection). Network: none."""
    ids = None if on_chain_ids is None else sorted({i for i in on_chain_ids if i is not None})
    if ids == []:
        return NOTHING
    sync_state_lock(contract_id=contract_id)
    replay = _replay_set(ids)
    order = list(replay.order_by(*CHAIN_ORDER).values_list("pk", "state"))
    fresh = {pk for pk, state in order if state == PENDING} if notify_new else set()
    events_requeue(replay)
    _orphans_unapply(ids)
    _offchain_reset(ids)
    _projection_reset(ids, contract_id)
    return _replay([pk for pk, _ in order], fresh, contract_id, progress)


def chain_resync(
    *,
    contract_id: str,
    snapshot: Snapshot | None = None,
    progress: Progress | None = None,
) -> RebuildResult:
    """Rebuild every chain-derived field from the event log alone, silently (no
    notifications). With `snapshot` (the contract's whole history read again by the caller,
    chainsync.log.snapshot.snapshot_fetch), first make the record match it; all in one
    transaction."""
    with transaction.atomic(durable=True):
        if snapshot is not None:
            snapshot_reconcile(snapshot, contract_id=contract_id)
        result = projection_rebuild(contract_id=contract_id, progress=progress)
        reorg_due_clear(contract_id=contract_id)  # all rebuilt
        cursor_repair(contract_id=contract_id)
    return result


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
    events_requeue(rows, keep_applied_at=True)


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
        outcome = events_batch_apply(batch, contract_id=contract_id, notify=fresh)
        done, blocked = outcome.done, outcome.blocked
        ok = event_states_save(done)
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


# --- forks: settle what a fork changed, repair a deep one -------------------------------------


@dataclass(frozen=True)
class ReorgResult:
    undone: tuple[int, ...]  # on-chain projects where something applied was undone
    rebuilt: tuple[int, ...] | None  # on-chain projects rebuilt; None: everything
    notified: int  # chain_reorg notifications sent


SETTLED = ReorgResult((), (), 0)


def reorg_settle_due(*, contract_id: str, notify: bool = True) -> ReorgResult:
    """Settle what a fork left due, if anything (the poll after its fetch, a Chainhook delivery
    after its rollback): `changes_settle` of what the sync state holds, in a transaction of its
    own. No network; one query when nothing is due (SETTLED)."""
    due = SyncState.objects.filter(contract_id=contract_id).values_list("reorg_due", flat=True)
    if not any(due):
        return SETTLED
    with transaction.atomic(durable=True):
        return changes_settle(contract_id=contract_id, changes=forks.Changes(), notify=notify)


def changes_settle(*, contract_id: str, changes: forks.Changes, notify: bool) -> ReorgResult:
    """Rebuild the projects whose history changed (`changes`, what is due in the sync state, and
    projects holding an undone event): all of them when the contract's own events changed or
    one is pending that a partial rebuild could not place. Events never applied before bring
    their usual news; with `notify`, both parties of each off-chain project linked to a project
    where an applied event was undone get chain_reorg. Clears what was due. Runs in the
    caller's transaction."""
    state = sync_state_lock(contract_id=contract_id)
    changes.update(forks.due_of(state))
    changes.undone |= forks.undone_marked()
    scope = changes.touched | changes.undone
    result = _settle(contract_id, scope, changes.undone, notify) if scope else SETTLED
    reorg_due_clear(contract_id=contract_id)
    return result


def _settle(
    contract_id: str, scope: set[int | None], undone: set[int | None], notify: bool
) -> ReorgResult:
    full = forks.CONTRACT in scope or forks.contract_events_pending()
    undone_ids = sorted(i for i in undone if i is not None)
    linked = _linked(undone_ids)
    projection_rebuild(
        contract_id=contract_id, on_chain_ids=None if full else scope, notify_new=notify
    )
    notified = _reorg_notify(linked) if notify else 0
    cursor_repair(contract_id=contract_id)
    rebuilt = None if full else tuple(sorted(i for i in scope if i is not None))
    return ReorgResult(tuple(undone_ids), rebuilt, notified)


def chain_repair(
    *, snapshot: Snapshot, contract_id: str, on_chain_ids: Collection[int], notify: bool = True
) -> ReorgResult:
    """Make the record match `snapshot` (the contract's whole history read again by the
    caller: verify_sync --fix) and rebuild `on_chain_ids` and every project whose record that
    changed, in one transaction."""
    with transaction.atomic(durable=True):
        changes = snapshot_reconcile(snapshot, contract_id=contract_id)
        changes.touched |= set(on_chain_ids)
        return changes_settle(contract_id=contract_id, changes=changes, notify=notify)


def _linked(on_chain_ids: list[int]) -> list[tuple[Project, int]]:
    """Off-chain projects linked to these on-chain ones now (before a rebuild changes it)."""
    if not on_chain_ids:
        return []
    rows = Project.objects.filter(
        Q(on_chain_id__in=on_chain_ids) | Q(chain__on_chain_id__in=on_chain_ids)
    ).distinct()
    return [(p, p.on_chain_id) for p in rows.order_by("pk")]


def _reorg_notify(linked: list[tuple[Project, int]]) -> int:
    """chain_reorg to both parties of each project: one INSERT and one push after commit."""
    drafts = [
        NotificationDraft(
            recipient=party,
            type=Notification.Type.CHAIN_REORG,
            project_id=project.pk,
            message=(
                f"“{project.title}”: a chain reorganisation undid part of its on-chain "
                "history. It now shows what the chain holds."
            ),
            link=project_link(project.pk),
            payload={"onChainId": on_chain_id},
        )
        for project, on_chain_id in linked
        for party in dict.fromkeys(
            p for p in (project.client_address, project.freelancer_address) if p
        )
    ]
    return len(notifications_create(drafts=drafts))
