"""Response bodies to results. Every field is checked for its documented type; a body that
does not fit raises StacksApiBadResponse (through `_parse`)."""

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
from chainsync.codec import ClarityDecodeError, ClarityValue, clarity_decode

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


def _hex_of(obj: Any, key: str, *, optional: bool = False) -> str | None:
    """The `hex` of a `{hex, repr}` Clarity value, checked to decode."""
    value = _field(obj, key, dict, optional=optional)
    return None if value is None else _arg_hex(value)


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
    """The common, well-formed shape read directly; anything else through the field checks
    (which say what is wrong)."""
    try:
        log = item["contract_log"]
        tx_id, index, hex_ = item["tx_id"], item["event_index"], log["value"]["hex"]
        contract_id, topic = log["contract_id"], log["topic"]
    except (KeyError, TypeError):
        return _contract_log_checked(item)
    if (type(tx_id), type(index), type(contract_id), type(topic), type(hex_)) != _LOG_TYPES:
        return _contract_log_checked(item)
    clarity_decode(hex_)
    return ContractLog(tx_id, index, contract_id, topic, hex_)


_LOG_TYPES = (str, int, str, str, str)


def _contract_log_checked(item: Any) -> ContractLog:
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
    """The `hex` of one `{hex, repr}` Clarity value, checked to decode."""
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


def _tx_head(tx: Any) -> tuple[Any, ...]:
    """What both routes' v3 transaction objects open with, unchecked (the fast reads check the
    types after): tx id, status, type, sender address and nonce, block height, hash, index hash
    and time. Another shape raises KeyError or TypeError, which sends the caller to the checks."""
    block, sender = tx["block"], tx["sender"]
    return (
        tx["tx_id"],
        tx["status"],
        tx["type"],
        sender["address"],
        sender["nonce"],
        block["height"],
        block["hash"],
        block["index_hash"],
        block["time"],
    )


def _v3_transaction(data: Any) -> Transaction:
    """The common shape (a mined contract call, every field of its documented type, the arguments
    and result decoding) read directly; anything else, and every error, through the field checks
    of `_v3_transaction_checked` (which say what is wrong)."""
    try:
        call = data["contract_call"]
        values = (
            *_tx_head(data),
            data["bitcoin_block"]["height"],
            data["block"]["tx_index"],
            call["contract_id"],
            call["function_name"],
        )
        args, result, event_count = (
            call.get("function_args"),
            data.get("result"),
            data.get("event_count"),
        )
        hexes = None if args is None else tuple(_hex_fast(arg) for arg in _list(args))
        result_hex = None if result is None else _hex_fast(result)
    except (KeyError, TypeError, AttributeError, _ShapeError, ClarityDecodeError):
        return _v3_transaction_checked(data)
    if tuple(map(type, values)) != _V3_TYPES or type(event_count) not in _OPTIONAL_INT:
        return _v3_transaction_checked(data)
    tx_id, status, tx_type, address, nonce, *mined, contract_id, function_name = values
    return Transaction(
        tx_id,
        status,
        tx_type,
        address,
        nonce,
        True,  # canonical: v3 serves only canonical mined rows
        *mined,  # block height, hash, index hash, time; burn block height; tx index
        contract_call=ContractCall(contract_id, function_name, hexes),
        result_hex=result_hex,
        event_count=event_count,
        events=None,
        source="v3",
        raw=data,
    )


_V3_TYPES = (str, str, str, str, int, int, str, str, int, int, int, str, str)
_OPTIONAL_INT = (int, type(None))


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise _ShapeError("not a list")
    return value


def _hex_fast(value: Any) -> str:
    """The `hex` of a `{hex, repr}` Clarity value when it is a str that decodes; _ShapeError
    otherwise (the caller then takes the checked path, which says what is wrong)."""
    text = value["hex"]
    if type(value) is not dict or type(text) is not str:
        raise _ShapeError("not a {hex, repr} value")
    clarity_decode(text)
    return text


def _v3_transaction_checked(data: Any) -> Transaction:
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
    """The common, well-formed shape read directly; anything else through the field checks
    (which say what is wrong)."""
    try:
        tx, stx = row["transaction"], row["balance_changes"]["stx"]
        call = tx.get("contract_call")
        call = {} if call is None else call  # not a dict: no .get, the checks say so
        values = (
            *_tx_head(tx),
            tx["block"]["tx_index"],
            tx["bitcoin_block"]["height"],
            call.get("contract_id"),
            call.get("function_name"),
            row["involvement"],
        )
        sent, received = stx["sent"], stx["received"]
    except (KeyError, TypeError, AttributeError):
        return _tx_summary_checked(row)
    if (
        tuple(map(type, values)) not in _SUMMARY_TYPES
        or type(sent) is not str
        or type(received) is not str
        or not sent.isdigit()
        or not received.isdigit()
    ):
        return _tx_summary_checked(row)
    return TxSummary(*values, int(sent), int(received))


_SUMMARY_TYPES = {
    (str, str, str, str, int, int, str, str, int, int, int, call_id, call_name, str)
    for call_id in (str, type(None))
    for call_name in (str, type(None))
}


def _tx_summary_checked(row: Any) -> TxSummary:
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
