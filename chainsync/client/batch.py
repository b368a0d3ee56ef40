"""Many transactions in few requests: `GET /extended/v1/tx/multiple`, up to TX_MULTIPLE_MAX_IDS
ids a request, each answered with the full v1 tx (arguments, result, the first
TX_EVENTS_MAX_LIMIT events) when the API has it canonical and mined, or in the mempool."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from chainsync.client.checks import _tx_id
from chainsync.client.errors import StacksApiGone, StacksApiNotFound, _ShapeError
from chainsync.client.parsing import _field, _parse, _v1_events, _v1_transaction
from chainsync.client.results import Transaction
from chainsync.client.routes import (
    TX_EVENTS_MAX_LIMIT,
    TX_MULTIPLE,
    TX_MULTIPLE_MAX_IDS,
    TX_V3,
    Route,
)


class _Client(Protocol):
    """What the batch needs of chainsync.client.api.StacksApiClient (which calls it), named
    here so that this module does not import the one above it."""

    _use_tx_multiple: bool

    def _get_json(self, route: Route, path: str, params: Any = None) -> Any: ...
    def _switch(self, flag: str, old: Route, new: Route) -> None: ...
    def _transaction_v1(self, tx_id: str) -> Transaction: ...
    def transaction(self, tx_id: str, *, events: bool = False) -> Transaction: ...


def transactions_batch_get(client: _Client, tx_ids: Iterable[str]) -> dict[str, Transaction]:
    """The transactions the API finds among `tx_ids`, by (normalized) id; ids it does not find
    (unknown, or only an orphaned copy) are left out. One request per TX_MULTIPLE_MAX_IDS ids,
    plus v1 pages for a tx with more events than one answer holds; where the route is missing,
    one `transaction` look-up per id. Raises ValueError on a malformed id, StacksApiError."""
    ids = sorted({_tx_id(tx_id) for tx_id in tx_ids})
    found: dict[str, Transaction] = {}
    for start in range(0, len(ids), TX_MULTIPLE_MAX_IDS):
        batch = ids[start : start + TX_MULTIPLE_MAX_IDS]
        if not client._use_tx_multiple:
            found |= _one_by_one(client, batch)
            continue
        params = {"tx_id": batch, "event_limit": TX_EVENTS_MAX_LIMIT}
        try:
            data = client._get_json(TX_MULTIPLE, TX_MULTIPLE.path(), params)
        except (StacksApiGone, StacksApiNotFound):
            client._switch("_use_tx_multiple", TX_MULTIPLE, TX_V3)
            found |= _one_by_one(client, batch)
            continue
        found |= _parse(TX_MULTIPLE, lambda raw, b=batch: _batch(client, raw, b), data)
    return found


def _batch(client: _Client, data: Any, ids: list[str]) -> dict[str, Transaction]:
    if not isinstance(data, dict):
        raise _ShapeError(f"expected a map by tx id, got {type(data).__name__}")
    found = {}
    for tx_id in ids:
        entry = data.get(tx_id)
        if entry is None or not _field(entry, "found", bool):
            continue
        raw = _field(entry, "result", dict)
        events = _v1_events(raw)
        if "block_height" in raw and len(events) < _field(raw, "event_count", int):
            found[tx_id] = client._transaction_v1(tx_id)  # the rest of its events, page by page
        else:
            found[tx_id] = _v1_transaction(raw, events)
    return found


def _one_by_one(client: _Client, ids: list[str]) -> dict[str, Transaction]:
    found = {}
    for tx_id in ids:
        try:
            tx = client.transaction(tx_id)
        except StacksApiNotFound:
            continue
        if tx.canonical or not tx.mined:  # as the batch route: no orphaned copies
            found[tx_id] = tx
    return found
