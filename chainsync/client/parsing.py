"""Response bodies to results: one checked parser per API shape. Every field is checked for its
documented type and every Clarity value decoded once, here, and kept with its hex in the result
(so nothing downstream decodes it again); a body that does not fit raises StacksApiBadResponse
(through `_parse`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from chainsync.client.errors import CallReadFailed, StacksApiBadResponse, _ShapeError
from chainsync.client.results import (
    ApiStatus,
    AssetEvent,
    Block,
    ChainTip,
    ContractCall,
    ContractLog,
    LogPage,
    NodeInfo,
    PrincipalTxPage,
    Transaction,
    TxEvent,
    TxSummary,
)
from chainsync.client.routes import Route
from stacks import ClarityDecodeError, ClarityValue, clarity_decode

_LOG_EVENT = "smart_contract_log"

T = TypeVar("T")


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


def _clarity(obj: Any, key: str, *, optional: bool = False) -> tuple[str | None, Any]:
    """The `hex` of the `{hex, repr}` Clarity value at `key` and its decoded value ((None, None)
    when optional and absent)."""
    value = _field(obj, key, dict, optional=optional)
    return (None, None) if value is None else _arg(value)


def _arg(arg: Any) -> tuple[str, ClarityValue]:
    """The `hex` of one `{hex, repr}` Clarity value and the value it decodes to."""
    text = _str(arg, "hex")
    return text, clarity_decode(text)


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
    hex_, value = _clarity(log, "value")
    return ContractLog(
        tx_id=_str(item, "tx_id"),
        event_index=_int(item, "event_index"),
        contract_id=_str(log, "contract_id"),
        topic=_str(log, "topic"),
        value_hex=hex_,
        decoded=value,
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
    rows = _field(call, "function_args", list, optional=True)
    args = None if rows is None else [_arg(arg) for arg in rows]
    return ContractCall(
        contract_id=_str(call, "contract_id"),
        function_name=_str(call, "function_name"),
        function_args=None if args is None else tuple(hex_ for hex_, _ in args),
        values=None if args is None else tuple(value for _, value in args),
    )


def _v1_is_mined(data: Any) -> bool:
    return isinstance(data, dict) and "block_height" in data


def _v1_transaction(data: Any, events: tuple[TxEvent, ...]) -> Transaction:
    mined = _v1_is_mined(data)
    result = _clarity(data, "tx_result", optional=True)
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
        result_hex=result[0],
        event_count=_int(data, "event_count", optional=True),
        events=events if mined else None,
        source="v1",
        raw=data,
        result_value=result[1],
    )


def _v3_transaction(data: Any) -> Transaction:
    block = _field(data, "block", dict, optional=True)
    result = _clarity(data, "result", optional=True)
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
        result_hex=result[0],
        event_count=_int(data, "event_count", optional=True),
        events=None,
        source="v3",
        raw=data,
        result_value=result[1],
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
