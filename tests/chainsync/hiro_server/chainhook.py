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


def _events(tx: Tx, contract_id: str, every_contract: bool) -> list[dict[str, Any]]:
    events = []
    for n, event in enumerate(tx.events):
        if not isinstance(event, Print):
            continue
        owner = event.contract_id or tx.contract_id
        if owner != contract_id and not every_contract:
            continue
        data = {"contract_identifier": owner, "topic": "print", "raw_value": to_hex(event.value)}
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
