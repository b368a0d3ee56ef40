"""The indexer's progress: how far the projection is complete, and whether it is healthy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from chainsync.client import chainsync_settings
from chainsync.log.state import indexed_through
from chainsync.models import SyncState
from chainsync.selectors.common import HEALTHY_POLL_INTERVALS, escrow_contract_id, max_lag_blocks

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
    state: str  # STARTING, FAILING, OK or DISABLED (see sync_status_get)


STARTING, FAILING, OK, DISABLED = "starting", "failing", "ok", "disabled"


def _sync_state() -> SyncState:
    contract = escrow_contract_id()
    return SyncState.objects.filter(contract_id=contract).first() or SyncState(contract_id=contract)


def _indexed_through(state: SyncState | None = None) -> int:
    """The block through which every event is applied (chainsync.log.state.indexed_through), the
    tip being the newer of the last poll's and the last applied event's block."""
    state = state or _sync_state()
    return indexed_through(max(state.chain_tip_height, state.last_indexed_height))


def sync_status_get() -> SyncStatus:
    """The indexer of ESCROW_CONTRACT_ID: healthy when it succeeded within the last
    HEALTHY_POLL_INTERVALS poll intervals and lags less than MAX_LAG_BLOCKS (default 30).
    `state`: STARTING until a poll has completed; FAILING while its last attempt failed and no
    poll succeeded within HEALTHY_POLL_INTERVALS intervals (it keeps failing, not once);
    DISABLED when INDEXER_ENABLED is off (push alone, or nothing, keeps the record); else OK."""
    state = _sync_state()
    indexed = min(_indexed_through(state), state.chain_tip_height)
    lag = state.chain_tip_height - indexed
    poll = float(chainsync_settings().get("POLL_SECONDS", 10))
    recent = state.last_success_at is not None and timezone.now() - state.last_success_at <= (
        timedelta(seconds=HEALTHY_POLL_INTERVALS * poll)
    )
    limit = max_lag_blocks()
    if not chainsync_settings().get("ENABLED", True):
        state_name = DISABLED
    elif state.last_success_at is None:
        state_name = STARTING
    elif state.last_error and not recent:
        state_name = FAILING
    else:
        state_name = OK
    return SyncStatus(
        last_indexed_block=indexed,
        current_block=state.chain_tip_height,
        lag=lag,
        last_poll_at=state.last_poll_at,
        last_success_at=state.last_success_at,
        last_error=state.last_error or None,
        healthy=recent and lag < limit,
        max_lag=limit,
        state=state_name,
    )
