"""What the client returns: small frozen dataclasses keeping only what the indexer reads,
amounts as ints and Clarity values as their hex, with the value the parser decoded once on
arrival (`.value()`, `.result()`, `ContractCall.values`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from stacks import ClarityValue, clarity_decode


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
    decoded: ClarityValue | None = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> tuple[str, int]:
        """Unique per event across pages, polls and routes."""
        return (self.tx_id, self.event_index)

    def value(self) -> ClarityValue:
        """The print's value: the parser's, or decoded here for a log built by hand."""
        return clarity_decode(self.value_hex) if self.decoded is None else self.decoded


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
    values: tuple[ClarityValue, ...] | None = field(default=None, repr=False, compare=False)


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
    result_value: ClarityValue | None = field(default=None, repr=False, compare=False)

    @property
    def mined(self) -> bool:
        return self.block_height is not None

    def prints_of(self, contract_id: str) -> dict[int, str]:
        """`contract_id`'s print events among `events` (v1's): event index -> value hex."""
        logs = (event.contract_log for event in self.events or ())
        return {
            log.event_index: log.value_hex
            for log in logs
            if log is not None and log.contract_id == contract_id and log.topic == "print"
        }

    def result(self) -> ClarityValue | None:
        """The result's value: the parser's, or decoded here for a tx built by hand."""
        if self.result_value is not None or self.result_hex is None:
            return self.result_value
        return clarity_decode(self.result_hex)


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
