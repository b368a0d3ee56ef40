"""The contract's whole history read again (`snapshot_fetch`, network only) and the stored record
made to match it (`snapshot_reconcile`, in the caller's transaction): resync and verify_sync --fix.
History is kept: nothing is deleted, rows above the snapshot's tip are left to the indexer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from chainsync.client import StacksApiClient, TxSummary
from chainsync.log.amounts import calls_args_fetch, stored_args
from chainsync.log.events import event_content_set
from chainsync.log.fetch import transactions_store
from chainsync.log.forks import (
    MARKERS,
    ORPHANED,
    Changes,
    events_orphan,
    events_sync,
    markers_below,
    stored_events,
)
from chainsync.log.state import sync_state_lock
from chainsync.models import ChainEvent, ChainTransaction
from stxworx.sql import chunks

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Snapshot:
    """The contract's canonical history up to `tip_height`, as the API gives it now."""

    tip_height: int
    txs: tuple[TxSummary, ...]
    prints: dict[str, dict[int, str]]  # tx id -> event index -> print hex
    create_args: dict[str, list[str]]  # looked-up arguments of create calls nothing else gives


def snapshot_fetch(
    *, client: StacksApiClient, contract_id: str, progress: Progress | None = None
) -> Snapshot:
    """Read the contract's whole history: every logs page and every transactions page (the
    costly part: the API's rate limit bounds it), and batch look-ups of the create calls whose
    amounts nothing stored gives. Rows above the tip read first are left to the indexer.
    No database writes; raises StacksApiError."""
    tip = client.status().chain_tip
    height = tip.block_height if tip else 0
    logs = client.contract_logs_since(contract_id)
    txs = tuple(
        t for t in client.principal_transactions_since(contract_id) if t.block_height <= height
    )
    listed = {t.tx_id for t in txs}
    prints: dict[str, dict[int, str]] = defaultdict(dict)
    for log in logs:
        if log.tx_id in listed:
            prints[log.tx_id][log.event_index] = log.value_hex
    if progress:
        progress(f"read {len(logs)} events in {len(txs)} transactions up to block {height}")
    return Snapshot(height, txs, dict(prints), _create_args_fetch(client, prints))


def _create_args_fetch(
    client: StacksApiClient, prints: Mapping[str, Mapping[int, str]]
) -> dict[str, list[str]]:
    """The arguments of the create calls among `prints` that have none stored, by batch
    look-ups. Off-chain amounts are not trusted here (no fee rate in force is known yet): only
    stored call arguments spare the look-up."""
    creates = [
        tx_id
        for tx_id, events in prints.items()
        if any(
            event_content_set(ChainEvent(tx_id=tx_id, event_index=index), raw).event_name
            == "project-created"
            for index, raw in events.items()
        )
    ]
    stored = stored_args(creates)
    return calls_args_fetch(client, [tx_id for tx_id in creates if tx_id not in stored])


def snapshot_reconcile(snapshot: Snapshot, *, contract_id: str) -> Changes:
    """Make the stored record what `snapshot` says, up to its tip: listed txs canonical with
    their (new) blocks, unlisted ones orphaned; events added, moved, re-read or orphaned; the
    fetch markers at the snapshot's tip. History is kept (nothing is deleted) and rows above
    the tip are left to the indexer. Runs in the caller's transaction; returns what changed."""
    state = sync_state_lock(contract_id=contract_id)
    transactions_store(snapshot.txs)
    listed = {t.tx_id for t in snapshot.txs}
    _txs_flag(listed, snapshot.tip_height)
    for tx_id, args in snapshot.create_args.items():
        ChainTransaction.objects.filter(tx_id=tx_id).update(function_args=args)
    txs = ChainTransaction.objects.in_bulk(listed, field_name="tx_id")
    stored = stored_events(ChainEvent.objects.all())
    changes = events_sync(txs, snapshot.prints, stored)
    height = snapshot.tip_height
    changes.update(
        events_orphan(
            row
            for (tx_id, _), row in stored.items()
            if tx_id in listed or row.block_height <= height
        )
    )
    state.chain_tip_height = max(state.chain_tip_height, height)
    markers_below(state, height + 1)
    state.save(update_fields=["chain_tip_height", *MARKERS])
    return changes


def _txs_flag(listed: set[str], height: int) -> None:
    rows = ChainTransaction.objects.filter(block_height__lte=height)
    flags = list(rows.values_list("pk", "tx_id", "canonical"))
    readmit = [pk for pk, tx_id, canonical in flags if tx_id in listed and not canonical]
    orphan = [pk for pk, tx_id, canonical in flags if tx_id not in listed and canonical]
    for chunk in chunks(readmit):
        ChainTransaction.objects.filter(pk__in=chunk).update(canonical=True)
    for chunk in chunks(orphan):
        ChainTransaction.objects.filter(pk__in=chunk).update(canonical=False, status=ORPHANED)
