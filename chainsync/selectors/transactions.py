"""verify-tx: what the chain says about a transaction, next to the events the indexer stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chainsync.client import StacksApiError, StacksApiNotFound, Transaction
from chainsync.models import ChainEvent
from chainsync.selectors.common import ChainApiUnavailable, _live_client, escrow_contract_id
from chainsync.selectors.event_log import chain_event_list
from chainsync.selectors.progress import _indexed_through, _sync_state
from stacks import ResponseErr, UInt
from stxworx.errors import NotFound

# CONTRACT.md "Error codes": the `(err uNNN)` of an aborted call.
CONTRACT_ERRORS = {
    100: "ERR-NOT-CLIENT",
    101: "ERR-NOT-FREELANCER",
    102: "ERR-PROJECT-NOT-FOUND",
    103: "ERR-INVALID-MILESTONE",
    105: "ERR-NOT-COMPLETE",
    106: "ERR-ALREADY-RELEASED",
    108: "ERR-INVALID-AMOUNT",
    111: "ERR-REFUND-NOT-ALLOWED",
    112: "ERR-ALREADY-REFUNDED",
    113: "ERR-NOT-OWNER",
    114: "ERR-TOO-MANY-MILESTONES",
    116: "ERR-ALREADY-COMPLETE",
    117: "ERR-INVALID-TOKEN",
    118: "ERR-INSUFFICIENT-BALANCE",
    119: "ERR-CONTRACT-PAUSED",
    120: "ERR-FEE-TOO-HIGH",
    122: "ERR-PROJECT-NOT-ABANDONED",
    123: "ERR-NO-SURPLUS",
    125: "ERR-FORCE-RELEASE-TOO-EARLY",
    126: "ERR-DISPUTE-ALREADY-OPEN",
    127: "ERR-NOT-PROJECT-PARTY",
    128: "ERR-NO-OPEN-DISPUTE",
    129: "ERR-NO-CHANGE",
    130: "ERR-ACTIVE-ESCROWS",
    131: "ERR-DISPUTE-ACTIVE",
}


# --- transactions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TxVerification:
    confirmed: bool
    status: str
    block_height: int | None
    confirmations: int
    events: list[ChainEvent]
    error: dict[str, Any] | None  # {code, name, reason}


def chain_tx_verify(*, tx_id: str, expected_event: str | None = None) -> TxVerification:
    """What the chain says about a transaction: mined, canonical, successful, and (when asked)
    whether it printed `expected_event`. The events are the stored ones, so a transaction the
    indexer has not reached yet shows none.

    `confirmations` counts the tx's block as 1 and uses the indexer's tip (never less than the
    tx's block), so it errs low. Raises NotFound (unknown tx), ChainApiUnavailable."""
    tx_id = tx_id.lower()
    tx = _tx_lookup(tx_id)
    events = list(chain_event_list(filters={"tx_id": tx_id}))
    on_chain = tx.mined and tx.canonical
    confirmations = _sync_state().chain_tip_height if on_chain else 0
    if on_chain:
        confirmations = max(confirmations, tx.block_height) - tx.block_height + 1
    error = _tx_problem(tx, events, expected_event)
    return TxVerification(
        confirmed=error is None,
        status=tx.status,
        block_height=tx.block_height if on_chain else None,
        confirmations=confirmations,
        events=events,
        error=error,
    )


def _tx_lookup(tx_id: str) -> Transaction:
    try:
        with _live_client() as client:
            return client.transaction(tx_id)
    except StacksApiNotFound:
        raise NotFound(f"The Stacks API knows no transaction {tx_id}.") from None
    except StacksApiError as exc:
        raise ChainApiUnavailable(f"The Stacks API could not be read: {exc.message}") from None


def _problem(reason: str, code: int | None = None) -> dict[str, Any]:
    return {"code": code, "name": CONTRACT_ERRORS.get(code) if code else None, "reason": reason}


def _tx_problem(
    tx: Transaction, events: list[ChainEvent], expected: str | None
) -> dict[str, Any] | None:
    if not tx.mined:
        return _problem(f"The transaction is not in a block ({tx.status}).")
    if not tx.canonical:
        return _problem("The transaction's block was orphaned by a fork.")
    if tx.status != "success":
        return _abort_problem(tx)
    contract = escrow_contract_id()
    called = tx.contract_call.contract_id if tx.contract_call else None
    if called != contract and not events:
        return _problem(f"The transaction is not a call to the escrow contract {contract}.")
    if expected is None:
        return None
    printed = [e.event_name for e in events if e.canonical]
    if expected in printed:
        return None
    if not events and _indexed_through() < (tx.block_height or 0):
        return _problem(
            f"Expected a {expected} event; the indexer has not reached block "
            f"{tx.block_height} yet, try again shortly."
        )
    return _problem(
        f"Expected a {expected} event; the transaction printed "
        f"{', '.join(printed) if printed else 'no event'}."
    )


def _abort_problem(tx: Transaction) -> dict[str, Any]:
    result = tx.result()
    if isinstance(result, ResponseErr) and isinstance(result.value, UInt):
        code = result.value.value
        name = CONTRACT_ERRORS.get(code)
        what = f"{name} (u{code})" if name else f"(err u{code}), not an escrow error code"
        return _problem(f"The contract refused the call: {what}.", code)
    return _problem(f"The transaction failed ({tx.status}).")
