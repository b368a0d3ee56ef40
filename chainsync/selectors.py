"""Reads for the blockchain API: the indexed projection and event log, the indexer's progress,
and live checks against the chain (read-only calls, transaction lookups).

Nothing here writes. The views run outside any database transaction (ATOMIC_REQUESTS is off)
and every Stacks API call here is made between single queries, never inside `atomic()`.
Finality is computed by the database from the sync state (`final` annotations), so a list costs
the same number of queries whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import (
    BigIntegerField,
    BooleanField,
    ExpressionWrapper,
    Max,
    Min,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from chainsync.clarity import ResponseErr, UInt
from chainsync.client import (
    StacksApiClient,
    StacksApiError,
    StacksApiNotFound,
    Transaction,
    chainsync_settings,
    stacks_api_client,
)
from chainsync.models import ChainDispute, ChainEvent, ChainMilestone, ChainProject, SyncState
from chainsync.onchain import (
    PARTS,
    ContractReader,
    Difference,
    ProjectView,
    project_compare,
    project_onchain_read,
    project_view,
)
from stxworx.errors import ApplicationError, NotFound

DEFAULT_CONFIRMATIONS = 6
DEFAULT_ONCHAIN_CACHE_SECONDS = 60
DEFAULT_MAX_LAG_BLOCKS = 30
ERROR_CACHE_SECONDS = 10  # an unreachable API is asked again after this, not at every request
HEALTHY_POLL_INTERVALS = 3
# A web request must not wait through the indexer's long backoff: one retry, short timeouts.
LIVE_TIMEOUT = (3.05, 10.0)
LIVE_RETRIES = 1
LIVE_MAX_WAIT = 2.0

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


class ChainApiUnavailable(ApplicationError):
    """The Stacks API could not be read (down, timing out, rate limiting, answering nonsense)."""

    code = "chain_api_unavailable"
    http_status = 503


# --- settings -------------------------------------------------------------------------------


def escrow_contract_id() -> str:
    return chainsync_settings()["ESCROW_CONTRACT_ID"]


def confirmations_required() -> int:
    return int(chainsync_settings().get("CONFIRMATIONS", DEFAULT_CONFIRMATIONS))


def max_lag_blocks() -> int:
    return int(chainsync_settings().get("MAX_LAG_BLOCKS", DEFAULT_MAX_LAG_BLOCKS))


def _live_client() -> StacksApiClient:
    return stacks_api_client(
        max_retries=LIVE_RETRIES, timeout=LIVE_TIMEOUT, max_wait=LIVE_MAX_WAIT, backoff_base=0.25
    )


# --- finality -------------------------------------------------------------------------------


def _final(height_field: str, **also: Any) -> ExpressionWrapper:
    """True when `height_field` is at least CONFIRMATIONS blocks below the chain tip the
    indexer last saw (no sync state yet: nothing is final)."""
    tips = SyncState.objects.filter(contract_id=escrow_contract_id()).values("chain_tip_height")
    tip = Coalesce(Subquery(tips[:1]), Value(0), output_field=BigIntegerField())
    final_at = tip - Value(confirmations_required())
    return ExpressionWrapper(
        Q(**{f"{height_field}__lte": final_at}, **also), output_field=BooleanField()
    )


# --- projects -------------------------------------------------------------------------------


def chain_project_list() -> QuerySet[ChainProject]:
    """Every on-chain project by id, with `final`, milestones and disputes (3 queries a page)."""
    return (
        ChainProject.objects.annotate(final=_final("created_block_height"))
        .prefetch_related(
            Prefetch("milestones", queryset=ChainMilestone.objects.order_by("slot")),
            Prefetch("disputes", queryset=ChainDispute.objects.order_by("slot")),
        )
        .order_by("on_chain_id")
    )


def chain_project_get(*, on_chain_id: int) -> ChainProject:
    try:
        return chain_project_list().get(on_chain_id=on_chain_id)
    except ChainProject.DoesNotExist:
        raise NotFound(f"No on-chain project {on_chain_id} is indexed.") from None


@dataclass(frozen=True)
class LiveCheck:
    """The contract's own view of a project next to the indexed one.

    `on_chain` None with `error` None: the contract does not know the project. `error` set: the
    API could not be read, so nothing is known (`in_sync` None). `differences` are
    `{field, indexed, on_chain}` (chain_project_differences)."""

    on_chain: ProjectView | None
    in_sync: bool | None
    differences: list[dict[str, Any]]
    error: str | None


def chain_project_live_check(*, on_chain_id: int, project: ChainProject | None = None) -> LiveCheck:
    """The live on-chain state of a project (get-project, get-milestone, get-dispute, read at
    one tip through chainsync.onchain, cached as chain_project_onchain_get says) and its
    differences with the database, by the same comparison verify_sync uses: in sync exactly
    when verify_sync would find nothing. `project`: the indexed row when the caller has it
    (from chain_project_get, milestones and disputes prefetched); otherwise it is read, and a
    project the projection lacks differs as `project`. Network I/O; never raises for the API."""
    if project is None:
        project = chain_project_list().filter(on_chain_id=on_chain_id).first()
    try:
        on_chain = chain_project_onchain_get(on_chain_id=on_chain_id)
    except ChainApiUnavailable as exc:
        return LiveCheck(None, None, [], exc.message)
    ours = None if project is None else project_view(project)
    found = project_compare(on_chain_id=on_chain_id, ours=ours, chain=on_chain)
    return LiveCheck(on_chain, not found, chain_project_differences(found), None)


def chain_project_checked_get(*, on_chain_id: int) -> ChainProject:
    """chain_project_get with `.live`, its LiveCheck against the contract (network I/O)."""
    project = chain_project_get(on_chain_id=on_chain_id)
    project.live = chain_project_live_check(on_chain_id=on_chain_id, project=project)
    return project


def chain_project_onchain_get(*, on_chain_id: int) -> ProjectView | None:
    """The contract's view of a project (chainsync.onchain.project_onchain_read): plain data
    with exact ints; None when the contract has no such project.

    Cached for CHAINSYNC['ONCHAIN_CACHE_SECONDS'] (60 s), keyed also by the project's newest
    applied event, so an entry never predates the indexed view it is compared with. A failure
    is cached for ERROR_CACHE_SECONDS. Raises ChainApiUnavailable."""
    key = _onchain_cache_key(on_chain_id)
    entry = cache.get(key)
    if entry is None:
        entry = _onchain_fetch(on_chain_id)
        ttl = int(chainsync_settings().get("ONCHAIN_CACHE_SECONDS", DEFAULT_ONCHAIN_CACHE_SECONDS))
        cache.set(key, entry, ttl if "state" in entry else min(ttl, ERROR_CACHE_SECONDS))
    if "error" in entry:
        raise ChainApiUnavailable(entry["error"])
    return entry["state"]


def _onchain_cache_key(on_chain_id: int) -> str:
    newest = ChainEvent.objects.filter(project_id=on_chain_id).aggregate(at=Max("applied_at"))["at"]
    stamp = newest.timestamp() if newest else 0
    return f"chainsync:onchain:v2:{escrow_contract_id()}:{on_chain_id}:{stamp}"


def _onchain_fetch(on_chain_id: int) -> dict[str, Any]:
    contract = escrow_contract_id()
    try:
        with _live_client() as client:
            return {"state": project_onchain_read(ContractReader(client, contract), on_chain_id)}
    except StacksApiError as exc:
        return {"error": f"The Stacks API could not be read: {exc.message}"}
    except (KeyError, TypeError, AttributeError):
        return {"error": f"The read-only calls of {contract} returned unexpected values."}


# The API's names for the fields of chainsync.onchain's views.
_API_NAMES = {
    "total_amount": "totalAmount",
    "fee_paid": "feePaid",
    "num_milestones": "numMilestones",
    "created_burn_height": "createdBurnHeight",
    "completed_burn_height": "completedBurnHeight",
    "filed_by": "filedBy",
    "filed_burn_height": "filedBurnHeight",
    "resolved_in_favor_of": "resolvedInFavorOf",
}


def chain_project_differences(differences: list[Difference]) -> list[dict[str, Any]]:
    """chainsync.onchain's differences as the API names them: `{field, indexed, on_chain}` with
    `field` `totalAmount`, `milestones.2.released`, `disputes.1.status`, `milestones.3` (a
    milestone only one side has: the sides are its object or null), `project` (only one side
    has the project: the sides are its on-chain id or null)."""
    return [_api_difference(d) for d in differences]


def _api_difference(d: Difference) -> dict[str, Any]:
    path = [] if d.part == "project" else [PARTS[d.part][0], str(d.slot)]
    if d.key is not None:
        path.append(_API_NAMES.get(d.key, d.key))
    if d.part == "project" and d.key is None:
        sides = [None if side is None else d.on_chain_id for side in (d.ours, d.chain)]
    else:
        sides = [_api_value(side) for side in (d.ours, d.chain)]
    return {"field": ".".join(path) or "project", "indexed": sides[0], "on_chain": sides[1]}


def _api_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {_API_NAMES.get(key, key): item for key, item in value.items()}
    return value


# --- events ---------------------------------------------------------------------------------


def chain_event_list(*, filters: dict[str, Any] | None = None) -> QuerySet[ChainEvent]:
    """The event log in chain order, with `final` (canonical and deep enough).

    Filters: `since` (block height, inclusive), `type` (event name), `project` (on-chain id),
    `tx_id`."""
    filters = filters or {}
    qs = ChainEvent.objects.annotate(final=_final("block_height", canonical=True))
    if filters.get("since") is not None:
        qs = qs.filter(block_height__gte=filters["since"])
    if filters.get("type"):
        qs = qs.filter(event_name=filters["type"])
    if filters.get("project") is not None:
        qs = qs.filter(project_id=filters["project"])
    if filters.get("tx_id"):
        qs = qs.filter(tx_id=filters["tx_id"])
    return qs.order_by("block_height", "tx_index", "event_index", "tx_id")


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


# --- the indexer's progress -----------------------------------------------------------------


@dataclass(frozen=True)
class SyncStatus:
    last_indexed_block: int
    current_block: int
    lag: int
    last_poll_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    healthy: bool
    max_lag: int


def _sync_state() -> SyncState:
    contract = escrow_contract_id()
    return SyncState.objects.filter(contract_id=contract).first() or SyncState(contract_id=contract)


def _indexed_through(state: SyncState | None = None) -> int:
    """The block through which every event is applied. SyncState.last_indexed_height is the
    block of the last applied event, which stands still while blocks without events pass; the
    chain tip of the last poll is the right answer once nothing is left pending."""
    state = state or _sync_state()
    pending = ChainEvent.objects.filter(state=ChainEvent.State.PENDING, canonical=True).aggregate(
        low=Min("block_height")
    )["low"]
    if pending is None:
        return max(state.chain_tip_height, state.last_indexed_height)
    return max(pending - 1, 0)


def sync_status_get() -> SyncStatus:
    """The indexer of ESCROW_CONTRACT_ID: healthy when it succeeded within the last
    HEALTHY_POLL_INTERVALS poll intervals and lags less than MAX_LAG_BLOCKS (default 30)."""
    state = _sync_state()
    indexed = min(_indexed_through(state), state.chain_tip_height)
    lag = state.chain_tip_height - indexed
    poll = float(chainsync_settings().get("POLL_SECONDS", 10))
    recent = state.last_success_at is not None and timezone.now() - state.last_success_at <= (
        timedelta(seconds=HEALTHY_POLL_INTERVALS * poll)
    )
    limit = max_lag_blocks()
    return SyncStatus(
        last_indexed_block=indexed,
        current_block=state.chain_tip_height,
        lag=lag,
        last_poll_at=state.last_poll_at,
        last_success_at=state.last_success_at,
        last_error=state.last_error or None,
        healthy=recent and lag < limit,
        max_lag=limit,
    )
