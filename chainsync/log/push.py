"""Chainhook's pushed blocks entered in the chain record (chainsync.chainhook parses them): the
rollback blocks undone first (their stored txs orphaned, as the tail check does), then the apply
blocks stored. Every row is provisional like a polled one, so the poller's provisional tail check
later confirms it or rolls it back. At-least-once delivery: rows are keyed on tx_id and
(tx_id, event_index), and a tx already stored in the same canonical block is left as it is."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from chainsync.chainhook import Payload, PushBlock, PushTx
from chainsync.log import forks
from chainsync.log.events import Place
from chainsync.log.fetch import event_row, event_rows_store, tx_row, tx_rows_store
from chainsync.log.state import sync_state_lock
from chainsync.models import ChainEvent, ChainTransaction


@dataclass(frozen=True)
class PushResult:
    rolled_back: int  # stored txs the rollback orphaned
    stored: int  # print events newly stored
    readmitted: int  # orphaned txs the apply blocks mined again


def payload_record(*, contract_id: str, payload: Payload) -> PushResult:
    """Undo `payload.rollback`, then store `payload.apply`. A rollback of blocks the record never
    had changes nothing; a redelivered payload stores nothing new."""
    rolled = _rolled_back(payload.rollback)
    stored = _stored(payload.apply)
    seen, fresh = [], []
    for block in payload.apply:
        for tx in block.txs:
            known = stored.get(tx.tx_id)
            if known is None:
                fresh.append((block, tx))
            elif known != (True, block.index_hash) or tx.tx_id in rolled:
                seen.append(_sighting(block, tx))
    if rolled or seen:
        forks.fork_record(contract_id=contract_id, orphaned=sorted(rolled), sightings=seen)
    count = 0
    if fresh:
        with transaction.atomic(durable=True):
            sync_state_lock(contract_id=contract_id)
            count = _fresh_store(fresh)
    return PushResult(len(rolled), count, len(seen))


def _rolled_back(blocks: list[PushBlock]) -> set[str]:
    """The canonical stored txs of the rollback blocks, named by index block hash or block hash
    (Chainhooks 2.0 does not say which its block_identifier.hash is; they cannot collide)."""
    hashes = {block.index_hash for block in blocks} | {block.block_hash for block in blocks}
    named = Q(index_block_hash__in=hashes) | Q(block_hash__in=hashes)
    rows = ChainTransaction.objects.filter(named, canonical=True)
    return set(rows.values_list("tx_id", flat=True))


def _stored(blocks: list[PushBlock]) -> dict[str, tuple[bool, str]]:
    tx_ids = [tx.tx_id for block in blocks for tx in block.txs]
    rows = ChainTransaction.objects.filter(tx_id__in=tx_ids)
    return {t: (c, h) for t, c, h in rows.values_list("tx_id", "canonical", "index_block_hash")}


def _sighting(block: PushBlock, tx: PushTx) -> forks.Sighting:
    mined = forks.Mined(
        block.height, block.block_hash, block.index_hash, block.burn_height, tx.tx_index, block.time
    )
    return forks.Sighting(tx.tx_id, tx.status, mined, dict(tx.prints))


def _fresh_store(fresh: list[tuple[PushBlock, PushTx]]) -> int:
    """Insert the txs never stored and their prints; returns how many prints were new."""
    txs, events = [], []
    for block, tx in fresh:
        txs.append(
            tx_row(
                tx.tx_id,
                block.height,
                block.block_hash,
                block.index_hash,
                block.burn_height,
                block.time,
                tx.tx_index,
                tx.sender,
                tx.function_name,
                tx.status,
            )
        )
        place = Place(
            block.height,
            block.block_hash,
            block.burn_height,
            tx.tx_index,
            tx.sender,
            tx.function_name,
        )
        events += [event_row(tx.tx_id, i, place, raw) for i, raw in sorted(tx.prints.items())]
    tx_rows_store(txs)
    before = ChainEvent.objects.filter(tx_id__in=[t[0] for t in txs]).count()
    event_rows_store(events)
    return ChainEvent.objects.filter(tx_id__in=[t[0] for t in txs]).count() - before
