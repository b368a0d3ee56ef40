"""Leadership of the indexer: of the replicas that run it, one polls the Stacks API at a time.

The lease lives in the contract's SyncState row (`leader`, `lease_expires_at`) and is timed by
the database's clock, so replicas whose clocks disagree still agree on when it lapses. It is
taken or renewed by one conditional UPDATE (free, lapsed, or already ours) that the database
serialises: of replicas racing for it, at most one leads.

What the lease has to guarantee, and what it need not: the sync is crash-safe on its own (every
stored page and every applied batch commits with its cursor, and `events_apply` locks the sync
state in each batch), so two pollers at once would corrupt nothing. The lease saves the duplicate
API work, which the API's rate limit makes dear. A leader keeps it renewed while it works (before
each poll, and before any API request once a third of the TTL has passed), so a long backfill
does not lose it; a leader that lost it (paused past the TTL, say) notices at its next renewal,
before it sends another request, and goes back to following."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from django.db.models import Q
from django.db.models.functions import Now

from chainsync.client import ApiSession, StacksApiClient, StacksApiError, chainsync_settings
from chainsync.models import SyncState
from chainsync.services import SyncResult, sync_failure_record, sync_once

logger = logging.getLogger("chainsync.indexer")
DEFAULT_TTL_SECONDS = 60.0
MAX_BACKOFF = 300.0


class LeaseLost(Exception):
    """Another indexer holds the lease this one was working under."""


def leader_ttl() -> float:
    """Seconds a lease lasts unless renewed: `CHAINSYNC["LEADER_TTL_SECONDS"]`, 60 by default."""
    return float(chainsync_settings().get("LEADER_TTL_SECONDS", DEFAULT_TTL_SECONDS))


def leader_holder_new() -> str:
    """`hostname:pid:random`. The host and pid name the replica in logs; the random part keeps a
    process that reuses a dead one's pid from inheriting its lease."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


def leader_acquire(*, contract_id: str, holder: str, ttl: float | None = None) -> bool:
    """Take or renew the lease on `contract_id`'s indexer for `ttl` seconds (`leader_ttl()` by
    default). True when `holder` leads.

    The row is made first if missing; then one UPDATE takes the lease only if it is free, lapsed
    or `holder`'s already. Racing UPDATEs of a row run one after the other, and each re-checks
    the condition on the row as the previous one left it, so at most one holder gets the lease."""
    SyncState.objects.get_or_create(contract_id=contract_id)
    seconds = leader_ttl() if ttl is None else ttl
    takeable = (
        Q(leader="")
        | Q(leader=holder)
        | Q(lease_expires_at__isnull=True)
        | Q(lease_expires_at__lt=Now())
    )
    taken = SyncState.objects.filter(takeable, contract_id=contract_id).update(
        leader=holder, lease_expires_at=Now() + timedelta(seconds=seconds)
    )
    return taken == 1


def leader_release(*, contract_id: str, holder: str) -> bool:
    """Give the lease up if `holder` has it, so a follower takes over at its next try instead of
    after the TTL. True when it was held."""
    released = SyncState.objects.filter(contract_id=contract_id, leader=holder).update(
        leader="", lease_expires_at=None
    )
    return released == 1


def leader_get(*, contract_id: str) -> tuple[str, datetime | None]:
    """Who last took the lease and when it lapses (lapsed or not); ("", None) when free."""
    rows = SyncState.objects.filter(contract_id=contract_id)
    return rows.values_list("leader", "lease_expires_at").first() or ("", None)


@dataclass
class Lease:
    """One replica's hold on the lease, as its poll loop keeps it. `clock` (monotonic seconds)
    tells when a renewal is due; the lease itself is timed by the database."""

    contract_id: str
    holder: str
    ttl: float
    clock: Callable[[], float] = time.monotonic
    renewed_at: float | None = None  # by `clock`, while held

    @property
    def held(self) -> bool:
        return self.renewed_at is not None

    def acquire(self) -> bool:
        """Take or renew the lease now. True when held."""
        started = self.clock()  # the database times the lease from about now, not from the reply
        held = leader_acquire(contract_id=self.contract_id, holder=self.holder, ttl=self.ttl)
        self.renewed_at = started if held else None
        return held

    def keep(self) -> None:
        """Renew the lease if a third of the TTL has passed since the last renewal (it cannot
        have lapsed sooner). Raises LeaseLost when another holder has it."""
        if self.renewed_at is not None and self.clock() - self.renewed_at < self.ttl / 3:
            return
        if not self.acquire():
            leader, _ = leader_get(contract_id=self.contract_id)
            raise LeaseLost(f"{leader or 'nobody'} leads the indexer of {self.contract_id} now")

    def release(self) -> None:
        if self.held:
            self.renewed_at = None
            leader_release(contract_id=self.contract_id, holder=self.holder)


class LeasedSession(ApiSession):
    """The API client's session while leading: every request keeps the lease first, so a long
    poll keeps it, and a leader that lost it sends nothing more (LeaseLost ends the poll)."""

    def __init__(self, lease: Lease) -> None:
        super().__init__()
        self.trust_env = False  # as the client's own session: no proxies or .netrc credentials
        self.lease = lease

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        self.lease.keep()
        return super().request(*args, **kwargs)


def _failure_record_quietly(contract_id: str, error: str) -> None:
    try:
        sync_failure_record(contract_id=contract_id, error=error)
    except Exception:  # the database itself may be what failed
        logger.exception("could not record the indexer's failure")


@dataclass
class Poller:
    """One replica's indexer loop, a turn at a time: lead and sync once, or follow.
    `client` sends through a LeasedSession of `lease`."""

    client: StacksApiClient
    lease: Lease
    poll_seconds: float
    report: Callable[[SyncResult], None] = lambda result: None
    failures: int = 0
    leader_seen: str = ""  # the leader last logged, so each change is logged once

    def turn(self) -> float:
        """Renew the lease and sync once, or, while another indexer leads, only look. Returns
        the seconds to wait before the next turn: the poll interval, or a backoff after an API
        error (during which the lease may lapse to a replica whose API calls work)."""
        if not self.lease.acquire():
            self._follow()
            return self.poll_seconds
        self._seen(self.lease.holder, "%s leads the indexer of %s", self.lease.contract_id)
        try:
            result = sync_once(client=self.client, contract_id=self.lease.contract_id)
        except LeaseLost as exc:
            logger.warning("lost the lease in the middle of a poll: %s", exc)
            return self.poll_seconds
        except StacksApiError as exc:
            self.failures += 1
            sync_failure_record(contract_id=self.lease.contract_id, error=str(exc))
            wait = min(MAX_BACKOFF, self.poll_seconds * 2**self.failures)
            logger.warning("Stacks API unavailable (%s); retrying in %.0f s", exc, wait)
            return wait
        except Exception as exc:  # a bug or the database: back off, never take the server down
            self.failures += 1
            logger.exception("indexer poll failed")
            _failure_record_quietly(self.lease.contract_id, f"{type(exc).__name__}: {exc}")
            return min(MAX_BACKOFF, self.poll_seconds * 2**self.failures)
        self.failures = 0
        self.report(result)
        return self.poll_seconds

    def _follow(self) -> None:
        leader, until = leader_get(contract_id=self.lease.contract_id)
        message = "waiting: %s leads the indexer of %s (lease until %s)"
        self._seen(leader, message, self.lease.contract_id, until)

    def _seen(self, leader: str, message: str, *args: object) -> None:
        if leader != self.leader_seen:
            self.leader_seen = leader
            logger.info(message, leader, *args)
