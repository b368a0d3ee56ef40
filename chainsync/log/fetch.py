"""The chain record's write side: `chain_fetch` brings the contract's new calls and print events
into the append-only log (network first, no lock held), page by page."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from chainsync.client import ChainTip, ContractLog, PrincipalTxPage, StacksApiClient, TxSummary
from chainsync.log.events import (
    EVENT_CONTENT_FIELDS,
    EVENT_PLACE_FIELDS,
    Place,
    event_content,
)
from chainsync.log.state import sync_state_get
from chainsync.models import ChainEvent, ChainTransaction, SyncState
from stxworx.sql import rows_insert, values_in

T = TypeVar("T")
LOGS_RECHECK_SECONDS = 60  # the prints are walked at least this often (`_logs_due`)
TX_PLACE_FIELDS = [
    "block_height",
    "block_hash",
    "index_block_hash",
    "burn_block_height",
    "block_time",
    "tx_index",
    "status",
]


@dataclass(frozen=True)
class FetchResult:
    transactions: int
    events: int
    malformed: int
    tip_height: int
    tip_hash: str = ""


def _nothing() -> None:
    return None


def _height_of(tx_id: str) -> int:
    if not tx_id:
        return -1
    tx = ChainTransaction.objects.filter(tx_id=tx_id).only("block_height").first()
    return tx.block_height if tx else -1


def chain_fetch(
    *,
    client: StacksApiClient,
    contract_id: str,
    between: Callable[[], None] | None = None,
    tip: ChainTip | None = None,
    head: PrincipalTxPage | None = None,
) -> FetchResult:
    """Store the contract's calls and print events that are newer than the last completed walk.

    Walks from the head to older pages and stores each page as it arrives, so memory stays flat
    however long the history. A walk stops at a row stored by an earlier, completed walk (at or
    below the height of the newest one it stored: an interrupted walk is redone from the head,
    and a row orphaned by a fork cannot stop it). Calls are walked before prints, so every
    print's call is stored; a print whose call is newer than that walk waits for the next poll.
    The prints are not walked at all when no call is new since they were last walked to the end
    (`_logs_due`): a new block without the contract's calls costs the calls' head page alone.
    No lock is held during I/O. Malformed prints are stored as failed events, with the reason.
    `between` runs after each stored page (the indexer renews its lease there). `tip`: the
    API's tip as the caller just read it (else read here); `head`: the head page of the
    contract's transactions as the caller read it in this poll (the tail check), walked from."""
    requests_before = client.requests_made
    tip = tip or client.status().chain_tip
    state = sync_state_get(contract_id=contract_id)
    newest_tx, tx_count = _walk_transactions(
        client, contract_id, _height_of(state.newest_tx), between or _nothing, head
    )
    newest_tx = newest_tx or state.newest_tx
    complete, newest_event, events, malformed = False, "", 0, 0
    if tx_count or _logs_due(state, newest_tx):
        marker = ChainEvent.objects.filter(tx_id=state.newest_event.partition(":")[0]).values_list(
            "block_height", flat=True
        )
        newest_event, events, malformed, complete = _walk_logs(
            client, contract_id, max(marker, default=-1), between or _nothing
        )
    with transaction.atomic(durable=True):
        state = SyncState.objects.select_for_update().get(pk=state.pk)
        fields = ["newest_tx", "newest_event", "chain_tip_height", "last_poll_at", "api_requests"]
        state.newest_tx = newest_tx
        state.newest_event = newest_event or state.newest_event
        state.chain_tip_height = tip.block_height if tip else state.chain_tip_height
        state.last_poll_at = timezone.now()
        state.api_requests += client.requests_made - requests_before
        if complete:  # the prints walked to the end, each with its call
            state.logs_through_tx, state.logs_walked_at = newest_tx, state.last_poll_at
            fields += ["logs_through_tx", "logs_walked_at"]
        state.save(update_fields=fields)
    tip_hash = tip.block_hash if tip else ""
    return FetchResult(tx_count, events, malformed, state.chain_tip_height, tip_hash)


def _logs_due(state: SyncState, newest_tx: str) -> bool:
    """Whether the prints must be walked although the calls' walk found nothing new: every print
    comes from a call to the contract, and the calls' listing holds every one (HIRO_API.md), so
    they need not while the newest call is the one they were last walked to the end with (a
    fork or resync clears that). They are still walked every LOGS_RECHECK_SECONDS, which keeps
    the record safe from a listing that missed a call, at one request a minute."""
    if not newest_tx or state.logs_through_tx != newest_tx or state.logs_walked_at is None:
        return True
    return (timezone.now() - state.logs_walked_at).total_seconds() >= LOGS_RECHECK_SECONDS


def _fresh(
    rows: tuple[T, ...], stored: dict[Any, int], key: Any, known: int
) -> tuple[list[T], bool]:
    """The rows of a newest-first page above the first one stored at or below `known`, minus
    those already stored; and whether that stop was reached."""
    fresh = []
    for row in rows:
        height = stored.get(key(row))
        if height is not None and height <= known:
            return fresh, True
        if height is None:
            fresh.append(row)
    return fresh, False


def _walk_transactions(
    client: StacksApiClient,
    contract_id: str,
    known: int,
    between: Callable[[], None],
    head: PrincipalTxPage | None,
) -> tuple[str, int]:
    newest, count = "", 0
    for page in client.principal_transaction_pages(contract_id, head=head):
        stored = dict(
            _by_tx_id(ChainTransaction, ["tx_id", "block_height"], {t.tx_id for t in page})
        )
        fresh, done = _fresh(page, stored, lambda t: t.tx_id, known)
        newest = newest or page[0].tx_id
        transactions_store(fresh)
        count += len(fresh)
        if done:
            break
        between()
    return newest, count


def _walk_logs(
    client: StacksApiClient, contract_id: str, known: int, between: Callable[[], None]
) -> tuple[str, int, int, bool]:
    """Store new prints page by page; returns (marker, stored, malformed, complete). The marker
    (the newest print) is empty when any print had to wait for its call, and the walk is then not
    complete: the next walk must come down to the old marker again, or a newer stored print
    would stop it above the one that waited."""
    newest, events, malformed, complete = "", 0, 0, True
    for page in client.contract_log_pages(contract_id):
        rows = _by_tx_id(
            ChainEvent, ["tx_id", "event_index", "block_height"], {log.tx_id for log in page}
        )
        stored = {(tx_id, index): height for tx_id, index, height in rows}
        fresh, done = _fresh(page, stored, lambda log: log.key, known)
        created, bad, first = _events_store(client, fresh)
        complete = complete and (bool(first) or not fresh)
        newest = newest or first
        events, malformed = events + created, malformed + bad
        if done:
            break
        between()
    return (newest if complete else ""), events, malformed, complete


def _calls_look_up(client: StacksApiClient, tx_ids: set[str]) -> None:
    """Store, by a lookup each, the mined calls of prints that the transaction walk did not list
    (mined between the two walks, or an API listing lagging): rare, and it saves a print from
    waiting a poll or being stranded."""
    missing = tx_ids - set(
        ChainTransaction.objects.filter(tx_id__in=tx_ids).values_list("tx_id", flat=True)
    )
    for tx_id in sorted(missing):
        tx = client.transaction(tx_id)
        if not tx.canonical or tx.block_height is None:
            continue  # not mined (yet): the print waits, and the walk is not complete
        ChainTransaction.objects.get_or_create(
            tx_id=tx.tx_id,
            defaults={
                "block_height": tx.block_height,
                "block_hash": tx.block_hash or "",
                "index_block_hash": tx.index_block_hash or "",
                "burn_block_height": tx.burn_block_height or 0,
                "block_time": datetime.fromtimestamp(tx.block_time, tz=UTC)
                if tx.block_time
                else None,
                "tx_index": tx.tx_index or 0,
                "sender": tx.sender,
                "function_name": tx.contract_call.function_name if tx.contract_call else "",
                "status": tx.status,
            },
        )


TX_COLUMNS = [
    "tx_id",
    "block_height",
    "block_hash",
    "index_block_hash",
    "burn_block_height",
    "block_time",
    "tx_index",
    "sender",
    "function_name",
    "status",
]


def tx_row(
    tx_id: str,
    block_height: int,
    block_hash: str,
    index_block_hash: str,
    burn_block_height: int,
    block_time: int | None,
    tx_index: int,
    sender: str,
    function_name: str,
    status: str,
) -> tuple[Any, ...]:
    """The columns TX_COLUMNS of a call (`block_time` in Unix seconds; 0 or None: unknown)."""
    when = datetime.fromtimestamp(block_time, tz=UTC) if block_time else None
    return (
        tx_id,
        block_height,
        block_hash,
        index_block_hash,
        burn_block_height,
        when,
        tx_index,
        sender,
        function_name,
        status,
    )


def tx_rows_store(rows: list[tuple[Any, ...]]) -> None:
    """Store calls (`tx_row`s); a tx seen again (mined anew after a fork) takes its new block."""
    rows_insert(ChainTransaction, TX_COLUMNS, rows, conflict=["tx_id"], update=TX_PLACE_FIELDS)


def transactions_store(txs: Iterable[TxSummary]) -> None:
    tx_rows_store(
        [
            tx_row(
                t.tx_id,
                t.block_height,
                t.block_hash,
                t.index_block_hash,
                t.burn_block_height,
                t.block_time,
                t.tx_index,
                t.sender,
                t.function_name or "",
                t.status,
            )
            for t in txs
        ]
    )


def _places(tx_ids: set[str]) -> dict[str, Place]:
    rows = _by_tx_id(ChainTransaction, ["tx_id", *Place._fields], tx_ids)
    return {tx_id: Place(*place) for tx_id, *place in rows}


def _by_tx_id(model: type[Any], columns: list[str], tx_ids: set[str]) -> list[tuple[Any, ...]]:
    """The `columns` of `model`'s rows whose tx_id is in `tx_ids` (a page's worth), as tuples."""
    return values_in(model, columns, "tx_id", tx_ids)


EVENT_COLUMNS = ["tx_id", "event_index", *EVENT_PLACE_FIELDS, *EVENT_CONTENT_FIELDS]
_STATE = EVENT_COLUMNS.index("state")


def event_row(
    tx_id: str, event_index: int, place: Place, raw_hex: str, decoded: Any = None
) -> tuple[Any, ...]:
    """The columns EVENT_COLUMNS of a new event, as event_placed and event_content_set set them
    on a model instance (`decoded`: the print's value when the caller decoded it already)."""
    return (tx_id, event_index, True, *place, *event_content(raw_hex, decoded))


def event_rows_store(rows: list[tuple[Any, ...]]) -> None:
    """Store new events (`event_row`s); one already stored (redelivered, re-read) is kept."""
    rows_insert(ChainEvent, EVENT_COLUMNS, rows, update=[])


def _events_store(client: StacksApiClient, logs: list[ContractLog]) -> tuple[int, int, str]:
    """Store prints whose call is stored (looking up, once each, calls the walk did not list);
    returns (stored, malformed, newest stored key), the key empty when a print had to wait for
    its call (so the walk does not count as complete)."""
    tx_ids = {log.tx_id for log in logs}
    places = _places(tx_ids)
    if missing := tx_ids - set(places):
        _calls_look_up(client, missing)
        places |= _places(missing)
    rows = [
        event_row(log.tx_id, log.event_index, place, log.value_hex, log.decoded)
        for log in logs
        if (place := places.get(log.tx_id)) is not None  # else the next poll stores both
    ]
    event_rows_store(rows)
    malformed = sum(row[_STATE] == ChainEvent.State.FAILED for row in rows)
    waiting = len(rows) < len(logs)
    newest = f"{rows[0][0]}:{rows[0][1]}" if rows and not waiting else ""
    return len(rows), malformed, newest
