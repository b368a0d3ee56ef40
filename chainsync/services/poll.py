"""One poll of the indexer (`sync_once`), and the sync state's bookkeeping around it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import F
from django.utils import timezone

from chainsync.client import StacksApiClient
from chainsync.models import ChainEvent, SyncState
from chainsync.services.amounts import args_fetch, creation_args_fetch
from chainsync.services.apply import ApplyResult, events_apply
from chainsync.services.fetch import FetchResult, chain_fetch
from stxworx.errors import ApplicationError

if TYPE_CHECKING:
    from chainsync.reorg import ReorgResult, TailCheck


@dataclass(frozen=True)
class SyncResult:
    fetched: FetchResult
    lookups: int
    applied: ApplyResult
    tail: TailCheck | None = None
    reorg: ReorgResult | None = None


def sync_once(*, client: StacksApiClient, contract_id: str, notify: bool = True) -> SyncResult:
    """Catch up with the chain once: re-check the provisional tail for forks (chainsync.reorg),
    fetch, look up what is missing, settle what a fork changed (rebuild, chain_reorg), apply.
    Applying stops at a release whose printed net shows that a project's amounts were another
    split than the off-chain project's: its create call is then looked up and applying goes on.
    API errors propagate (the caller records them and backs off); what was stored or applied
    stays, and what a fork left due is settled by the next poll."""
    from chainsync import reorg  # builds on this module

    requests_before = client.requests_made
    tail = reorg.provisional_tail_check(client=client, contract_id=contract_id)
    probes = client.requests_made - requests_before
    fetched = chain_fetch(client=client, contract_id=contract_id)  # counts its own requests
    requests_before = client.requests_made
    lookups = creation_args_fetch(client=client, contract_id=contract_id)
    settled = reorg.reorg_settle(contract_id=contract_id, notify=notify)
    applied = events_apply(contract_id=contract_id, notify=notify)
    looked_up: set[str] = set()
    while applied.lookup and applied.lookup not in looked_up:
        looked_up.add(applied.lookup)
        args_fetch(client=client, tx_id=applied.lookup)
        more = events_apply(contract_id=contract_id, notify=notify)
        applied = ApplyResult(
            applied.applied + more.applied, applied.failed + more.failed, more.blocked, more.lookup
        )
    height, block_hash = _indexed_through(fetched)
    SyncState.objects.filter(contract_id=contract_id).update(
        last_indexed_height=height,
        last_indexed_hash=block_hash,
        last_success_at=timezone.now(),
        last_error="",
        api_requests=F("api_requests") + probes + client.requests_made - requests_before,
    )
    return SyncResult(fetched, lookups + len(looked_up), applied, tail, settled)


def _indexed_through(fetched: FetchResult) -> tuple[int, str]:
    """How far the projection is complete: the tip read by this poll when nothing canonical
    waits, else just below the oldest waiting event (so quiet blocks do not count as lag)."""
    waiting = (
        ChainEvent.objects.filter(state=ChainEvent.State.PENDING, canonical=True)
        .order_by("block_height")
        .values_list("block_height", flat=True)
        .first()
    )
    if waiting is None:
        return fetched.tip_height, fetched.tip_hash
    return waiting - 1, ""


def contract_followed_check(*, contract_id: str) -> None:
    """One database follows one contract: refuse to mix another contract's events into it."""
    other = (
        SyncState.objects.exclude(contract_id=contract_id)
        .values_list("contract_id", flat=True)
        .first()
    )
    if other is not None:
        raise ContractMismatch(
            f"This database follows {other}, not {contract_id}: point ESCROW_CONTRACT_ID back, "
            "or index the new contract into a fresh database."
        )


class ContractMismatch(ApplicationError):
    code = "contract_mismatch"
    http_status = 409


def sync_failure_record(*, contract_id: str, error: str) -> None:
    SyncState.objects.get_or_create(contract_id=contract_id)
    SyncState.objects.filter(contract_id=contract_id).update(
        last_error=error[:2000], last_poll_at=timezone.now()
    )
