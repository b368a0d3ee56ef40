"""The JSON the fake API sends, in the shapes of HIRO_API.md: Clarity values as {hex, repr},
txs (v1, v3, mempool), blocks and principal-transaction rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from stacks import (
    Bool,
    Buffer,
    ClarityValue,
    ContractPrincipal,
    Int,
    List,
    OptionalNone,
    OptionalSome,
    ResponseErr,
    ResponseOk,
    StandardPrincipal,
    StringAscii,
    StringUtf8,
    Tuple,
    UInt,
    to_hex,
)
from tests.chainsync.hiro_server.model import (
    NAKAMOTO_MICROBLOCK_SEQUENCE,
    Block,
    Event,
    FtTransfer,
    LogRow,
    MempoolEntry,
    Print,
    StxTransfer,
    Tx,
    _hash,
)
from tests.chainsync.hiro_server.state import SIGNATURES

# --- Clarity display text ------------------------------------------------------------------


def clarity_repr(value: ClarityValue) -> str:
    """The API's `repr` (display only; close enough to the node's for a fake)."""
    match value:
        case UInt(n):
            return f"u{n}"
        case Int(n):
            return str(n)
        case Bool(flag):
            return "true" if flag else "false"
        case Buffer(raw):
            return "0x" + raw.hex()
        case StandardPrincipal() | ContractPrincipal():
            return "'" + value.address
        case OptionalNone():
            return "none"
        case OptionalSome(inner) | ResponseOk(inner) | ResponseErr(inner):
            word = {OptionalSome: "some", ResponseOk: "ok", ResponseErr: "err"}[type(value)]
            return f"({word} {clarity_repr(inner)})"
        case List(items):
            return "(list" + "".join(" " + clarity_repr(item) for item in items) + ")"
        case Tuple(data):
            fields = " ".join(f"({key} {clarity_repr(data[key])})" for key in sorted(data))
            return f"(tuple {fields})"
        case StringAscii(text):
            return json.dumps(text)
        case StringUtf8(text):
            return "u" + json.dumps(text)
    raise TypeError(f"not a Clarity value: {value!r}")


def clarity_json(value: ClarityValue) -> dict[str, str]:
    return {"hex": to_hex(value), "repr": clarity_repr(value)}


# --- JSON shapes ---------------------------------------------------------------------------


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _event_v1(tx: Tx, index: int, event: Event, contract_id: str) -> dict[str, Any]:
    head = {"event_index": index, "tx_id": tx.tx_id}
    match event:
        case Print(value):
            return head | {
                "event_type": "smart_contract_log",
                "contract_log": {
                    "contract_id": event.contract_id or contract_id,
                    "topic": "print",
                    "value": clarity_json(value),
                },
            }
        case StxTransfer(sender, recipient, amount, memo):
            asset = {
                "asset_event_type": "transfer",
                "sender": sender,
                "recipient": recipient,
                "amount": str(amount),
            } | ({"memo": memo} if memo else {})
            return head | {"event_type": "stx_asset", "asset": asset}
        case FtTransfer(asset_id, sender, recipient, amount):
            return head | {
                "event_type": "fungible_token_asset",
                "asset": {
                    "asset_event_type": "transfer",
                    "asset_id": asset_id,
                    "sender": sender,
                    "recipient": recipient,
                    "amount": str(amount),
                },
            }
    raise TypeError(event)


def _log_item(row: LogRow, contract_id: str) -> dict[str, Any]:
    item = _event_v1(row.tx, row.event_index, row.print, contract_id)
    return {key: item[key] for key in ("event_index", "event_type", "tx_id", "contract_log")}


def _function_args_v1(tx: Tx) -> list[dict[str, str]]:
    names = SIGNATURES.get(tx.function_name or "", ())
    return [
        clarity_json(arg)
        | {
            "name": names[i][0] if i < len(names) else f"arg{i}",
            "type": names[i][1] if i < len(names) else "unknown",
        }
        for i, arg in enumerate(tx.args)
    ]


def _signature(function: str) -> str:
    params = " ".join(f"({name} {kind})" for name, kind in SIGNATURES.get(function, ()))
    return f"(define-public ({function}{' ' if params else ''}{params}))"


def _payload_v1(tx: Tx, with_args: bool) -> dict[str, Any]:
    if tx.function_name is None:
        return {
            "tx_type": "smart_contract",
            "smart_contract": {
                "clarity_version": 4,
                "contract_id": tx.contract_id,
                "source_code": ";; escrow",
            },
        }
    call = {
        "contract_id": tx.contract_id,
        "function_name": tx.function_name,
        "function_signature": _signature(tx.function_name),
    }
    if with_args:
        call["function_args"] = _function_args_v1(tx)
    return {"tx_type": "contract_call", "contract_call": call}


def _common_v1(tx: Tx) -> dict[str, Any]:
    return {
        "tx_id": tx.tx_id,
        "nonce": tx.nonce,
        "fee_rate": str(tx.fee),
        "sender_address": tx.sender,
        "sponsored": False,
        "post_condition_mode": "allow",
        "post_conditions": list(tx.post_conditions),
        "anchor_mode": "any",
    }


def tx_v1_json(
    tx: Tx,
    block: Block,
    contract_id: str,
    *,
    event_limit: int = 20,
    event_offset: int = 0,
    with_args: bool = True,
) -> dict[str, Any]:
    all_events = [_event_v1(tx, i, e, contract_id) for i, e in enumerate(tx.events)]
    return (
        _common_v1(tx)
        | {
            "block_hash": block.hash,
            "block_height": block.height,
            "block_time": block.time,
            "block_time_iso": _iso(block.time),
            "burn_block_time": block.burn_time,
            "burn_block_height": block.burn_height,
            "burn_block_time_iso": _iso(block.burn_time),
            "parent_burn_block_time": block.burn_time,
            "parent_burn_block_time_iso": _iso(block.burn_time),
            "canonical": block.canonical,
            "tx_index": block.txs.index(tx),
            "tx_status": tx.status,
            "tx_result": clarity_json(tx.result),
            "event_count": len(all_events),
            "parent_block_hash": block.parent_hash,
            "is_unanchored": False,
            "microblock_hash": "0x",
            "microblock_sequence": NAKAMOTO_MICROBLOCK_SEQUENCE,
            "microblock_canonical": True,
            **_costs("execution_cost_"),
            "vm_error": None,
            "events": all_events[event_offset : event_offset + event_limit],
        }
        | _payload_v1(tx, with_args)
    )


def tx_v1_mempool_json(entry: MempoolEntry) -> dict[str, Any]:
    tx = entry.tx
    return (
        _common_v1(tx)
        | {
            "tx_status": entry.status,
            "receipt_time": tx.receipt_time,
            "receipt_time_iso": _iso(tx.receipt_time),
        }
        | _payload_v1(tx, True)
    )


def _costs(prefix: str) -> dict[str, int]:
    return {
        f"{prefix}{name}": 1
        for name in ("read_count", "read_length", "runtime", "write_count", "write_length")
    }


def _call_v3(tx: Tx, include: set[str]) -> dict[str, Any]:
    if tx.function_name is None:
        return {"smart_contract": {"contract_id": tx.contract_id, "clarity_version": 4}}
    call: dict[str, Any] = {"contract_id": tx.contract_id, "function_name": tx.function_name}
    if "function_args" in include:
        call["function_args"] = [clarity_json(arg) for arg in tx.args]
    return {"contract_call": call}


def _head_v3(tx: Tx) -> dict[str, Any]:
    return {
        "tx_id": tx.tx_id,
        "sender": {"address": tx.sender, "nonce": tx.nonce},
        "sponsor": None,
        "fee_rate": str(tx.fee),
    }


def tx_v3_summary_json(tx: Tx, block: Block) -> dict[str, Any]:
    return (
        _head_v3(tx)
        | {
            "block": {
                "height": block.height,
                "hash": block.hash,
                "index_hash": block.index_hash,
                "time": block.time,
                "tx_index": block.txs.index(tx),
            },
            "bitcoin_block": {"height": block.burn_height, "time": block.burn_time},
            "status": tx.status,
            "type": tx.tx_type,
        }
        | _call_v3(tx, set())
    )


def tx_v3_json(tx: Tx, block: Block, include: set[str]) -> dict[str, Any]:
    data = (
        tx_v3_summary_json(tx, block)
        | _call_v3(tx, include)
        | {
            "parent_block": {"hash": block.parent_hash, "index_hash": block.parent_index_hash},
            "event_count": len(tx.events),
            "execution_cost": {key.removeprefix("x_"): v for key, v in _costs("x_").items()},
            "vm_error": None,
        }
    )
    return data | ({"result": clarity_json(tx.result)} if "result" in include else {})


def tx_v3_mempool_json(entry: MempoolEntry, include: set[str]) -> dict[str, Any]:
    return (
        _head_v3(entry.tx)
        | {"status": entry.status, "type": entry.tx.tx_type}
        | _call_v3(entry.tx, include)
        | {
            "receipt_time": entry.tx.receipt_time,
            "receipt_block_height": entry.receipt_block_height,
        }
    )


def block_json(block: Block) -> dict[str, Any]:
    return {
        "canonical": block.canonical,
        "height": block.height,
        "hash": block.hash,
        "block_time": block.time,
        "block_time_iso": _iso(block.time),
        "tenure_height": block.tenure_height,
        "index_block_hash": block.index_hash,
        "parent_block_hash": block.parent_hash,
        "parent_index_block_hash": block.parent_index_hash,
        "burn_block_time": block.burn_time,
        "burn_block_time_iso": _iso(block.burn_time),
        "burn_block_hash": block.burn_hash,
        "burn_block_height": block.burn_height,
        "miner_txid": _hash("miner", block.hash),
        "tx_count": len(block.txs),
        **_costs("execution_cost_"),
    }


def _balance_changes(tx: Tx, address: str) -> dict[str, Any]:
    transfers = [e for e in tx.events if isinstance(e, StxTransfer)]
    sent = sum(e.amount for e in transfers if e.sender == address)
    sent += tx.fee if tx.sender == address else 0
    received = sum(e.amount for e in transfers if e.recipient == address)
    touched = any(address in (e.sender, e.recipient) for e in transfers)
    ft = any(isinstance(e, FtTransfer) and address in (e.sender, e.recipient) for e in tx.events)
    return {
        "involvement": "sender" if tx.sender == address else "affected",
        "balance_changes": {
            "stx": {"sent": str(sent), "received": str(received), "net": str(received - sent)}
        },
        "affected_balances": {"stx": touched or tx.sender == address, "ft": ft, "nft": False},
    }
