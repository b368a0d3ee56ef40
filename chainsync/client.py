"""The one client for the Stacks (Hiro) API.

Only the routes in `ROUTES` are used, all under the configured base URL (no redirects are followed,
no proxy or .netrc settings from the environment are read). Every HTTP attempt passes the
client-side rate limiter and is counted in `request_counts`. Connection errors, timeouts, 429 and
5xx are retried with exponential backoff and jitter (or the server's Retry-After); other failures
raise a `StacksApiError` at once. Newer routes fall back to their deprecated twins when they answer
404/410 as if the route were missing; the switch is remembered for the life of the client.

Results are small frozen dataclasses; each keeps only what the indexer reads, amounts as ints and
Clarity values as their hex (decode with `.value()` / `.result()`). Pages name their links by
direction (`older_cursor`, `newer_cursor`) because the API's `next`/`prev` mean opposite things on
different routes.

A client is not thread-safe (it owns one requests.Session); use one per thread.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings

from chainsync.c32 import InvalidAddress
from chainsync.clarity import (
    ClarityDecodeError,
    ClarityValue,
    ClarityValueError,
    clarity_decode,
    principal,
    to_hex,
)

logger = logging.getLogger(__name__)

DEFAULT_RATE_LIMIT = 50  # requests per minute: Hiro's limit per IP without a key
LOGS_MAX_LIMIT = 100
EVENTS_MAX_LIMIT = 50
PRINCIPAL_TXS_MAX_LIMIT = 50
TX_EVENTS_MAX_LIMIT = 100
V1_WALK_OVERLAP = 10  # rows each v1 page re-reads from the previous one
V1_WALK_RESTARTS = 3

_TX_ID = re.compile(r"(?:0x)?([0-9a-fA-F]{64})")
_BLOCK_HASH = re.compile(r"(?:0x)?[0-9a-fA-F]{64}")
_LOG_CURSOR = re.compile(r"\d+:\d+:\d+:\d+")
_TX_CURSOR = re.compile(r"\d+:\d+:\d+")
_FUNCTION_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_!?+<>=/*-]{0,127}")
_LOG_EVENT = "smart_contract_log"
_RETRYABLE_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)

T = TypeVar("T")


# --- settings -------------------------------------------------------------------------------


def chainsync_settings() -> Mapping[str, Any]:
    """`settings.CHAINSYNC`, the only settings this module reads."""
    return settings.CHAINSYNC


def stacks_api_client(**overrides: Any) -> StacksApiClient:
    """A client configured from CHAINSYNC; keyword arguments override the settings."""
    conf = chainsync_settings()
    options: dict[str, Any] = {
        "base_url": conf["STACKS_API_URL"],
        "api_key": conf.get("HIRO_API_KEY") or None,
        "rate_limit": conf.get("STACKS_API_RATE_LIMIT", DEFAULT_RATE_LIMIT),
        "max_retries": conf.get("STACKS_API_MAX_RETRIES", 5),
    }
    return StacksApiClient(**(options | overrides))


# --- errors ---------------------------------------------------------------------------------


class StacksApiError(Exception):
    """Base of every error this client raises. `route` is a route name, `status` the HTTP status."""

    def __init__(self, message: str, *, route: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.route = route
        self.status = status


class StacksApiUnavailable(StacksApiError):
    """The API could not be reached or kept failing (connection, timeout, 429, 5xx) after retries.

    `retry_after` is set when the server asked for a longer pause than the client may wait.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class StacksApiNotFound(StacksApiError):
    """404 for the thing asked for: unknown or orphaned tx, unknown block, contract or function."""


class StacksApiGone(StacksApiError):
    """The route is disabled (410) or missing (404 on the route itself) and no fallback is left."""


class StacksApiRejected(StacksApiError):
    """Another 4xx (bad parameter, missing or invalid key): retrying the same request won't help."""


class StacksApiBadResponse(StacksApiError):
    """A body that is not JSON or not the documented shape, or an unexpected status."""


class CallReadFailed(StacksApiError):
    """A read-only call answered `{"okay": false, "cause": ...}`."""

    def __init__(self, message: str, *, cause: str, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.cause = cause


class _ShapeError(ValueError):
    pass


# --- routes ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    method: str
    template: str

    def path(self, **parts: str) -> str:
        return self.template.format(**{key: quote(value, safe="") for key, value in parts.items()})


STATUS = Route("status", "GET", "/extended")
INFO = Route("info", "GET", "/v2/info")
CONTRACT_LOGS = Route("contract_logs", "GET", "/extended/v2/smart-contracts/{contract_id}/logs")
CONTRACT_EVENTS = Route("contract_events", "GET", "/extended/v1/contract/{contract_id}/events")
TX_V1 = Route("tx_v1", "GET", "/extended/v1/tx/{tx_id}")
TX_V3 = Route("tx_v3", "GET", "/extended/v3/transactions/{tx_id}")
PRINCIPAL_TXS = Route(
    "principal_transactions", "GET", "/extended/v3/principals/{principal}/transactions"
)
BLOCK = Route("block", "GET", "/extended/v2/blocks/{block}")
CALL_READ = Route("call_read", "POST", "/v2/contracts/call-read/{address}/{contract}/{function}")
ROUTES = (
    STATUS,
    INFO,
    CONTRACT_LOGS,
    CONTRACT_EVENTS,
    TX_V1,
    TX_V3,
    PRINCIPAL_TXS,
    BLOCK,
    CALL_READ,
)


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainTip:
    block_height: int
    block_hash: str
    index_block_hash: str
    burn_block_height: int


@dataclass(frozen=True, slots=True)
class ApiStatus:
    server_version: str
    status: str
    chain_tip: ChainTip | None  # None before the API has synced


@dataclass(frozen=True, slots=True)
class NodeInfo:
    network_id: int
    parent_network_id: int
    stacks_tip_height: int
    stacks_tip: str  # 0x-prefixed here, although /v2/info sends it bare
    burn_block_height: int
    tenure_height: int | None
    is_fully_synced: bool | None
    server_version: str


@dataclass(frozen=True, slots=True)
class ContractLog:
    tx_id: str
    event_index: int
    contract_id: str
    topic: str
    value_hex: str

    @property
    def key(self) -> tuple[str, int]:
        """Unique per event across pages, polls and routes."""
        return (self.tx_id, self.event_index)

    def value(self) -> ClarityValue:
        return clarity_decode(self.value_hex)


@dataclass(frozen=True, slots=True)
class LogPage:
    """One page of a contract's print events, newest first.

    From the v2 route: `cursor` is this page's newest position; pass `older_cursor` to get the next
    older page (None on the oldest). `newer_cursor` is only set when a full newer page exists.
    From the v1 fallback (`source == "v1"`) there are no cursors: page by `offset`.
    """

    results: tuple[ContractLog, ...]
    limit: int
    offset: int
    total: int | None  # v1 has none
    cursor: str | None
    older_cursor: str | None
    newer_cursor: str | None
    source: Literal["v2", "v1"]


@dataclass(frozen=True, slots=True)
class AssetEvent:
    asset_event_type: str  # transfer, mint, burn
    sender: str | None
    recipient: str | None
    amount: int
    asset_id: str | None  # None for STX


@dataclass(frozen=True, slots=True)
class TxEvent:
    event_index: int
    event_type: str  # smart_contract_log, stx_asset, fungible_token_asset, ...
    contract_log: ContractLog | None = None
    asset: AssetEvent | None = None


@dataclass(frozen=True, slots=True)
class ContractCall:
    contract_id: str
    function_name: str
    function_args: tuple[str, ...] | None  # hex, in signature order; None when not sent


@dataclass(frozen=True, slots=True)
class Transaction:
    """A tx from v3 (preferred) or v1. Mempool copies have no block fields and `canonical` False."""

    tx_id: str
    status: str
    tx_type: str
    sender: str
    nonce: int
    canonical: bool  # mined in a canonical block
    block_height: int | None
    block_hash: str | None
    index_block_hash: str | None  # v3 only
    block_time: int | None
    burn_block_height: int | None
    tx_index: int | None
    contract_call: ContractCall | None
    result_hex: str | None
    event_count: int | None
    events: tuple[TxEvent, ...] | None  # all of them from v1; None from v3
    source: Literal["v3", "v1"]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def mined(self) -> bool:
        return self.block_height is not None

    def result(self) -> ClarityValue | None:
        return None if self.result_hex is None else clarity_decode(self.result_hex)


@dataclass(frozen=True, slots=True)
class TxSummary:
    """One row of a principal's transactions (no args, result or events: fetch the tx for those)."""

    tx_id: str
    status: str
    tx_type: str
    sender: str
    nonce: int
    block_height: int
    block_hash: str
    index_block_hash: str
    block_time: int
    tx_index: int
    burn_block_height: int
    contract_id: str | None
    function_name: str | None
    involvement: str
    stx_sent: int
    stx_received: int


@dataclass(frozen=True, slots=True)
class PrincipalTxPage:
    """Newest first. Pass `older_cursor` (the API's `cursor.next`) to get the next older page."""

    results: tuple[TxSummary, ...]
    limit: int
    total: int
    cursor: str | None
    older_cursor: str | None
    newer_cursor: str | None


@dataclass(frozen=True, slots=True)
class Block:
    height: int
    hash: str
    index_block_hash: str
    parent_block_hash: str
    parent_index_block_hash: str
    canonical: bool
    block_time: int
    burn_block_height: int
    burn_block_hash: str
    tenure_height: int | None
    tx_count: int


# --- rate limiting --------------------------------------------------------------------------


class RateLimiter:
    """At most `per_minute` acquisitions in any 60-second window (0 = unlimited)."""

    def __init__(
        self, per_minute: int, *, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        if per_minute < 0:
            raise ValueError("rate limit must be >= 0")
        self.per_minute = per_minute
        self._clock, self._sleep = clock, sleep
        self._stamps: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self.per_minute:
            return
        with self._lock:
            now = self._expire(self._clock())
            while len(self._stamps) >= self.per_minute:
                self._sleep(60.0 - (now - self._stamps[0]))
                now = self._expire(self._clock())
            self._stamps.append(now)

    def _expire(self, now: float) -> float:
        while self._stamps and now - self._stamps[0] >= 60.0:
            self._stamps.popleft()
        return now


# --- the client -----------------------------------------------------------------------------


class StacksApiClient:
    """Typed access to the Stacks API routes the indexer needs; see the module docstring."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        rate_limit: int = DEFAULT_RATE_LIMIT,
        timeout: float | tuple[float, float] = (3.05, 20.0),
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_wait: float = 120.0,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.base_url = _base_url(base_url)
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base, self.backoff_max, self.max_wait = backoff_base, backoff_max, max_wait
        self._sleep, self._jitter = sleep, jitter
        self._limiter = RateLimiter(rate_limit, clock=clock, sleep=sleep)
        self._session = session or _new_session()
        self._session.headers.update(_headers(api_key))
        self.request_counts: Counter[str] = Counter()
        self._use_v2_logs = True
        self._use_v3_tx = True
        self._warned: set[str] = set()

    @property
    def requests_made(self) -> int:
        """HTTP requests sent (every attempt, retries included)."""
        return sum(self.request_counts.values())

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> StacksApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        self, principal_id: str, *, limit: int = PRINCIPAL_TXS_MAX_LIMIT
    ) -> Iterator[tuple[TxSummary, ...]]:
        """Pages of a principal's txs from the head to older ones (each newest first), one request
        each, so a caller can store them as they come and stop when it reaches what it knows."""
        cursor: str | None = None
        while True:
            page = self.principal_transactions(principal_id, cursor=cursor, limit=limit)
            if not page.results:
                return
            yield page.results
            if page.older_cursor is None:
                return
            cursor = page.older_cursor

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

        def fetch(cursor: str | None) -> tuple[tuple[TxSummary, ...], str | None]:
            page = self.principal_transactions(principal_id, cursor=cursor, limit=limit)
            return page.results, page.older_cursor

        return _walk_cursor(fetch, known, key=lambda tx: tx.tx_id)

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

        return _walk_cursor(fetch, known, key=lambda log: log.key)

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

    def _get_json(self, route: Route, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._json(route, self._request(route, path, params=params))

    def _request(
        self,
        route: Route,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> requests.Response:
        """Send with retries. Returns the first response that is not 429/5xx."""
        failure, retry_after = "", None
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._pause(route, attempt, failure, retry_after)
            try:
                response = self._send(route, path, params, body)
            except _RETRYABLE_ERRORS as exc:
                failure, retry_after = type(exc).__name__, None
                continue
            if response.status_code != 429 and response.status_code < 500:
                return response
            failure, retry_after = f"HTTP {response.status_code}", _retry_after(response)
        raise StacksApiUnavailable(
            f"{route.name}: {failure} after {self.max_retries + 1} attempts", route=route.name
        )

    def _send(
        self, route: Route, path: str, params: Mapping[str, Any] | None, body: Any
    ) -> requests.Response:
        self._limiter.acquire()
        self.request_counts[route.name] += 1
        response = self._session.request(
            route.method,
            self.base_url + path,
            params=params,
            json=body,
            timeout=self.timeout,
            allow_redirects=False,
        )
        if "warning" in response.headers and route.name not in self._warned:
            self._warned.add(route.name)
            logger.info("Stacks API %s: %s", route.name, response.headers["warning"])
        return response

    def _pause(self, route: Route, attempt: int, failure: str, retry_after: float | None) -> None:
        delay = retry_after if retry_after is not None else self._backoff(attempt)
        if delay > self.max_wait:
            raise StacksApiUnavailable(
                f"{route.name}: {failure}, asked to wait {delay:.0f}s",
                route=route.name,
                retry_after=delay,
            )
        logger.warning("Stacks API %s: %s; retry %d in %.2fs", route.name, failure, attempt, delay)
        self._sleep(delay)

    def _backoff(self, attempt: int) -> float:
        """Exponential, capped, with "equal jitter": between half and all of the step."""
        step = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return step / 2 + self._jitter() * step / 2

    def _json(self, route: Route, response: requests.Response) -> Any:
        status = response.status_code
        if status == 200:
            try:
                return response.json()
            except ValueError:
                raise StacksApiBadResponse(
                    f"{route.name}: body is not JSON", route=route.name, status=status
                ) from None
        message = f"{route.name}: HTTP {status}: {response.text[:200]}"
        error = _STATUS_ERRORS.get(status)
        if error is None:
            error = StacksApiRejected if 400 <= status < 500 else StacksApiBadResponse
        raise error(message, route=route.name, status=status)

    def _switch(self, flag: str, old: Route, new: Route) -> None:
        if getattr(self, flag):
            logger.warning("Stacks API %s is unavailable; using %s", old.template, new.template)
        setattr(self, flag, False)


_STATUS_ERRORS: dict[int, type[StacksApiError]] = {404: StacksApiNotFound, 410: StacksApiGone}


def _overlap(limit: int) -> int:
    return max(1, min(V1_WALK_OVERLAP, limit // 2))


def _walk_cursor(
    fetch: Callable[[str | None], tuple[tuple[T, ...], str | None]],
    known: Callable[[T], bool] | None,
    key: Callable[[T], Any],
) -> list[T]:
    """Follow older-cursors from the head until `known` matches or the pages end.

    A cursor is a chain position, not a rank, so rows added at the head never shift older pages.
    """
    collected: dict[Any, T] = {}
    cursor: str | None = None
    while True:
        rows, cursor = fetch(cursor)
        for row in rows:
            if known is not None and known(row):
                return list(reversed(collected.values()))
            collected.setdefault(key(row), row)
        if cursor is None or not rows:
            return list(reversed(collected.values()))


# --- input checks ---------------------------------------------------------------------------


def _new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc credentials from the environment
    return session


def _headers(api_key: str | None) -> dict[str, str]:
    headers = {"Accept": "application/json", "User-Agent": "stxworx-chainsync/1"}
    return headers | ({"x-api-key": api_key} if api_key else {})


def _base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ValueError(f"invalid Stacks API base URL {url!r}")
    return url.rstrip("/")


def _check_limit(limit: int, maximum: int) -> None:
    if not 1 <= limit <= maximum:
        raise ValueError(f"limit must be 1..{maximum}")


def _principal(address: str) -> str:
    try:
        principal(address)
    except (InvalidAddress, ClarityValueError) as exc:
        raise ValueError(f"invalid principal {address!r}: {exc}") from None
    return address


def _contract_id(contract_id: str) -> str:
    if "." not in contract_id:
        raise ValueError(f"not a contract id: {contract_id!r}")
    return _principal(contract_id)


def _tx_id(tx_id: str) -> str:
    match = _TX_ID.fullmatch(tx_id)
    if not match:
        raise ValueError(f"invalid tx id {tx_id!r}")
    return "0x" + match.group(1).lower()  # the API redirects ids without 0x


def _block_ref(height_or_hash: int | str) -> str:
    if isinstance(height_or_hash, int) and not isinstance(height_or_hash, bool):
        if height_or_hash < 0:
            raise ValueError("block height must be >= 0")
        return str(height_or_hash)
    if height_or_hash == "latest" or _BLOCK_HASH.fullmatch(str(height_or_hash)):
        return str(height_or_hash).lower()
    raise ValueError(f"invalid block height or hash {height_or_hash!r}")


def _tip(tip: str) -> str:
    if tip == "latest" or _BLOCK_HASH.fullmatch(tip):
        return tip.lower().removeprefix("0x")
    raise ValueError(f"invalid tip {tip!r}")


def _cursor_not_found(response: requests.Response) -> bool:
    """Tell the logs route's own 404 ("Cursor not found") from a missing route's."""
    try:
        body = response.json()
    except ValueError:
        return False
    text = f"{body.get('error')} {body.get('message')}" if isinstance(body, dict) else ""
    return "cursor not found" in text.lower()


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# --- response parsing -----------------------------------------------------------------------


def _parse(route: Route, parser: Callable[[Any], T], data: Any) -> T:
    try:
        return parser(data)
    except (_ShapeError, ClarityDecodeError) as exc:
        raise StacksApiBadResponse(f"{route.name}: {exc}", route=route.name, status=200) from None


def _field(obj: Any, key: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
    if not isinstance(obj, dict):
        raise _ShapeError(f"expected an object holding {key!r}, got {type(obj).__name__}")
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise _ShapeError(f"{key!r} is {value!r}, expected {kind}")
    return value


def _int(obj: Any, key: str, *, optional: bool = False) -> Any:
    return _field(obj, key, int, optional=optional)


def _str(obj: Any, key: str, *, optional: bool = False) -> Any:
    return _field(obj, key, str, optional=optional)


def _amount(obj: Any, key: str) -> int:
    text = _str(obj, key)
    if not text.isdigit():
        raise _ShapeError(f"{key!r} is not a decimal amount: {text!r}")
    return int(text)


def _hex_of(obj: Any, key: str, *, optional: bool = False) -> str | None:
    """The `hex` of a `{hex, repr}` Clarity value, checked to decode."""
    value = _field(obj, key, dict, optional=optional)
    if value is None:
        return None
    text = _str(value, "hex")
    clarity_decode(text)
    return text


def _rows(obj: Any, key: str) -> list[Any]:
    return _field(obj, key, list)


def _api_status(data: Any) -> ApiStatus:
    tip = _field(data, "chain_tip", dict, optional=True)
    return ApiStatus(
        server_version=_str(data, "server_version"),
        status=_str(data, "status"),
        chain_tip=None if tip is None else _chain_tip(tip),
    )


def _chain_tip(tip: Any) -> ChainTip:
    return ChainTip(
        block_height=_int(tip, "block_height"),
        block_hash=_str(tip, "block_hash"),
        index_block_hash=_str(tip, "index_block_hash"),
        burn_block_height=_int(tip, "burn_block_height"),
    )


def _node_info(data: Any) -> NodeInfo:
    return NodeInfo(
        network_id=_int(data, "network_id"),
        parent_network_id=_int(data, "parent_network_id"),
        stacks_tip_height=_int(data, "stacks_tip_height"),
        stacks_tip="0x" + _str(data, "stacks_tip").removeprefix("0x"),
        burn_block_height=_int(data, "burn_block_height"),
        tenure_height=_int(data, "tenure_height", optional=True),
        is_fully_synced=_field(data, "is_fully_synced", bool, optional=True),
        server_version=_str(data, "server_version"),
    )


def _block(data: Any) -> Block:
    return Block(
        height=_int(data, "height"),
        hash=_str(data, "hash"),
        index_block_hash=_str(data, "index_block_hash"),
        parent_block_hash=_str(data, "parent_block_hash"),
        parent_index_block_hash=_str(data, "parent_index_block_hash"),
        canonical=_field(data, "canonical", bool),
        block_time=_int(data, "block_time"),
        burn_block_height=_int(data, "burn_block_height"),
        burn_block_hash=_str(data, "burn_block_hash"),
        tenure_height=_int(data, "tenure_height", optional=True),
        tx_count=_int(data, "tx_count"),
    )


def _contract_log(item: Any) -> ContractLog:
    log = _field(item, "contract_log", dict)
    return ContractLog(
        tx_id=_str(item, "tx_id"),
        event_index=_int(item, "event_index"),
        contract_id=_str(log, "contract_id"),
        topic=_str(log, "topic"),
        value_hex=_hex_of(log, "value") or "",
    )


def _v2_log_page(data: Any) -> LogPage:
    return LogPage(
        results=tuple(_contract_log(item) for item in _rows(data, "results")),
        limit=_int(data, "limit"),
        offset=_int(data, "offset"),
        total=_int(data, "total"),
        cursor=_str(data, "cursor", optional=True),
        older_cursor=_str(data, "prev_cursor", optional=True),
        newer_cursor=_str(data, "next_cursor", optional=True),
        source="v2",
    )


def _v1_log_page(data: Any) -> LogPage:
    rows = [item for item in _rows(data, "results") if _str(item, "event_type") == _LOG_EVENT]
    return LogPage(
        results=tuple(_contract_log(item) for item in rows),
        limit=_int(data, "limit"),
        offset=_int(data, "offset"),
        total=None,
        cursor=None,
        older_cursor=None,
        newer_cursor=None,
        source="v1",
    )


def _empty_log_page(limit: int) -> LogPage:
    return LogPage((), limit, 0, None, None, None, None, "v2")


def _v1_event_count(data: Any) -> int:
    return _int(data, "event_count") if _v1_is_mined(data) else 0


def _v1_events(data: Any) -> tuple[TxEvent, ...]:
    rows = _field(data, "events", list, optional=True) or []
    return tuple(_v1_event(item) for item in rows)


def _v1_event(item: Any) -> TxEvent:
    event_type = _str(item, "event_type")
    index = _int(item, "event_index")
    if event_type == _LOG_EVENT:
        return TxEvent(index, event_type, contract_log=_contract_log(item))
    asset = _field(item, "asset", dict, optional=True)
    if asset is None or "amount" not in asset:
        return TxEvent(index, event_type)  # NFTs, stx_lock: not needed by the indexer
    return TxEvent(index, event_type, asset=_asset(asset))


def _asset(asset: Any) -> AssetEvent:
    return AssetEvent(
        asset_event_type=_str(asset, "asset_event_type"),
        sender=_str(asset, "sender", optional=True),
        recipient=_str(asset, "recipient", optional=True),
        amount=_amount(asset, "amount"),
        asset_id=_str(asset, "asset_id", optional=True),
    )


def _contract_call(call: Any) -> ContractCall | None:
    if call is None:
        return None
    args = _field(call, "function_args", list, optional=True)
    return ContractCall(
        contract_id=_str(call, "contract_id"),
        function_name=_str(call, "function_name"),
        function_args=None if args is None else tuple(_arg_hex(arg) for arg in args),
    )


def _arg_hex(arg: Any) -> str:
    text = _str(arg, "hex")
    clarity_decode(text)
    return text


def _v1_is_mined(data: Any) -> bool:
    return isinstance(data, dict) and "block_height" in data


def _v1_transaction(data: Any, events: tuple[TxEvent, ...]) -> Transaction:
    mined = _v1_is_mined(data)
    return Transaction(
        tx_id=_str(data, "tx_id"),
        status=_str(data, "tx_status"),
        tx_type=_str(data, "tx_type"),
        sender=_str(data, "sender_address"),
        nonce=_int(data, "nonce"),
        canonical=mined and _field(data, "canonical", bool),
        block_height=_int(data, "block_height") if mined else None,
        block_hash=_str(data, "block_hash") if mined else None,
        index_block_hash=None,
        block_time=_int(data, "block_time", optional=True),
        burn_block_height=_int(data, "burn_block_height") if mined else None,
        tx_index=_int(data, "tx_index") if mined else None,
        contract_call=_contract_call(_field(data, "contract_call", dict, optional=True)),
        result_hex=_hex_of(data, "tx_result", optional=True),
        event_count=_int(data, "event_count", optional=True),
        events=events if mined else None,
        source="v1",
        raw=data,
    )


def _v3_transaction(data: Any) -> Transaction:
    block = _field(data, "block", dict, optional=True)
    burn = _field(data, "bitcoin_block", dict, optional=True) if block else None
    sender = _field(data, "sender", dict)
    return Transaction(
        tx_id=_str(data, "tx_id"),
        status=_str(data, "status"),
        tx_type=_str(data, "type"),
        sender=_str(sender, "address"),
        nonce=_int(sender, "nonce"),
        canonical=block is not None,  # v3 serves only canonical mined rows
        block_height=_int(block, "height") if block else None,
        block_hash=_str(block, "hash") if block else None,
        index_block_hash=_str(block, "index_hash") if block else None,
        block_time=_int(block, "time") if block else None,
        burn_block_height=_int(burn, "height") if block else None,
        tx_index=_int(block, "tx_index") if block else None,
        contract_call=_contract_call(_field(data, "contract_call", dict, optional=True)),
        result_hex=_hex_of(data, "result", optional=True),
        event_count=_int(data, "event_count", optional=True),
        events=None,
        source="v3",
        raw=data,
    )


def _tx_summary(row: Any) -> TxSummary:
    tx = _field(row, "transaction", dict)
    block, sender = _field(tx, "block", dict), _field(tx, "sender", dict)
    call = _field(tx, "contract_call", dict, optional=True) or {}
    stx = _field(_field(row, "balance_changes", dict), "stx", dict)
    return TxSummary(
        tx_id=_str(tx, "tx_id"),
        status=_str(tx, "status"),
        tx_type=_str(tx, "type"),
        sender=_str(sender, "address"),
        nonce=_int(sender, "nonce"),
        block_height=_int(block, "height"),
        block_hash=_str(block, "hash"),
        index_block_hash=_str(block, "index_hash"),
        block_time=_int(block, "time"),
        tx_index=_int(block, "tx_index"),
        burn_block_height=_int(_field(tx, "bitcoin_block", dict), "height"),
        contract_id=_str(call, "contract_id", optional=True),
        function_name=_str(call, "function_name", optional=True),
        involvement=_str(row, "involvement"),
        stx_sent=_amount(stx, "sent"),
        stx_received=_amount(stx, "received"),
    )


def _principal_tx_page(data: Any) -> PrincipalTxPage:
    cursor = _field(data, "cursor", dict)
    return PrincipalTxPage(
        results=tuple(_tx_summary(row) for row in _rows(data, "results")),
        limit=_int(data, "limit"),
        total=_int(data, "total"),
        cursor=_str(cursor, "current", optional=True),
        older_cursor=_str(cursor, "next", optional=True),  # sic: "next" is older here
        newer_cursor=_str(cursor, "previous", optional=True),
    )


def _call_read_result(data: Any) -> ClarityValue:
    okay = _field(data, "okay", bool)
    if not okay:
        cause = str(data.get("cause", ""))
        raise CallReadFailed(f"read-only call failed: {cause}", cause=cause, route="call_read")
    return clarity_decode(_str(data, "result"))
