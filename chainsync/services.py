"""Writes to the chain record. `chain_fetch` brings the contract's new print events and calls
into the append-only log; applying them to the projection is a separate step."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from chainsync.client import ContractLog, StacksApiClient, TxSummary
from chainsync.events import MalformedEvent, json_safe, print_parse
from chainsync.models import ChainEvent, ChainTransaction, SyncState

KNOWN_WINDOW = 500  # newest stored rows a walk may stop at (more than any fork is deep)


@dataclass(frozen=True)
class FetchResult:
    transactions: int
    events: int
    malformed: int
    tip_height: int


def sync_state_get(*, contract_id: str) -> SyncState:
    state, _ = SyncState.objects.get_or_create(contract_id=contract_id)
    return state


def _known_events() -> set[tuple[str, int]]:
    rows = ChainEvent.objects.filter(canonical=True).order_by("-id")[:KNOWN_WINDOW]
    return {(tx_id, index) for tx_id, index in rows.values_list("tx_id", "event_index")}


def _known_txs() -> set[str]:
    rows = ChainTransaction.objects.filter(canonical=True).order_by("-id")[:KNOWN_WINDOW]
    return set(rows.values_list("tx_id", flat=True))


def chain_fetch(*, client: StacksApiClient, contract_id: str) -> FetchResult:
    """Store the contract's print events and calls that are newer than the stored ones.

    Logs are read before transactions, so the transaction walk (newer by then) covers the tx of
    every log. Network first, then one short transaction: no lock is held during I/O.
    Malformed prints are stored as failed events, with the reason."""
    requests_before = client.requests_made
    tip = client.status().chain_tip
    known_events = _known_events()
    logs = client.contract_logs_since(contract_id, known=lambda log: log.key in known_events)
    known_txs = _known_txs()
    txs = client.principal_transactions_since(contract_id, known=lambda t: t.tx_id in known_txs)
    with transaction.atomic():
        _transactions_store(txs)
        events, malformed = _events_store(logs)
        state = SyncState.objects.select_for_update().get_or_create(contract_id=contract_id)[0]
        state.chain_tip_height = tip.block_height if tip else state.chain_tip_height
        state.last_poll_at = timezone.now()
        state.api_requests += client.requests_made - requests_before
        state.save(update_fields=["chain_tip_height", "last_poll_at", "api_requests"])
    return FetchResult(len(txs), events, malformed, state.chain_tip_height)


def _transactions_store(txs: Iterable[TxSummary]) -> None:
    rows = [
        ChainTransaction(
            tx_id=t.tx_id,
            block_height=t.block_height,
            block_hash=t.block_hash,
            index_block_hash=t.index_block_hash,
            burn_block_height=t.burn_block_height,
            block_time=datetime.fromtimestamp(t.block_time, tz=UTC) if t.block_time else None,
            tx_index=t.tx_index,
            sender=t.sender,
            function_name=t.function_name or "",
            status=t.status,
        )
        for t in txs
    ]
    # A tx seen again (mined anew after a fork) takes its new block.
    ChainTransaction.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["tx_id"],
        update_fields=[
            "block_height",
            "block_hash",
            "index_block_hash",
            "burn_block_height",
            "block_time",
            "tx_index",
            "status",
        ],
    )


def _events_store(logs: list[ContractLog]) -> tuple[int, int]:
    txs = ChainTransaction.objects.in_bulk({log.tx_id for log in logs}, field_name="tx_id")
    rows, malformed = [], 0
    for log in logs:
        tx = txs.get(log.tx_id)
        if tx is None:
            continue  # its tx is not listed yet: the next poll stores both
        row = ChainEvent(
            tx_id=log.tx_id,
            event_index=log.event_index,
            block_height=tx.block_height,
            block_hash=tx.block_hash,
            burn_block_height=tx.burn_block_height,
            tx_index=tx.tx_index,
            sender=tx.sender,
            function_name=tx.function_name,
            raw_hex=log.value_hex,
        )
        try:
            event = print_parse(log.value_hex)
        except MalformedEvent as exc:
            row.state, row.error = ChainEvent.State.FAILED, str(exc)
            malformed += 1
        else:
            row.event_name, row.payload = event.name, json_safe(event.fields)
            row.project_id = event.project_id
        rows.append(row)
    created = ChainEvent.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created), malformed
