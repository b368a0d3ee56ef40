"""Leadership of the indexer: of the replicas that run it, one polls the Stacks API at a time.

The lease lives in the contract's SyncState row (`leader`, `lease_expires_at`) and is timed by
the database's clock, so replicas whose clocks disagree still agree on when it lapses. It is
taken or renewed by one conditional UPDATE (free, lapsed, or already ours) that the database
serialises: of replicas racing for it, at most one leads.

What the lease has to guarantee, and what it need not: the sync is crash-safe on its own (every
stored page and every applied batch commits with its cursor, and `events_apply` locks the sync
state in each batch), so two pollers at once would corrupt nothing. The lease saves the duplicate
API work, which the API's rate limit makes dear. A leader keeps it renewed while it works (before
each poll, and between the poll's phases and the fetch's pages once a third of the TTL has
passed: chainsync.indexer calls `Lease.keep`), so a long backfill does not lose it; a leader
that lost it (paused past the TTL, say) notices at its next renewal, before its next phase, and
goes back to following. The HTTP session knows nothing of it.

A crashed leader (SIGKILL, OOM) leaves its lease behind. A replica on the same host takes it at
once when the holder's process is gone (`holder_gone`: the holder id names host and pid), instead
of waiting out the TTL; a holder on another host, or alive, is waited for as before."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.db.models.functions import Now

from chainsync.client import chainsync_settings
from chainsync.models import SyncState

DEFAULT_TTL_SECONDS = 60.0
logger = logging.getLogger("chainsync.lease")


class LeaseLost(Exception):
    """Another indexer holds the lease this one was working under."""


def leader_ttl() -> float:
    """Seconds a lease lasts unless renewed: `CHAINSYNC["LEADER_TTL_SECONDS"]`, 60 by default."""
    return float(chainsync_settings().get("LEADER_TTL_SECONDS", DEFAULT_TTL_SECONDS))


def _host() -> str:
    return socket.gethostname()[:80]


def leader_holder_new() -> str:
    """`hostname:pid:random`. The host and pid name the replica (in logs, and for `holder_gone`);
    the random part keeps a process that reuses a dead one's pid from inheriting its lease."""
    return f"{_host()}:{os.getpid()}:{secrets.token_hex(4)}"


def holder_gone(holder: str) -> bool:
    """True when `holder` (as `leader_holder_new` names it) was a process of this host that no
    longer runs, or only as a zombie. False for another host, a name of another form (`--holder`),
    this process itself, or a process that runs (also one this user may not signal)."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _host() or not pid_text.isdigit() or int(pid_text) in (0, os.getpid()):
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # killed but not yet reaped by its parent: a zombie holds nothing
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def leader_acquire(*, contract_id: str, holder: str, ttl: float | None = None) -> bool:
    """Take or renew the lease on `contract_id`'s indexer for `ttl` seconds (`leader_ttl()` by
    default). True when `holder` leads.

    The row is made first if missing; then one UPDATE takes the lease only if it is free, lapsed
    or `holder`'s already. Racing UPDATEs of a row run one after the other, and each re-checks
    the condition on the row as the previous one left it, so at most one holder gets the lease."""
    state, _ = SyncState.objects.get_or_create(contract_id=contract_id)
    seconds = leader_ttl() if ttl is None else ttl
    takeable = (
        Q(leader="")
        | Q(leader=holder)
        | Q(lease_expires_at__isnull=True)
        | Q(lease_expires_at__lt=Now())
    )
    dead = state.leader if state.leader not in ("", holder) and holder_gone(state.leader) else ""
    if dead:  # the UPDATE re-checks it: of replicas racing for a dead one's lease, one wins
        takeable |= Q(leader=dead)
    taken = SyncState.objects.filter(takeable, contract_id=contract_id).update(
        leader=holder, lease_expires_at=Now() + timedelta(seconds=seconds)
    )
    if taken and dead:
        logger.warning("%s takes the lease of %s, whose process is gone", holder, dead)
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
