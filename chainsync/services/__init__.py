"""Writes to the chain record and the projection, one module per step of a poll; everything is
re-exported here, so `from chainsync import services` and `services.<fn>` name every service:

- fetch: `chain_fetch` brings the contract's new calls and prints into the append-only log
- amounts: `creation_args_fetch` looks up the amounts of new projects nothing else gives
- apply: `events_apply` applies pending events to the projection in chain order, set-based
  batches, each committed with the sync state
- poll: `sync_once`, one poll (fork check, fetch, look-ups, settle, apply)
"""

from chainsync.services.amounts import (
    args_fetch,
    creation_args_fetch,
    stored_args,
)
from chainsync.services.apply import (
    ApplyResult,
    BatchOutcome,
    event_states_save,
    events_apply,
    events_batch_apply,
)
from chainsync.services.fetch import (
    FetchResult,
    chain_fetch,
    event_content_set,
    event_placed,
    sync_state_get,
    sync_state_lock,
    transactions_store,
)
from chainsync.services.poll import (
    ContractMismatch,
    SyncResult,
    contract_followed_check,
    sync_failure_record,
    sync_once,
)

__all__ = [
    "ApplyResult",
    "BatchOutcome",
    "ContractMismatch",
    "FetchResult",
    "SyncResult",
    "args_fetch",
    "chain_fetch",
    "contract_followed_check",
    "creation_args_fetch",
    "event_content_set",
    "event_placed",
    "event_states_save",
    "events_apply",
    "events_batch_apply",
    "stored_args",
    "sync_failure_record",
    "sync_once",
    "sync_state_get",
    "sync_state_lock",
    "transactions_store",
]
