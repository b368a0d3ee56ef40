"""Chainhook's push payloads read into plain records. Pure: no Django, no database, no network.

- Self-hosted v1 (/work/shared/chain/HIRO_API.md "Chainhook"), `payload_parse`: the blocks to
  undo (`rollback`) and to apply (`apply`), each with the escrow contract's print events of its
  txs, taken as pushed.
- Hiro's hosted Chainhooks 2.0, `hint_parse`: `{chainhook, event: {chain, network, apply,
  rollback}}`, blocks of `transactions[{transaction_identifier, operations, metadata}]`, prints
  as `contract_log` operations (the schema of @hirosystems/chainhooks-client 2.1.1). What it does
  not settle (whether `block_identifier.hash` is the block hash or the index block hash, and
  whether an operation's index is the API's event_index) is not guessed: its apply blocks are
  read as hints, the block and tx ids to read from the API (chainsync.handlers.push).

Another contract's prints are left out and counted; anything not in the documented shape raises
ChainhookMalformed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

HEX = re.compile(r"^0x[0-9a-fA-F]*$")
PRINT, SMART_CONTRACT_EVENT = "print", "SmartContractEvent"


class ChainhookMalformed(ValueError):
    """The body is not a Chainhook v1 payload as documented."""


@dataclass(frozen=True)
class PushTx:
    tx_id: str
    tx_index: int
    sender: str
    function_name: str
    status: str
    prints: dict[int, str]  # event index -> print hex (the escrow contract's only)


@dataclass(frozen=True)
class PushBlock:
    height: int
    index_hash: str  # block_identifier.hash
    block_hash: str  # metadata.stacks_block_hash
    burn_height: int
    time: int | None
    txs: tuple[PushTx, ...]


@dataclass
class Payload:
    rollback: list[PushBlock] = field(default_factory=list)
    apply: list[PushBlock] = field(default_factory=list)
    ignored: int = 0  # print events of other contracts, left out


def _get(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict):
        raise ChainhookMalformed(f"{where} should be an object")
    value = obj.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ChainhookMalformed(f"{where}.{key} is missing or of the wrong type")
    return value


def _hash(obj: Any, key: str, where: str) -> str:
    value = _get(obj, key, str, where)
    if not HEX.match(value) or len(value) > 66:
        raise ChainhookMalformed(f"{where}.{key} should be a 0x hash")
    return value


def payload_parse(body: Any, *, contract_id: str) -> Payload:
    """The rollback and apply blocks of a v1 body, with `contract_id`'s prints only."""
    payload = Payload()
    for key in ("rollback", "apply"):
        blocks = _get(body, key, list, "body")
        for n, block in enumerate(blocks):
            parsed, ignored = _block(block, contract_id, f"{key}[{n}]")
            getattr(payload, key).append(parsed)
            payload.ignored += ignored
    return payload


def _block(block: Any, contract_id: str, where: str) -> tuple[PushBlock, int]:
    ident = _get(block, "block_identifier", dict, where)
    meta = _get(block, "metadata", dict, where)
    anchor = _get(meta, "bitcoin_anchor_block_identifier", dict, f"{where}.metadata")
    time = meta.get("block_time")
    txs, ignored = [], 0
    for n, tx in enumerate(_get(block, "transactions", list, where)):
        parsed, skipped = _tx(tx, contract_id, f"{where}.transactions[{n}]")
        ignored += skipped
        if parsed.prints:
            txs.append(parsed)
    pushed = PushBlock(
        height=_nat(ident, "index", where),
        index_hash=_hash(ident, "hash", f"{where}.block_identifier"),
        block_hash=_hash(meta, "stacks_block_hash", f"{where}.metadata"),
        burn_height=_nat(anchor, "index", f"{where}.metadata.bitcoin_anchor_block_identifier"),
        time=time if isinstance(time, int) and not isinstance(time, bool) else None,
        txs=tuple(txs),
    )
    return pushed, ignored


def _nat(obj: Any, key: str, where: str) -> int:
    value = _get(obj, key, int, where)
    if value < 0 or value >= 2**63:
        raise ChainhookMalformed(f"{where}.{key} is out of range")
    return value


def _tx(tx: Any, contract_id: str, where: str) -> tuple[PushTx, int]:
    tx_id = _hash(_get(tx, "transaction_identifier", dict, where), "hash", where)
    meta = _get(tx, "metadata", dict, where)
    events = _get(_get(meta, "receipt", dict, f"{where}.metadata"), "events", list, where)
    kind = meta.get("kind") if isinstance(meta.get("kind"), dict) else {}
    data = kind.get("data") if isinstance(kind.get("data"), dict) else {}
    method = data.get("method") if isinstance(data.get("method"), str) else ""
    prints, ignored = {}, 0
    for n, event in enumerate(events):
        if not isinstance(event, dict) or event.get("type") != SMART_CONTRACT_EVENT:
            continue
        body = _get(event, "data", dict, f"{where}.events[{n}]")
        if body.get("topic") != PRINT:
            continue
        if _get(body, "contract_identifier", str, f"{where}.events[{n}].data") != contract_id:
            ignored += 1
            continue
        index = _nat(_get(event, "position", dict, f"{where}.events[{n}]"), "index", where)
        prints[index] = _hash_any(body, f"{where}.events[{n}].data")
    success = _get(meta, "success", bool, f"{where}.metadata")
    position = _nat(_get(meta, "position", dict, f"{where}.metadata"), "index", where)
    sender = _get(meta, "sender", str, f"{where}.metadata")[:64]
    status = "success" if success else "abort_by_response"
    return PushTx(tx_id, position, sender, method[:128], status, prints), ignored


def _hash_any(body: dict[str, Any], where: str) -> str:
    value = body.get("raw_value", body.get("hex"))
    if not isinstance(value, str) or not HEX.match(value):
        raise ChainhookMalformed(f"{where}.raw_value should be the print's 0x hex")
    return value


# --- Chainhooks 2.0 (hosted) ---------------------------------------------------------------


@dataclass(frozen=True)
class HintBlock:
    height: int
    hash: str  # block_identifier.hash: a block hash or an index block hash (both are looked up)
    tx_ids: tuple[str, ...]  # txs with a print of the contract, or a call to it


@dataclass
class Hint:
    rollback: list[PushBlock] = field(default_factory=list)  # no txs: undone by hash
    apply: list[HintBlock] = field(default_factory=list)
    ignored: int = 0  # prints of other contracts, or of another network


def is_hosted(body: Any) -> bool:
    """Whether a body is Chainhooks 2.0's (`event` holds the blocks) rather than v1's."""
    return isinstance(body, dict) and "event" in body


def hint_parse(body: Any, *, contract_id: str, network: str) -> Hint:
    """The rollback blocks and the apply blocks' relevant tx ids of a 2.0 body. A payload of
    another chain or network holds nothing for this record: all its prints count as ignored."""
    event = _get(body, "event", dict, "body")
    hint = Hint()
    foreign = event.get("chain") != "stacks" or event.get("network") != network
    for key in ("rollback", "apply"):
        for n, block in enumerate(_get(event, key, list, "event")):
            where = f"event.{key}[{n}]"
            ident = _get(block, "block_identifier", dict, where)
            height = _nat(ident, "index", f"{where}.block_identifier")
            block_hash = _hash(ident, "hash", f"{where}.block_identifier")
            tx_ids, ignored = _hinted_txs(block, contract_id, where, everything=foreign)
            hint.ignored += ignored
            if foreign:
                continue
            if key == "rollback":
                hint.rollback.append(PushBlock(height, block_hash, block_hash, 0, None, ()))
            elif tx_ids:
                hint.apply.append(HintBlock(height, block_hash, tx_ids))
    return hint


def _hinted_txs(
    block: Any, contract_id: str, where: str, *, everything: bool
) -> tuple[tuple[str, ...], int]:
    tx_ids, ignored = [], 0
    for n, tx in enumerate(_get(block, "transactions", list, where)):
        at = f"{where}.transactions[{n}]"
        tx_id = _hash(_get(tx, "transaction_identifier", dict, at), "hash", at)
        ours = False
        for m, op in enumerate(_get(tx, "operations", list, at)):
            if not isinstance(op, dict) or op.get("type") not in {"contract_log", "contract_call"}:
                continue
            meta = _get(op, "metadata", dict, f"{at}.operations[{m}]")
            owner = _get(meta, "contract_identifier", str, f"{at}.operations[{m}].metadata")
            mine = owner == contract_id and not everything
            ours = ours or mine
            ignored += op["type"] == "contract_log" and not mine
        if ours:
            tx_ids.append(tx_id)
    return tuple(tx_ids), ignored
