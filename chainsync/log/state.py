"""The sync state (SyncState): one row per followed contract, the log's cursor and counters. Every
write to it is here or beside the log write it commits with (the fetch markers, the forks' due
rebuilds); the lease's columns are chainsync.lease's.

"Indexed through" is worked out in one place (`indexed_through`): the poll records it, the
progress selectors report it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import F, Min
from django.utils import timezone

from chainsync.models import NEWEST_FIRST, ChainEvent, SyncState
from stxworx.errors import ApplicationError

PENDING = ChainEvent.State.PENDING


def sync_state_get(*, contract_id: str) -> SyncState:
    state, _ = SyncState.objects.get_or_create(contract_id=contract_id)
    return state


def sync_state_lock(*, contract_id: str) -> SyncState:
    """The contract's sync state, created if need be, locked for the caller's transaction."""
    return SyncState.objects.select_for_update().get_or_create(contract_id=contract_id)[0]


def _lowest_pending() -> int | None:
    return ChainEvent.objects.filter(state=PENDING, canonical=True).aggregate(
        low=Min("block_height")
    )["low"]


def indexed_through(tip_height: int) -> int:
    """The block through which every canonical event is processed: just below the oldest one
    still pending, else `tip_height` (the chain tip as far as the caller knows: blocks without
    events count as indexed, so quiet blocks are no lag)."""
    return _through(tip_height, _lowest_pending())


def _through(tip_height: int, waiting: int | None) -> int:
    return tip_height if waiting is None else max(waiting - 1, 0)


def poll_succeeded(*, contract_id: str, tip_height: int, tip_hash: str, api_requests: int) -> None:
    """Record a completed poll: indexed through (`indexed_through`: the tip, with its hash, when
    nothing waits), success now, no error, and the requests it made beyond those counted."""
    waiting = _lowest_pending()
    SyncState.objects.filter(contract_id=contract_id).update(
        last_indexed_height=_through(tip_height, waiting),
        last_indexed_hash="" if waiting is not None else tip_hash,
        last_success_at=timezone.now(),
        last_poll_at=timezone.now(),
        last_error="",
        api_requests=F("api_requests") + api_requests,
    )


def sync_failure_record(*, contract_id: str, error: str) -> None:
    SyncState.objects.get_or_create(contract_id=contract_id)
    SyncState.objects.filter(contract_id=contract_id).update(
        last_error=error[:2000], last_poll_at=timezone.now()
    )


def state_advance(state: SyncState, done: Sequence[Any], ok: int, bad: int) -> None:
    """A batch of events processed (`done`, in chain order; `ok` applied, `bad` failed): the
    cursor at the last one's block, the counters up. In the batch's transaction, `state` locked."""
    if done:
        state.last_indexed_height = done[-1].block_height
        state.last_indexed_hash = done[-1].block_hash
    state.events_applied += ok
    state.events_failed += bad
    state.save(
        update_fields=[
            "last_indexed_height",
            "last_indexed_hash",
            "events_applied",
            "events_failed",
        ]
    )


def cursor_repair(*, contract_id: str) -> None:
    """Keep the last indexed block a canonical one: after a fork, the block of the newest
    canonical event processed (or none). Runs in the caller's transaction."""
    state = SyncState.objects.select_for_update().get(contract_id=contract_id)
    processed = ChainEvent.objects.filter(canonical=True).exclude(state=PENDING)
    if processed.filter(block_hash=state.last_indexed_hash).exists():
        return
    newest = processed.order_by(*NEWEST_FIRST).first()
    state.last_indexed_height = newest.block_height if newest else 0
    state.last_indexed_hash = newest.block_hash if newest else ""
    state.save(update_fields=["last_indexed_height", "last_indexed_hash"])


def reorg_due_clear(*, contract_id: str) -> None:
    """Nothing is due from a fork any more (everything was rebuilt)."""
    SyncState.objects.filter(contract_id=contract_id).update(reorg_due={})


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
