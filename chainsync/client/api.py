"""StacksApiClient: typed access to the Stacks API routes the indexer needs (see the package
docstring): one method per route, the v2->v1 and v3->v1 fallbacks, and the page walks."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from chainsync.client.batch import transactions_batch_get
from chainsync.client.checks import (
    _FUNCTION_NAME,
    _LOG_CURSOR,
    _TX_CURSOR,
    _block_ref,
    _check_limit,
    _contract_id,
    _cursor_not_found,
    _principal,
    _tip,
    _tx_id,
)
from chainsync.client.errors import (
    StacksApiBadResponse,
    StacksApiGone,
    StacksApiNotFound,
    StacksApiUnavailable,
)
from chainsync.client.paging import Fetch, cursor_pages, walk_cursor
from chainsync.client.parsing import (
    _api_status,
    _block,
    _call_read_result,
    _empty_log_page,
    _node_info,
    _parse,
    _principal_tx_page,
    _v1_event_count,
    _v1_events,
    _v1_log_page,
    _v1_transaction,
    _v2_log_page,
    _v3_transaction,
)
from chainsync.client.results import (
    ApiStatus,
    Block,
    ContractLog,
    LogPage,
    NodeInfo,
    PrincipalTxPage,
    Transaction,
    TxSummary,
)
from chainsync.client.routes import (
    BLOCK,
    CALL_READ,
    CONTRACT_EVENTS,
    CONTRACT_LOGS,
    EVENTS_MAX_LIMIT,
    INFO,
    LOGS_MAX_LIMIT,
    PRINCIPAL_TXS,
    PRINCIPAL_TXS_MAX_LIMIT,
    STATUS,
    TX_EVENTS_MAX_LIMIT,
    TX_V1,
    TX_V3,
    V1_WALK_OVERLAP,
    V1_WALK_RESTARTS,
    Route,
)
from chainsync.client.transport import HttpTransport
from stacks import ClarityValue, to_hex

logger = logging.getLogger(__name__)


class StacksApiClient(HttpTransport):
    """Typed access to the Stacks API routes the indexer needs; see the package docstring."""

    # Newer routes in use; each turns False, for the life of the client, once its route is
    # found missing (_switch).
    _use_v2_logs = True
    _use_v3_tx = True
    _use_tx_multiple = True

    # --- chain state ---

    def status(self) -> ApiStatus:
        """GET /extended: the API's indexed tip (use it for confirmations)."""
        data = self._get_json(STATUS, STATUS.path())
        return _parse(STATUS, _api_status, data)

    def info(self) -> NodeInfo:
        """GET /v2/info: the node's view (may run ahead of the API); check `network_id`."""
        data = self._get_json(INFO, INFO.path())
        return _parse(INFO, _node_info, data)

    def block(self, height_or_hash: int | str) -> Block:
        """A canonical block by height, hash, index block hash or "latest".

        Raises StacksApiNotFound for an unknown or orphaned block.
        """
        data = self._get_json(BLOCK, BLOCK.path(block=_block_ref(height_or_hash)))
        return _parse(BLOCK, _block, data)

    # --- contract prints ---

    def contract_logs(
        self, contract_id: str, *, cursor: str | None = None, limit: int = LOGS_MAX_LIMIT
    ) -> LogPage:
        """One page of print events, newest first, at or older than `cursor` (None = the head).

        Falls back to `contract_events` (offset paging, at most 50 rows) once the v2 route answers
        404/410. Past that switch a cursor cannot be honoured: StacksApiGone, restart from the head.
        A cursor below every event gives an empty page.
        """
        contract_id = _contract_id(contract_id)
        if cursor is not None and not _LOG_CURSOR.fullmatch(cursor):
            raise ValueError(f"invalid logs cursor {cursor!r}")
        _check_limit(limit, LOGS_MAX_LIMIT)
        if self._use_v2_logs:
            try:
                return self._contract_logs_v2(contract_id, cursor, limit)
            except StacksApiGone:
                self._switch("_use_v2_logs", CONTRACT_LOGS, CONTRACT_EVENTS)
        if cursor is not None:
            raise StacksApiGone(
                "v2 logs are unavailable: restart from the head", route=CONTRACT_LOGS.name
            )
        return self.contract_events(contract_id, limit=min(limit, EVENTS_MAX_LIMIT))

    def contract_events(
        self, contract_id: str, *, offset: int = 0, limit: int = EVENTS_MAX_LIMIT
    ) -> LogPage:
        """The deprecated v1 list: newest first, `offset` rows from the newest (shifts as events
        arrive or are orphaned)."""
        _check_limit(limit, EVENTS_MAX_LIMIT)
        if offset < 0:
            raise ValueError("offset must be >= 0")
        path = CONTRACT_EVENTS.path(contract_id=_contract_id(contract_id))
        data = self._get_json(CONTRACT_EVENTS, path, {"limit": limit, "offset": offset})
        return _parse(CONTRACT_EVENTS, _v1_log_page, data)

    def contract_logs_since(
        self,
        contract_id: str,
        *,
        known: Callable[[ContractLog], bool] | None = None,
        limit: int = LOGS_MAX_LIMIT,
    ) -> list[ContractLog]:
        """Print events newer than the newest one `known` accepts (or all), oldest first, no
        duplicates. Events that arrive during the walk may be left for the next call.

        Walks from the head to older pages by cursor, or by overlapping offsets on the v1 fallback.
        """
        contract_id = _contract_id(contract_id)
        if self._use_v2_logs:
            try:
                return self._walk_v2_logs(contract_id, known, limit)
            except StacksApiGone:
                self._switch("_use_v2_logs", CONTRACT_LOGS, CONTRACT_EVENTS)
        return self._walk_v1_events(contract_id, known, max(2, min(limit, EVENTS_MAX_LIMIT)))

    # --- transactions ---

    def transaction(self, tx_id: str, *, events: bool = False) -> Transaction:
        """A tx by id: v3 first, v1 when v3 is gone or says 404 (v1 also finds orphaned copies).

        `events=True` reads v1 directly, the only allowed route that lists a tx's events.
        Raises StacksApiNotFound when no route knows the tx.
        """
        tx_id = _tx_id(tx_id)
        if events or not self._use_v3_tx:
            return self._transaction_v1(tx_id)
        try:
            return self._transaction_v3(tx_id)
        except StacksApiGone:
            self._switch("_use_v3_tx", TX_V3, TX_V1)
            return self._transaction_v1(tx_id)
        except StacksApiNotFound as missing:
            return self._transaction_after_v3_404(tx_id, missing)

    def transactions_get(self, tx_ids: Iterable[str]) -> dict[str, Transaction]:
        """Many txs by id in few requests (see chainsync.client.batch): those found, by id."""
        return transactions_batch_get(self, tx_ids)

    def principal_transactions(
        self, principal_id: str, *, cursor: str | None = None, limit: int = PRINCIPAL_TXS_MAX_LIMIT
    ) -> PrincipalTxPage:
        """Confirmed canonical txs touching a principal, newest first, at or below `cursor`
        (`"height:microblock_sequence:tx_index"`; `"H:0:0"` is the top of block H)."""
        if cursor is not None and not _TX_CURSOR.fullmatch(cursor):
            raise ValueError(f"invalid transactions cursor {cursor!r}")
        _check_limit(limit, PRINCIPAL_TXS_MAX_LIMIT)
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        path = PRINCIPAL_TXS.path(principal=_principal(principal_id))
        data = self._get_json(PRINCIPAL_TXS, path, params)
        return _parse(PRINCIPAL_TXS, _principal_tx_page, data)

    def principal_transaction_pages(
        self,
        principal_id: str,
        *,
        limit: int = PRINCIPAL_TXS_MAX_LIMIT,
        head: PrincipalTxPage | None = None,
    ) -> Iterator[tuple[TxSummary, ...]]:
        """Pages of a principal's txs from the head to older ones (each newest first), one request
        each, so a caller can store them as they come and stop when it reaches what it knows.
        `head`: the head page as the caller already read it (in this poll), not read again."""
        first = (head.results, head.older_cursor) if head is not None else None
        yield from cursor_pages(self._principal_fetch(principal_id, limit), first)

    def contract_log_pages(
        self, contract_id: str, *, limit: int = LOGS_MAX_LIMIT
    ) -> Iterator[tuple[ContractLog, ...]]:
        """Pages of print events from the head to older ones (each newest first), one request
        each. On the deprecated v1 fallback, whose offset pages shift under new events, the whole
        walk arrives as one page (read by `contract_logs_since`)."""
        contract_id = _contract_id(contract_id)
        cursor: str | None = None
        while self._use_v2_logs:
            try:
                page = self._contract_logs_v2(contract_id, cursor, limit)
            except StacksApiGone:
                self._switch("_use_v2_logs", CONTRACT_LOGS, CONTRACT_EVENTS)
                break
            if not page.results:
                return
            yield page.results
            if page.older_cursor is None:
                return
            cursor = page.older_cursor
        yield tuple(reversed(self.contract_logs_since(contract_id, limit=limit)))

    def principal_transactions_since(
        self,
        principal_id: str,
        *,
        known: Callable[[TxSummary], bool] | None = None,
        limit: int = PRINCIPAL_TXS_MAX_LIMIT,
    ) -> list[TxSummary]:
        """Txs newer than the newest one `known` accepts (or all), oldest first, no duplicates."""
        return walk_cursor(
            self._principal_fetch(principal_id, limit), known, key=lambda tx: tx.tx_id
        )

    # --- read-only calls ---

    def call_read(
        self,
        contract_id: str,
        function: str,
        args: Iterable[ClarityValue] = (),
        *,
        sender: str,
        tip: str | None = None,
    ) -> ClarityValue:
        """Evaluate a read-only function and decode its result.

        `tip`: None = latest anchored state, "latest" = with unconfirmed state, or an index block
        hash. Raises CallReadFailed on `okay: false`, StacksApiNotFound for an unknown contract or
        function.
        """
        address, _, name = _contract_id(contract_id).partition(".")
        if not _FUNCTION_NAME.fullmatch(function):
            raise ValueError(f"invalid function name {function!r}")
        body = {"sender": _principal(sender), "arguments": [to_hex(arg) for arg in args]}
        params = {"tip": _tip(tip)} if tip else None
        path = CALL_READ.path(address=address, contract=name, function=function)
        data = self._json(CALL_READ, self._request(CALL_READ, path, params=params, body=body))
        return _parse(CALL_READ, _call_read_result, data)

    # --- internals: endpoints ---

    def _principal_fetch(self, principal_id: str, limit: int) -> Fetch[TxSummary]:
        def fetch(cursor: str | None) -> tuple[tuple[TxSummary, ...], str | None]:
            page = self.principal_transactions(principal_id, cursor=cursor, limit=limit)
            return page.results, page.older_cursor

        return fetch

    def _contract_logs_v2(self, contract_id: str, cursor: str | None, limit: int) -> LogPage:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        path = CONTRACT_LOGS.path(contract_id=contract_id)
        response = self._request(CONTRACT_LOGS, path, params=params)
        if response.status_code == 404 and cursor and _cursor_not_found(response):
            return _empty_log_page(limit)  # nothing sits at or below the cursor
        if response.status_code == 404:
            raise StacksApiGone("v2 logs route is missing (404)", route="contract_logs", status=404)
        return _parse(CONTRACT_LOGS, _v2_log_page, self._json(CONTRACT_LOGS, response))

    def _transaction_v3(self, tx_id: str) -> Transaction:
        params = {"include": "function_args,result"}
        response = self._request(TX_V3, TX_V3.path(tx_id=tx_id), params=params)
        return _parse(TX_V3, _v3_transaction, self._json(TX_V3, response))

    def _transaction_v1(self, tx_id: str) -> Transaction:
        data = self._v1_tx_page(tx_id, 0)
        events = list(_parse(TX_V1, _v1_events, data))
        expected = _parse(TX_V1, _v1_event_count, data)
        while len(events) < expected:
            more = _parse(TX_V1, _v1_events, self._v1_tx_page(tx_id, len(events)))
            if not more:
                raise StacksApiBadResponse("tx_v1: fewer events than event_count", route="tx_v1")
            events.extend(more)
        return _parse(TX_V1, lambda raw: _v1_transaction(raw, tuple(events)), data)

    def _v1_tx_page(self, tx_id: str, event_offset: int) -> dict[str, Any]:
        params = {"event_limit": TX_EVENTS_MAX_LIMIT, "event_offset": event_offset}
        return self._get_json(TX_V1, TX_V1.path(tx_id=tx_id), params)

    def _transaction_after_v3_404(self, tx_id: str, missing: StacksApiNotFound) -> Transaction:
        try:
            tx = self._transaction_v1(tx_id)
        except StacksApiGone:
            raise missing from None
        if tx.canonical:  # v3 serves every canonical tx, so its route must be missing
            self._switch("_use_v3_tx", TX_V3, TX_V1)
        return tx

    # --- internals: walks ---

    def _walk_v2_logs(
        self, contract_id: str, known: Callable[[ContractLog], bool] | None, limit: int
    ) -> list[ContractLog]:
        def fetch(cursor: str | None) -> tuple[tuple[ContractLog, ...], str | None]:
            page = self._contract_logs_v2(contract_id, cursor, limit)
            return page.results, page.older_cursor

        return walk_cursor(fetch, known, key=lambda log: log.key)

    def _walk_v1_events(
        self, contract_id: str, known: Callable[[ContractLog], bool] | None, limit: int
    ) -> list[ContractLog]:
        for _ in range(V1_WALK_RESTARTS):
            collected = self._try_v1_walk(contract_id, known, limit)
            if collected is not None:
                return collected
        raise StacksApiUnavailable("v1 event list kept shifting under the walk", route="v1 walk")

    def _try_v1_walk(
        self, contract_id: str, known: Callable[[ContractLog], bool] | None, limit: int
    ) -> list[ContractLog] | None:
        """Pages overlap by V1_WALK_OVERLAP rows. A page that shares no row with the one before
        means rows above it vanished (a reorg) and some may have been skipped: returns None."""
        collected: dict[tuple[str, int], ContractLog] = {}
        offset, previous = 0, None
        while True:
            page = self.contract_events(contract_id, offset=offset, limit=limit)
            keys = {log.key for log in page.results}
            if previous is not None and not keys & previous:
                return None
            for log in page.results:
                if known is not None and known(log):
                    return list(reversed(collected.values()))
                collected.setdefault(log.key, log)
            if len(page.results) < limit:
                return list(reversed(collected.values()))
            offset, previous = offset + limit - _overlap(limit), keys

    # --- internals: HTTP ---

    def _switch(self, flag: str, old: Route, new: Route) -> None:
        if getattr(self, flag):
            logger.warning("Stacks API %s is unavailable; using %s", old.template, new.template)
        setattr(self, flag, False)


def _overlap(limit: int) -> int:
    return max(1, min(V1_WALK_OVERLAP, limit // 2))
