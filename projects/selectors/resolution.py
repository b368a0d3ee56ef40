"""What became of each resolution a reviewer's wallet broadcast, for the review page: seen by the
indexer as succeeded or aborted (with the contract's error, e.g. ERR-NOT-OWNER (u113) when the
wallet is not the contract owner's, ERR-NO-OPEN-DISPUTE (u128)), or not seen yet; and whether
the page may offer another resolve call now."""

from __future__ import annotations

import logging
from typing import Any

from projects.chain import ChainTx, chain_reader
from projects.models import Dispute
from stxworx.errors import ApplicationError

logger = logging.getLogger(__name__)

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"


def resolution_attempt_states(*, dispute: Dispute) -> list[dict[str, Any]]:
    """Each attempt, oldest first: {attempt, state, error}. `error` names the contract's refusal
    of a failed call (from the indexed transaction, else one verify-tx lookup of it; a lookup
    that fails leaves the reason generic)."""
    attempts = list(dispute.resolution_attempts.all())  # Meta ordering: recorded_at, id
    seen = chain_reader().canonical_txs(a.tx_id for a in attempts)
    out = []
    for attempt in attempts:
        tx = seen.get(attempt.tx_id)
        if attempt.tx_id == dispute.resolved_tx_id and (
            dispute.close_reason == Dispute.CloseReason.DISPUTE_RESOLVED
        ):
            state, error = SUCCEEDED, None  # the indexer closed the dispute by this very tx
        elif tx is None:
            state, error = PENDING, None
        elif tx.status == "success":
            state, error = SUCCEEDED, None
        else:
            state, error = FAILED, _failure(tx)
        out.append({"attempt": attempt, "state": state, "error": error})
    return out


def _failure(tx: ChainTx) -> str:
    if tx.error_code is not None:
        return _named(tx.error_code)
    try:
        verified = chain_reader().tx_verify(tx.tx_id)
    except ApplicationError as exc:  # the API is down, or does not know the tx any more
        logger.info("verify-tx of %s for the review page failed: %s", tx.tx_id, exc.message)
        return f"The transaction failed ({tx.status})."
    if verified.error and verified.error.get("code") is not None:
        return _named(verified.error["code"])
    return (verified.error or {}).get("reason") or f"The transaction failed ({tx.status})."


def _named(code: int) -> str:
    name = chain_reader().contract_errors.get(code)
    return f"The contract refused the call: {name} (u{code})." if name else f"(err u{code})"


def resolve_blocked_reason(*, dispute: Dispute, chain: dict[str, Any]) -> str | None:
    """Why the resolve button must not be offered now, or None. The live state decides: a
    contract whose dispute is not open (already resolved, reset) would abort the call
    (ERR-NO-OPEN-DISPUTE) and the reviewer would pay the fee for nothing; a token that differs
    from the database's means the function (stx / sbtc) chosen from the database is wrong."""
    if dispute.status != Dispute.Status.OPEN:
        return f"The dispute is {dispute.status}."
    if chain.get("available"):
        on_chain = chain.get("dispute")
        if on_chain is None or on_chain.get("status") != "open":
            status = on_chain.get("status") if on_chain else "absent"
            return (
                f"The contract's dispute is {status}, not open: a resolve call would abort. "
                "Wait for the indexer, or resync the project."
            )
        project = chain.get("project") or {}
        if project.get("token") not in (None, dispute.project.token):
            return (
                f"The contract holds {project.get('token')}, the database says "
                f"{dispute.project.token}: resync the project before resolving."
            )
    return None
