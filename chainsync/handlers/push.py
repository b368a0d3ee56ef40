"""A Chainhook delivery, end to end: parse (chainsync.chainhook; a 2.0 payload read back from
the API), record in the log (chainsync.log.push), settle what a rollback changed, and apply what
is pending, so a pushed event shows through the API at once, with or without the poller
(INDEXER_ENABLED). The settle and the apply each hold the sync state's row lock
(sync_state_lock), the one the poller's apply holds, so the two never apply at once. What needs
the network (a create call whose amounts are unknown) stays pending for the poller."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chainsync.chainhook import (
    Hint,
    Payload,
    PushBlock,
    PushTx,
    hint_parse,
    is_hosted,
    payload_parse,
)
from chainsync.client import (
    Block,
    StacksApiClient,
    StacksApiNotFound,
    Transaction,
    stacks_api_client,
)
from chainsync.handlers.apply import events_apply
from chainsync.handlers.rebuild import reorg_settle_due
from chainsync.log.push import payload_record
from stxworx.errors import ApplicationError

logger = logging.getLogger("chainsync.chainhook")


@dataclass(frozen=True)
class PushOutcome:
    rolled_back: int
    stored: int
    readmitted: int
    ignored: int
    applied: int
    failed: int


def chainhook_receive(
    *,
    body: Any,
    contract_id: str,
    network: str,
    client: Callable[[], StacksApiClient] = stacks_api_client,
) -> PushOutcome:
    """Enter a delivery's blocks in the log (rollback first) and apply. A v1 payload is taken as
    pushed; a Chainhooks 2.0 payload's apply blocks are read from the API (`_hint_verified`:
    `client()` makes the client). Raises ChainhookMalformed, storing nothing, when the body is
    neither; StacksApiError when the API fails on a 2.0 payload (nothing of it stored, the
    rollback included: Chainhooks delivers again)."""
    if is_hosted(body):
        hint = hint_parse(body, contract_id=contract_id, network=network)
        with client() as api:
            payload = _hint_verified(api, hint, contract_id)
    else:
        payload = payload_parse(body, contract_id=contract_id)
    if payload.ignored:
        logger.info("chainhook: ignored %d print(s) of other contracts", payload.ignored)
    recorded = payload_record(contract_id=contract_id, payload=payload)
    reorg_settle_due(contract_id=contract_id)
    applied = events_apply(contract_id=contract_id)
    return PushOutcome(
        recorded.rolled_back,
        recorded.stored,
        recorded.readmitted,
        payload.ignored,
        applied.applied,
        applied.failed,
    )


def _hint_verified(api: StacksApiClient, hint: Hint, contract_id: str) -> Payload:
    """A 2.0 payload as the API has it: each apply block looked up by its hash (a canonical
    block only: else it is left to the poller), then its txs in one `tx/multiple` batch; only a
    tx the API has mined in that very block is taken, with its prints' event indexes. A request
    per block with the contract's txs and one batch, whatever 2.0's own field meanings."""
    blocks: list[tuple[Block, tuple[str, ...]]] = []
    for hinted in hint.apply:
        try:
            block = api.block(hinted.hash)
        except StacksApiNotFound:
            continue  # orphaned already, or not indexed yet: the poller will see
        if block.canonical and block.height == hinted.height:
            blocks.append((block, hinted.tx_ids))
    found = api.transactions_get({tx_id for _, tx_ids in blocks for tx_id in tx_ids})
    apply = []
    for block, tx_ids in blocks:
        txs = tuple(
            _push_tx(tx, contract_id)
            for tx_id in tx_ids
            if (tx := found.get(tx_id)) is not None
            and tx.canonical
            and tx.block_hash == block.hash
            and tx.tx_index is not None
        )
        apply.append(
            PushBlock(
                block.height,
                block.index_block_hash,
                block.hash,
                block.burn_block_height,
                block.block_time,
                txs,
            )
        )
    return Payload(rollback=hint.rollback, apply=apply, ignored=hint.ignored)


def _push_tx(tx: Transaction, contract_id: str) -> PushTx:
    function = tx.contract_call.function_name if tx.contract_call else ""
    prints = tx.prints_of(contract_id)
    return PushTx(tx.tx_id, tx.tx_index or 0, tx.sender, function[:128], tx.status, prints)


class ChainhookDisabled(ApplicationError):
    code = "chainhook_disabled"
    http_status = 503


class ChainhookUnauthorized(ApplicationError):
    code = "chainhook_unauthorized"
    http_status = 401


class ChainhookBadPayload(ApplicationError):
    """Of the schema (apply and rollback lists of objects), but not Chainhook v1 blocks."""

    code = "chainhook_malformed"
    http_status = 422
