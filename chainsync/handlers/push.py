"""A Chainhook delivery, end to end: parse (chainsync.chainhook), record in the log
(chainsync.log.push), settle what a rollback changed, and apply what is pending, so a pushed
event shows through the API at once, with or without the poller (INDEXER_ENABLED). The settle and
the apply each hold the sync state's row lock (sync_state_lock), the one the poller's apply
holds, so the two never apply at once. What needs the network (a create call whose amounts are
unknown) stays pending for the poller."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from chainsync.chainhook import payload_parse
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


def chainhook_receive(*, body: Any, contract_id: str) -> PushOutcome:
    """Enter a v1 payload's blocks in the log (rollback first) and apply. Raises
    ChainhookMalformed, storing nothing, when the body is not a v1 payload."""
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
