"""Reads for the blockchain API: the indexed projection and event log, the indexer's progress,
and live checks against the chain (read-only calls, transaction lookups).

Nothing here writes. The views run outside any database transaction (ATOMIC_REQUESTS is off)
and every Stacks API call here is made between single queries, never inside `atomic()`.
Finality is computed by the database from the sync state (`final` annotations), so a list costs
the same number of queries whatever its length.

The package, by what is read: `projects` (the indexed projects and their live check),
`event_log`, `transactions` (verify-tx), `progress` (sync-status), and what they share in
`common`. Import from `chainsync.selectors`.
"""

from __future__ import annotations

from chainsync.selectors.common import (
    DEFAULT_CONFIRMATIONS,
    DEFAULT_MAX_LAG_BLOCKS,
    DEFAULT_ONCHAIN_CACHE_SECONDS,
    ERROR_CACHE_SECONDS,
    HEALTHY_POLL_INTERVALS,
    LIVE_MAX_WAIT,
    LIVE_RETRIES,
    LIVE_TIMEOUT,
    ChainApiUnavailable,
    confirmations_required,
    escrow_contract_id,
    max_lag_blocks,
)
from chainsync.selectors.event_log import chain_event_list
from chainsync.selectors.progress import SyncStatus, sync_status_get
from chainsync.selectors.projects import (
    LiveCheck,
    chain_project_checked_get,
    chain_project_differences,
    chain_project_get,
    chain_project_list,
    chain_project_live_check,
    chain_project_onchain_get,
    chain_project_onchain_read,
)
from chainsync.selectors.transactions import CONTRACT_ERRORS, TxVerification, chain_tx_verify

__all__ = [
    "CONTRACT_ERRORS",
    "DEFAULT_CONFIRMATIONS",
    "DEFAULT_MAX_LAG_BLOCKS",
    "DEFAULT_ONCHAIN_CACHE_SECONDS",
    "ERROR_CACHE_SECONDS",
    "HEALTHY_POLL_INTERVALS",
    "LIVE_MAX_WAIT",
    "LIVE_RETRIES",
    "LIVE_TIMEOUT",
    "ChainApiUnavailable",
    "LiveCheck",
    "SyncStatus",
    "TxVerification",
    "chain_event_list",
    "chain_project_checked_get",
    "chain_project_differences",
    "chain_project_get",
    "chain_project_list",
    "chain_project_live_check",
    "chain_project_onchain_get",
    "chain_project_onchain_read",
    "chain_tx_verify",
    "confirmations_required",
    "escrow_contract_id",
    "max_lag_blocks",
    "sync_status_get",
]
