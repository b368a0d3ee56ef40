"""Races with real threads (run on PostgreSQL as well as SQLite): indexers racing for the lease,
the other taking over when the leader dies, two appliers at once applying no event twice; and an
unexpected failure that backs off without stopping the loop."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection, connections

from chainsync.client import StacksApiClient
from chainsync.handlers import apply as apply_module
from chainsync.handlers.apply import ApplyResult, events_apply
from chainsync.indexer import Poller
from chainsync.lease import Lease, leader_acquire
from chainsync.log.amounts import creation_args_fetch
from chainsync.log.fetch import chain_fetch
from chainsync.models import ChainEvent, ChainMilestone, SyncState
from notifications.models import Notification
from tests.chainsync.hiro_server import FREELANCER
from tests.chainsync.leader.helpers import CONTRACT, api_client, lease_row, wait_for
from tests.chainsync.scenarios import fund, pending_project

# --- races, with real threads (run on PostgreSQL as well as SQLite) ------------------------


def in_thread(work: Callable[[], object], errors: list[BaseException]) -> threading.Thread:
    """Run `work` on its own thread, with its own database connection, closed at the end."""

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # a crash must fail the test, not vanish with the thread
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_of_indexers_racing_for_a_lease_exactly_one_leads():
    # given: no sync state yet, so the row is raced for too
    holders = [f"h{i}" for i in range(8)]
    barrier = threading.Barrier(len(holders))
    won: list[str] = []
    errors: list[BaseException] = []

    def race(holder: str) -> Callable[[], None]:
        def work() -> None:
            barrier.wait()
            if leader_acquire(contract_id=CONTRACT, holder=holder, ttl=30):
                won.append(holder)

        return work

    # when
    for thread in [in_thread(race(h), errors) for h in holders]:
        thread.join()
    # then
    assert errors == [] and len(won) == 1, (won, errors)
    assert lease_row().leader == won[0]
    print(f"race ran on {connection.vendor}")


@dataclass
class Turn:
    holder: str
    started: float
    leading: bool
    requests: int


@pytest.mark.django_db(transaction=True)
def test_when_the_leader_dies_the_other_takes_over_after_the_ttl(hiro, caplog):
    fund(hiro, pending_project())
    ttl, poll = 1.0, 0.05
    barrier = threading.Barrier(2)
    stopped = {name: threading.Event() for name in ("a", "b")}
    turns: list[Turn] = []
    errors: list[BaseException] = []

    def indexer(name: str) -> Callable[[], None]:
        def work() -> None:
            lease = Lease(contract_id=CONTRACT, holder=name, ttl=ttl)
            client = api_client(hiro)
            poller = Poller(client=client, lease=lease, poll_seconds=poll)
            barrier.wait()
            while not stopped[name].is_set():
                started = time.monotonic()
                wait = poller.turn()
                turns.append(Turn(name, started, lease.held, client.requests_made))
                stopped[name].wait(wait)

        return work

    def leading(name: str | None = None) -> list[Turn]:
        return [t for t in list(turns) if t.leading and name in (None, t.holder)]

    # given: two indexers racing from the same instant; one leads and syncs
    with caplog.at_level(logging.INFO, logger="chainsync.indexer"):
        threads = {name: in_thread(indexer(name), errors) for name in stopped}
        wait_for(lambda: len(leading()) >= 3 or errors)
        leader = leading()[0].holder
        follower = "b" if leader == "a" else "a"
        # when: the leader dies (stops renewing, releases nothing)
        stopped[leader].set()
        threads[leader].join()
        hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
        wait_for(lambda: leading(follower) or errors)
        stopped[follower].set()
        threads[follower].join()

    # then: one led at a time, and the follower sent nothing until it took over
    assert errors == [], errors
    last_renewal = leading(leader)[-1].started
    takeover = leading(follower)[0]
    assert [t for t in turns if t.holder == follower and t.started < takeover.started] != []
    assert all(t.requests == 0 for t in turns if t.holder == follower and not t.leading)
    assert not [t for t in leading(leader) if t.started >= takeover.started]
    # after the TTL (less the database clock's rounding), not much later
    assert ttl - 0.05 <= takeover.started - last_renewal <= ttl + 1.0
    waits = [r.getMessage() for r in caplog.records if r.getMessage().startswith("waiting")]
    assert [w.split(" (")[0] for w in waits] == [
        f"waiting: {leader} leads the indexer of {CONTRACT}"
    ]
    # the new leader carried on where the dead one stopped, and nothing was applied twice
    assert ChainMilestone.objects.get(slot=1).complete
    assert SyncState.objects.get(contract_id=CONTRACT).events_applied == 2
    assert Notification.objects.filter(type="project_funded").count() == 2
    print(f"takeover after {takeover.started - last_renewal:.2f} s on {connection.vendor}")


@pytest.mark.django_db(transaction=True)
def test_a_second_applier_waits_for_the_first_and_applies_nothing_twice(hiro, monkeypatch):
    # given: two pending events
    fund(hiro, pending_project())
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    api = StacksApiClient(hiro.url, rate_limit=0)
    chain_fetch(client=api, contract_id=CONTRACT)
    creation_args_fetch(client=api, contract_id=CONTRACT)
    assert ChainEvent.objects.filter(state="pending").count() == 2
    first_applied, first_may_commit = threading.Event(), threading.Event()
    results: dict[str, ApplyResult] = {}
    errors: list[BaseException] = []

    holder = threading.local()
    advance = apply_module.state_advance

    def held_advance(*args, **kwargs) -> None:
        advance(*args, **kwargs)
        if getattr(holder, "first", False):  # the first applier's batch, not committed yet
            first_applied.set()
            first_may_commit.wait(20)

    monkeypatch.setattr(apply_module, "state_advance", held_advance)

    def first() -> None:
        holder.first = True
        results["first"] = events_apply(contract_id=CONTRACT)

    def second() -> None:
        results["second"] = events_apply(contract_id=CONTRACT)

    # when: a second applier starts while the first holds its batch
    one = in_thread(first, errors)
    assert first_applied.wait(20), errors
    two = in_thread(second, errors)
    two.join(0.5)
    second_waited = two.is_alive()
    first_may_commit.set()
    one.join()
    two.join()

    # then: it waited for the commit, then found nothing left to apply
    assert errors == [], errors
    assert second_waited
    assert (results["first"].applied, results["second"].applied) == (2, 0)
    assert SyncState.objects.get(contract_id=CONTRACT).events_applied == 2
    assert Notification.objects.filter(type="project_funded").count() == 2
    assert Notification.objects.filter(type="milestone_submitted").count() == 1
    print(f"appliers ran on {connection.vendor}")


@pytest.mark.django_db
def test_an_unexpected_failure_backs_off_and_does_not_stop_the_loop(hiro, monkeypatch):
    """The indexer runs beside the server under one supervisor: a bug in a poll must not end
    the process (it would stop the web server with it)."""
    from chainsync import indexer as leader_module

    lease = Lease(contract_id=CONTRACT, holder="h:1:a", ttl=60)
    poller = leader_module.Poller(
        client=StacksApiClient(hiro.url, rate_limit=0), lease=lease, poll_seconds=1
    )

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(leader_module, "sync_once", broken)
    assert poller.turn() == 2  # backed off
    assert poller.turn() == 4
    assert SyncState.objects.get(contract_id=CONTRACT).last_error == "RuntimeError: a bug"
