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
3. After it, `reorg_settle_due` rebuilds every project whose history changed from the canonical log
   (chainsync.handlers.rebuild), with the usual news for events never applied before, and tells the
   parties of linked projects where something they saw was undone (chain_reorg).

A fork deeper than the provisional window is not seen here: verify_sync (and its schedule)
reconciles the projection with the contract's state for that, through `chain_repair`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Max

from chainsync.client import (
    Block,
    PrincipalTxPage,
    StacksApiBadResponse,
    StacksApiClient,
    StacksApiGone,
    StacksApiNotFound,
    Transaction,
)
from chainsync.conf import confirmations_required
from chainsync.log import forks
from chainsync.models import ChainEvent, ChainTransaction, SyncState


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
    head: PrincipalTxPage | None = None  # the head page of the contract's txs, if it was read


def tip_unchanged(*, contract_id: str, tip_hash: str) -> bool:
    """True when the API's tip is the one the last completed poll indexed through with nothing
    waiting (`last_indexed_hash` is kept only then), no event is pending, no fork is left to
    settle and no orphaned call is watched: a poll would find nothing (a fork or a new block
    changes the tip's hash), so it costs only the tip's request."""
    state = SyncState.objects.filter(contract_id=contract_id).first()
    return (
        state is not None
        and bool(tip_hash)
        and state.last_indexed_hash == tip_hash
        and not state.reorg_due
        and not ChainEvent.objects.filter(state=ChainEvent.State.PENDING, canonical=True).exists()
        and not forks.orphans_watched()
    )


def provisional_tail_check(*, client: StacksApiClient, contract_id: str) -> TailCheck:
    """Check the provisional tail (against the tip of the last poll, which only widens the
    window): the heights the contract's newest transactions vouch for (`_vouched`, one request),
    then a block request for each other height; look up every orphaned tx still waiting, and
    record what was seen (forks.fork_record). Network first, then one short transaction, only
    when something changed. Raises StacksApiError."""
    stored = _provisional_txs(_tip_floor(contract_id))
    head = client.principal_transactions(contract_id) if stored else None
    vouched = _vouched(head, stored) if head is not None else set()
    blocks: dict[int, Block | None] = {}
    orphaned = []
    for height in sorted(stored.keys() - vouched, reverse=True):
        blocks[height] = _block_at(client, height)
        orphaned += _orphaned_in(blocks[height], stored[height])
    watched = sorted({*orphaned, *(tx.tx_id for tx in forks.orphans_watched())})
    sightings = [_sighting(client, contract_id, tx_id, blocks) for tx_id in watched]
    if orphaned or any(s.status != forks.ORPHANED for s in sightings):
        forks.fork_record(contract_id=contract_id, orphaned=orphaned, sightings=sightings)
    readmitted = tuple(s.tx_id for s in sightings if s.mined is not None)
    return TailCheck(len(stored), tuple(orphaned), readmitted, len(blocks), head)


def _vouched(page: PrincipalTxPage, stored: dict[int, dict[str, str]]) -> set[int]:
    """The heights whose every stored tx the head page of the contract's transactions lists at
    that height in the block stored for it. The route lists canonical txs only, from one
    snapshot, so such a block is canonical: as good as a block request, for all of them at once.

    It only ever vouches. A tx it does not list (older than the page, or an API lagging) or
    lists elsewhere is left to the block request. Stopping at the newest matching block instead
    would miss a fork between a tail check and the fetch that follows it: that fetch stores the
    new branch's txs above the old branch's stored ones, and the newest then matches. (The fetch
    of the same poll walks from this very page, so no fork falls between them in one poll.)"""
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
) -> forks.Sighting:
    """Where an orphaned tx is now: one lookup (v1, the route that lists its prints; v3 when v1
    is gone, keeping the stored prints), plus a block request for the index hash v1 lacks."""
    try:
        found, prints = _lookup(client, contract_id, tx_id)
    except StacksApiNotFound:
        return forks.Sighting(tx_id, forks.ORPHANED, None)
    if not (found.mined and found.canonical):
        dropped = found.status.startswith("dropped")
        return forks.Sighting(tx_id, found.status if dropped else forks.ORPHANED, None)
    index_hash = found.index_block_hash or _index_hash(client, found, blocks)
    if index_hash is None:
        return forks.Sighting(tx_id, forks.ORPHANED, None)  # forked again meanwhile
    mined = forks.Mined(
        found.block_height or 0,
        found.block_hash or "",
        index_hash,
        found.burn_block_height or 0,
        found.tx_index or 0,
        found.block_time,
    )
    return forks.Sighting(tx_id, found.status, mined, prints, found.result_hex)


def _lookup(
    client: StacksApiClient, contract_id: str, tx_id: str
) -> tuple[Transaction, dict[int, str] | None]:
    try:
        found = client.transaction(tx_id, events=True)
    except StacksApiGone:
        return client.transaction(tx_id), None
    return found, found.prints_of(contract_id)


def _index_hash(
    client: StacksApiClient, found: Transaction, blocks: dict[int, Block | None]
) -> str | None:
    height = found.block_height or 0
    if height not in blocks:
        blocks[height] = _block_at(client, height)
    block = blocks[height]
    return block.index_block_hash if block and block.hash == found.block_hash else None
