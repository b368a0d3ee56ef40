"""The indexer: one poll (`sync_once`) as a straight line of phases over the layers below it, and
the loop of one replica (`Poller`), which holds the lease (chainsync.lease) and renews it between
the phases.

    tail check   chainsync.log.tail      network, then one transaction if a fork was seen
    fetch        chainsync.log.fetch     network, each page stored as it arrives
    look-ups     chainsync.log.amounts   network, then one UPDATE
    settle       chainsync.handlers.rebuild   one transaction, when a fork left something due
    apply        chainsync.handlers.apply     a transaction per batch, the GC paused meanwhile
    done         chainsync.log.state     the cursor ("indexed through") and the counters

Each phase commits what it did, so an interrupted poll loses nothing and the next resumes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from chainsync.client import StacksApiClient, StacksApiError
from chainsync.handlers.apply import ApplyResult, events_apply
from chainsync.handlers.rebuild import ReorgResult, reorg_settle_due
from chainsync.lease import Lease, LeaseLost, leader_get
from chainsync.log.amounts import args_fetch, creation_args_fetch
from chainsync.log.fetch import FetchResult, chain_fetch
from chainsync.log.state import poll_succeeded, sync_failure_record
from chainsync.log.tail import TailCheck, provisional_tail_check, tip_unchanged
from stxworx.sql import gc_paused

logger = logging.getLogger("chainsync.indexer")
MAX_BACKOFF = 300.0


@dataclass(frozen=True)
class SyncResult:
    fetched: FetchResult
    lookups: int
    applied: ApplyResult
    tail: TailCheck | None = None
    reorg: ReorgResult | None = None


def _nothing() -> None:
    return None


def sync_once(
    *,
    client: StacksApiClient,
    contract_id: str,
    notify: bool = True,
    between: Callable[[], None] = _nothing,
) -> SyncResult:
    """Catch up with the chain once: re-check the provisional tail for forks, fetch, look up
    what is missing, settle what a fork changed, apply. `between` runs before each phase (the
    lease's renewal: it raises LeaseLost to end the poll there). Applying stops at a release
    whose printed net shows that a project's amounts were another split than the off-chain
    project's: its create call is then looked up and applying goes on. API errors propagate
    (the caller records them and backs off); what was stored or applied stays, and what a fork
    left due is settled by the next poll."""
    between()
    requests_before = client.requests_made
    tip = client.status().chain_tip
    if tip is not None and tip_unchanged(contract_id=contract_id, tip_hash=tip.block_hash):
        # the chain has not moved since a poll that left nothing waiting: nothing can be new
        poll_succeeded(
            contract_id=contract_id,
            tip_height=tip.block_height,
            tip_hash=tip.block_hash,
            api_requests=client.requests_made - requests_before,
        )
        return SyncResult(
            FetchResult(0, 0, 0, tip.block_height, tip.block_hash), 0, ApplyResult(0, 0, False)
        )
    tail = provisional_tail_check(client=client, contract_id=contract_id)
    probes = client.requests_made - requests_before
    between()
    fetched = chain_fetch(
        client=client, contract_id=contract_id, between=between, tip=tip, head=tail.head
    )  # counts its requests
    between()
    requests_before = client.requests_made
    lookups = creation_args_fetch(client=client, contract_id=contract_id)
    between()
    settled = reorg_settle_due(contract_id=contract_id, notify=notify)
    between()
    applied, looked_up = _apply(client, contract_id, notify, between)
    poll_succeeded(
        contract_id=contract_id,
        tip_height=fetched.tip_height,
        tip_hash=fetched.tip_hash,
        api_requests=probes + client.requests_made - requests_before,
    )
    return SyncResult(fetched, lookups + looked_up, applied, tail, settled)


def _apply(
    client: StacksApiClient, contract_id: str, notify: bool, between: Callable[[], None]
) -> tuple[ApplyResult, int]:
    """Apply what is pending, looking up (once each) the create calls whose split turned out
    wrong; the GC paused (chainsync's batches allocate much, free it all, and make no cycles)."""
    looked_up: set[str] = set()
    with gc_paused():
        applied = events_apply(contract_id=contract_id, notify=notify)
        while applied.lookup and applied.lookup not in looked_up:
            looked_up.add(applied.lookup)
            between()
            args_fetch(client=client, tx_id=applied.lookup)
            more = events_apply(contract_id=contract_id, notify=notify)
            applied = ApplyResult(
                applied.applied + more.applied,
                applied.failed + more.failed,
                more.blocked,
                more.lookup,
            )
    return applied, len(looked_up)


def _failure_record_quietly(contract_id: str, error: str) -> None:
    try:
        sync_failure_record(contract_id=contract_id, error=error)
    except Exception:  # the database itself may be what failed
        logger.exception("could not record the indexer's failure")


@dataclass
class Poller:
    """One replica's indexer loop, a turn at a time: lead and sync once, or follow. The lease
    is renewed between the poll's phases (`Lease.keep`)."""

    client: StacksApiClient
    lease: Lease
    poll_seconds: float
    report: Callable[[SyncResult], None] = lambda result: None
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    leader_seen: str = ""  # the leader last logged, so each change is logged once

    def turn(self) -> float:
        """Renew the lease and sync once, or, while another indexer leads, only look. Returns
        the seconds to wait before the next turn: after a poll, what remains of the interval
        (polls run at a fixed rate, so a block is seen within one interval of appearing, not
        an interval plus the poll), the interval while following, or a backoff after an API
        error (during which the lease may lapse to a replica whose API calls work)."""
        started = self.clock()
        if not self.lease.acquire():
            self._follow()
            return self.poll_seconds
        self._seen(self.lease.holder, "%s leads the indexer of %s", self.lease.contract_id)
        contract_id = self.lease.contract_id
        try:
            result = sync_once(client=self.client, contract_id=contract_id, between=self.lease.keep)
        except LeaseLost as exc:
            logger.warning("lost the lease in the middle of a poll: %s", exc)
            return self._rest_of_interval(started)
        except StacksApiError as exc:
            self.failures += 1
            sync_failure_record(contract_id=contract_id, error=str(exc))
            wait = min(MAX_BACKOFF, self.poll_seconds * 2**self.failures)
            logger.warning("Stacks API unavailable (%s); retrying in %.0f s", exc, wait)
            return wait
        except Exception as exc:  # a bug or the database: back off, never take the server down
            self.failures += 1
            logger.exception("indexer poll failed")
            _failure_record_quietly(contract_id, f"{type(exc).__name__}: {exc}")
            return min(MAX_BACKOFF, self.poll_seconds * 2**self.failures)
        self.failures = 0
        self.report(result)
        return self._rest_of_interval(started)

    def _rest_of_interval(self, started: float) -> float:
        return max(0.0, self.poll_seconds - (self.clock() - started))

    def _follow(self) -> None:
        leader, until = leader_get(contract_id=self.lease.contract_id)
        message = "waiting: %s leads the indexer of %s (lease until %s)"
        self._seen(leader, message, self.lease.contract_id, until)

    def _seen(self, leader: str, message: str, *args: object) -> None:
        if leader != self.leader_seen:
            self.leader_seen = leader
            logger.info(message, leader, *args)
