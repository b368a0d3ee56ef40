"""Forks. An event is final once `CHAINSYNC["CONFIRMATIONS"]` blocks (INDEXER_CONFIRMATIONS,
default 6) separate its block from the chain tip, and provisional before. Each poll:

1. Before the fetch, `provisional_tail_check` re-checks every stored canonical tx whose block is
   still provisional. The head page of the contract's transactions (one request; the route lists
   canonical txs only) vouches for each height whose stored txs it lists in the same block; each
   other height costs a block request. A block whose index_block_hash is not the stored one (or
   a height the API no longer has) was orphaned, and with it its txs. Each orphaned tx, and each
   one orphaned earlier and still in the mempool, is then looked up (one request): mined again,
   it is re-admitted with its new block and its prints read anew; otherwise it waits, or is
   dropped. This has to precede the fetch: chain_fetch's walk skips stored rows, and a stale row
   of a tx mined again would stop it. The fetch markers go below the fork, so the walk picks up
   the replacement blocks. What changed is kept in the sync state (`reorg_due`).
2. chain_fetch stores the new rows.
3. After it, `reorg_settle` rebuilds every project whose history changed from the canonical log
   (chainsync.rebuild), with the usual news for events never applied before, and tells the
   parties of linked projects where something they saw was undone (chain_reorg).

A fork deeper than the provisional window is not seen here: verify_sync (and its schedule)
reconciles the projection with the contract's state for that, through `chain_repair`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max, Q

from chainsync import rebuild, record, services
from chainsync.client import (
    Block,
    StacksApiBadResponse,
    StacksApiClient,
    StacksApiGone,
    StacksApiNotFound,
    Transaction,
)
from chainsync.models import ChainTransaction, SyncState
from chainsync.selectors.common import confirmations_required
from notifications.events import project_link
from notifications.models import Notification
from notifications.services import NotificationDraft, notifications_create
from projects.models import Project


def is_final(block_height: int, tip_height: int) -> bool:
    """Whether what a block holds is final with the chain tip at `tip_height`."""
    return tip_height - block_height >= confirmations_required()


# --- before the fetch: the provisional tail ---------------------------------------------------


@dataclass(frozen=True)
class TailCheck:
    heights: int  # provisional heights checked
    orphaned: tuple[str, ...]  # tx ids a fork took out in this check
    readmitted: tuple[str, ...]  # orphaned tx ids found mined again
    probed: int = 0  # of `heights`, those the listing did not vouch for (a block request each)


def provisional_tail_check(*, client: StacksApiClient, contract_id: str) -> TailCheck:
    """Check the provisional tail (against the tip of the last poll, which only widens the
    window): the heights the contract's newest transactions vouch for (`_vouched`, one request),
    then a block request for each other height; look up every orphaned tx still waiting, and
    record what was seen (record.fork_record). Network first, then one short transaction, only
    when something changed. Raises StacksApiError."""
    stored = _provisional_txs(_tip_floor(contract_id))
    vouched = _vouched(client, contract_id, stored) if stored else set()
    blocks: dict[int, Block | None] = {}
    orphaned = []
    for height in sorted(stored.keys() - vouched, reverse=True):
        blocks[height] = _block_at(client, height)
        orphaned += _orphaned_in(blocks[height], stored[height])
    watched = sorted({*orphaned, *(tx.tx_id for tx in record.orphans_watched())})
    sightings = [_sighting(client, contract_id, tx_id, blocks) for tx_id in watched]
    if orphaned or any(s.status != record.ORPHANED for s in sightings):
        record.fork_record(contract_id=contract_id, orphaned=orphaned, sightings=sightings)
    readmitted = tuple(s.tx_id for s in sightings if s.mined is not None)
    return TailCheck(len(stored), tuple(orphaned), readmitted, len(blocks))


def _vouched(
    client: StacksApiClient, contract_id: str, stored: dict[int, dict[str, str]]
) -> set[int]:
    """The heights whose every stored tx the head page of the contract's transactions lists at
    that height in the block stored for it. The route lists canonical txs only, from one
    snapshot, so such a block is canonical: as good as a block request, for all of them at once.

    It only ever vouches. A tx it does not list (older than the page, or an API lagging) or
    lists elsewhere is left to the block request. Stopping at the newest matching block instead
    would miss a fork between a tail check and the fetch that follows it: that fetch stores the
    new branch's txs above the old branch's stored ones, and the newest then matches."""
    page = client.principal_transactions(contract_id)
    listed = {row.tx_id: (row.block_height, row.index_block_hash) for row in page.results}
    return {
        height
        for height, txs in stored.items()
        if all(listed.get(tx_id) == (height, index_hash) for tx_id, index_hash in txs.items())
    }


def _tip_floor(contract_id: str) -> int:
    """A height the chain tip is at or above: the tip of the last completed poll, or the
    newest stored tx (an interrupted first walk stores txs before it records any tip)."""
    tip = SyncState.objects.filter(contract_id=contract_id).values_list(
        "chain_tip_height", flat=True
    )
    newest = ChainTransaction.objects.aggregate(newest=Max("block_height"))["newest"]
    return max(next(iter(tip), 0), newest or 0)


def _provisional_txs(tip_height: int) -> dict[int, dict[str, str]]:
    rows = ChainTransaction.objects.filter(
        canonical=True, block_height__gt=tip_height - confirmations_required()
    ).values_list("block_height", "tx_id", "index_block_hash")
    by_height: dict[int, dict[str, str]] = defaultdict(dict)
    for height, tx_id, index_hash in rows:
        by_height[height][tx_id] = index_hash
    return by_height


def _block_at(client: StacksApiClient, height: int) -> Block | None:
    """The canonical block at `height`; None when the chain is shorter now. A 404 at or below
    the API's tip says nothing about forks (a broken route or node): it fails the poll rather
    than orphan the whole window."""
    try:
        return client.block(height)
    except StacksApiNotFound as missing:
        tip = client.status().chain_tip
        if tip is not None and tip.block_height < height:
            return None
        raise StacksApiBadResponse(
            f"block {height} is missing at or below the tip", route="block", status=404
        ) from missing


def _orphaned_in(block: Block | None, txs: dict[str, str]) -> list[str]:
    return sorted(
        tx_id
        for tx_id, index_hash in txs.items()
        if block is None or index_hash != block.index_block_hash
    )


def _sighting(
    client: StacksApiClient, contract_id: str, tx_id: str, blocks: dict[int, Block | None]
) -> record.Sighting:
    """Where an orphaned tx is now: one lookup (v1, the route that lists its prints; v3 when v1
    is gone, keeping the stored prints), plus a block request for the index hash v1 lacks."""
    try:
        found, prints = _lookup(client, contract_id, tx_id)
    except StacksApiNotFound:
        return record.Sighting(tx_id, record.ORPHANED, None)
    if not (found.mined and found.canonical):
        dropped = found.status.startswith("dropped")
        return record.Sighting(tx_id, found.status if dropped else record.ORPHANED, None)
    index_hash = found.index_block_hash or _index_hash(client, found, blocks)
    if index_hash is None:
        return record.Sighting(tx_id, record.ORPHANED, None)  # forked again meanwhile
    mined = record.Mined(
        found.block_height or 0,
        found.block_hash or "",
        index_hash,
        found.burn_block_height or 0,
        found.tx_index or 0,
        found.block_time,
    )
    return record.Sighting(tx_id, found.status, mined, prints, found.result_hex)


def _lookup(
    client: StacksApiClient, contract_id: str, tx_id: str
) -> tuple[Transaction, dict[int, str] | None]:
    try:
        found = client.transaction(tx_id, events=True)
    except StacksApiGone:
        return client.transaction(tx_id), None
    logs = (event.contract_log for event in found.events or ())
    prints = {
        log.event_index: log.value_hex
        for log in logs
        if log is not None and log.contract_id == contract_id and log.topic == "print"
    }
    return found, prints


def _index_hash(
    client: StacksApiClient, found: Transaction, blocks: dict[int, Block | None]
) -> str | None:
    height = found.block_height or 0
    if height not in blocks:
        blocks[height] = _block_at(client, height)
    block = blocks[height]
    return block.index_block_hash if block and block.hash == found.block_hash else None


# --- after the fetch: rebuild, notify ---------------------------------------------------------


@dataclass(frozen=True)
class ReorgResult:
    undone: tuple[int, ...]  # on-chain projects where something applied was undone
    rebuilt: tuple[int, ...] | None  # on-chain projects rebuilt; None: everything
    notified: int  # chain_reorg notifications sent


SETTLED = ReorgResult((), (), 0)


def reorg_settle(*, contract_id: str, notify: bool = True) -> ReorgResult:
    """After chain_fetch, settle what the tail check recorded (`changes_settle`). One query when
    nothing is due; otherwise one transaction. No network."""
    due = SyncState.objects.filter(contract_id=contract_id).values_list("reorg_due", flat=True)
    if not any(due):
        return SETTLED
    with transaction.atomic():
        return changes_settle(contract_id=contract_id, changes=record.Changes(), notify=notify)


def changes_settle(*, contract_id: str, changes: record.Changes, notify: bool) -> ReorgResult:
    """Rebuild the projects whose history changed (`changes`, what is due in the sync state, and
    projects holding an undone event): all of them when the contract's own events changed or
    one is pending that a partial rebuild could not place. Events never applied before bring
    their usual news; with `notify`, both parties of each off-chain project linked to a project
    where an applied event was undone get chain_reorg. Clears what was due. Runs in the
    caller's transaction."""
    state = services.sync_state_lock(contract_id=contract_id)
    changes.update(record.due_of(state))
    changes.undone |= record.undone_marked()
    scope = changes.touched | changes.undone
    result = _settle(contract_id, scope, changes.undone, notify) if scope else SETTLED
    state.reorg_due = {}
    state.save(update_fields=["reorg_due"])
    return result


def _settle(
    contract_id: str, scope: set[int | None], undone: set[int | None], notify: bool
) -> ReorgResult:
    full = record.CONTRACT in scope or record.contract_events_pending()
    undone_ids = sorted(i for i in undone if i is not None)
    linked = _linked(undone_ids)
    rebuild.projection_rebuild(
        contract_id=contract_id, on_chain_ids=None if full else scope, notify_new=notify
    )
    notified = _reorg_notify(linked) if notify else 0
    rebuild.cursor_repair(contract_id=contract_id)
    rebuilt = None if full else tuple(sorted(i for i in scope if i is not None))
    return ReorgResult(tuple(undone_ids), rebuilt, notified)


def chain_repair(
    *, client: StacksApiClient, contract_id: str, on_chain_ids: Collection[int], notify: bool = True
) -> ReorgResult:
    """Read the contract's whole history again, make the record match it, and rebuild
    `on_chain_ids` and every project whose record that changed (verify_sync --fix). Network
    first (every logs and transactions page), then one transaction. Raises StacksApiError."""
    snapshot = record.snapshot_fetch(client=client, contract_id=contract_id)
    with transaction.atomic():
        changes = record.snapshot_reconcile(snapshot, contract_id=contract_id)
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
