"""Chainhook v1 payloads (HIRO_API.md "Chainhook") of the fake chain's blocks: what a
self-hosted chainhook with a print_event predicate on the escrow contract would POST."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stacks import to_hex
from tests.chainsync.hiro_server.model import Block, Print, Tx


def chainhook_block(block: Block, contract_id: str, *, every_contract: bool = False) -> dict:
    """A block as Chainhook sends it: only the txs with a matching print."""
    txs = []
    for index, tx in enumerate(block.txs):
        events = _events(tx, contract_id, every_contract)
        if events:
            txs.append(_tx(tx, index, events))
    return {
        "block_identifier": {"index": block.height, "hash": block.index_hash},
        "parent_block_identifier": {"index": block.height - 1, "hash": block.parent_index_hash},
        "timestamp": block.time,
        "metadata": {
            "stacks_block_hash": block.hash,
            "bitcoin_anchor_block_identifier": {
                "index": block.burn_height,
                "hash": block.burn_hash,
            },
            "block_time": block.time,
        },
        "transactions": txs,
    }


def _prints(tx: Tx, contract_id: str, every_contract: bool) -> list[tuple[int, str, str]]:
    """(event index, contract, value hex) of the tx's prints that the chainhook matches."""
    found = []
    for n, event in enumerate(tx.events):
        if isinstance(event, Print):
            owner = event.contract_id or tx.contract_id
            if owner == contract_id or every_contract:
                found.append((n, owner, to_hex(event.value)))
    return found


def _events(tx: Tx, contract_id: str, every_contract: bool) -> list[dict[str, Any]]:
    events = []
    for n, owner, value in _prints(tx, contract_id, every_contract):
        data = {"contract_identifier": owner, "topic": "print", "raw_value": value}
        events.append({"type": "SmartContractEvent", "position": {"index": n}, "data": data})
    return events


def _tx(tx: Tx, index: int, events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "transaction_identifier": {"hash": tx.tx_id},
        "operations": [],
        "metadata": {
            "success": tx.status == "success",
            "sender": tx.sender,
            "nonce": tx.nonce,
            "fee": tx.fee,
            "kind": {
                "type": "ContractCall",
                "data": {"contract_identifier": tx.contract_id, "method": tx.function_name},
            },
            "receipt": {"events": events},
            "position": {"index": index},
        },
    }


def chainhook_payload(
    contract_id: str, apply: Sequence[Block] = (), rollback: Sequence[Block] = (), **kw: Any
) -> dict[str, Any]:
    """The v1 body: rollback tip first, as Chainhook sends a reorg."""
    return {
        "apply": [chainhook_block(b, contract_id, **kw) for b in apply],
        "rollback": [chainhook_block(b, contract_id, **kw) for b in reversed(rollback)],
        "events": [],
        "chainhook": {"uuid": "test", "predicate": {}, "is_streaming_blocks": True},
    }


# --- Chainhooks 2.0 (Hiro's hosted service) ---------------------------------------------------
# The shape of @hirosystems/chainhooks-client 2.1.1's ChainhookEventSchema (npm): blocks of
# transactions with `operations`; a print is a `contract_log` operation. Which hash 2.0 puts in
# block_identifier.hash is not documented: `index_hash` picks one or the other.


def hosted_block(
    block: Block, contract_id: str, *, every_contract: bool = False, index_hash: bool = False
) -> dict[str, Any]:
    """A block as Chainhooks 2.0 sends it: the txs that call the contract or print from it."""
    txs = []
    for position, tx in enumerate(block.txs):
        operations = _operations(tx, contract_id, every_contract)
        if operations:
            txs.append(_hosted_tx(tx, position, operations))
    ident = block.index_hash if index_hash else block.hash
    parent = block.parent_index_hash if index_hash else block.parent_hash
    return {
        "timestamp": block.time,
        "block_identifier": {"index": block.height, "hash": ident},
        "parent_block_identifier": {"index": block.height - 1, "hash": parent},
        "transactions": txs,
    }


def _operations(tx: Tx, contract_id: str, every_contract: bool) -> list[dict[str, Any]]:
    status = tx.status
    ops: list[dict[str, Any]] = []
    if tx.function_name is not None and tx.contract_id == contract_id:
        ops.append(
            {
                "operation_identifier": {"index": 0},
                "status": status,
                "type": "contract_call",
                "account": {"address": tx.sender},
                "metadata": {
                    "args": None,
                    "contract_identifier": tx.contract_id,
                    "function_name": tx.function_name,
                },
            }
        )
    for _, owner, value in _prints(tx, contract_id, every_contract):
        meta = {"contract_identifier": owner, "topic": "print", "value": value}
        index = len(ops)
        ops.append(
            {
                "operation_identifier": {"index": index},
                "status": status,
                "type": "contract_log",
                "metadata": meta,
            }
        )
    return ops


def _hosted_tx(tx: Tx, position: int, operations: list[dict[str, Any]]) -> dict[str, Any]:
    cost = dict.fromkeys(("read_count", "read_length", "runtime", "write_count", "write_length"), 0)
    return {
        "transaction_identifier": {"hash": tx.tx_id},
        "operations": operations,
        "metadata": {
            "canonical": True,
            "microblock_canonical": True,
            "execution_cost": cost,
            "fee_rate": str(tx.fee),
            "nonce": tx.nonce,
            "type": tx.tx_type,
            "position": {"index": position, "microblock_identifier": None},
            "result": to_hex(tx.result),
            "sender_address": tx.sender,
            "sponsor_address": None,
            "sponsored": False,
            "status": tx.status,
            "vm_error": None,
        },
    }


def hosted_payload(
    contract_id: str,
    apply: Sequence[Block] = (),
    rollback: Sequence[Block] = (),
    *,
    network: str = "testnet",
    **kw: Any,
) -> dict[str, Any]:
    """The 2.0 body: rollback tip first."""
    return {
        "chainhook": {"uuid": "be4ab3ed-b606-4fe0-97c4-6c0b1ac9b185", "name": "escrow"},
        "event": {
            "chain": "stacks",
            "network": network,
            "apply": [hosted_block(b, contract_id, **kw) for b in apply],
            "rollback": [hosted_block(b, contract_id, **kw) for b in reversed(rollback)],
        },
    }
