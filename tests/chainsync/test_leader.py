"""Two indexers at once: one leads by a lease in the database, the other waits and takes over
when the leader dies; and two appliers at once apply no event twice."""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import override_settings
from django.utils import timezone

from chainsync import services
from chainsync.client import StacksApiClient
from chainsync.leader import (
    Lease,
    LeasedSession,
    LeaseLost,
    Poller,
    leader_acquire,
    leader_get,
    leader_holder_new,
    leader_release,
    leader_ttl,
)
from chainsync.management.commands import run_indexer as run_indexer_command
from chainsync.models import ChainEvent, ChainMilestone, SyncState
from notifications.models import Notification
from projects.models import Project
from tests.chainsync.hiro_server import ESCROW_CONTRACT, FREELANCER, HiroServer
from tests.chainsync.scenarios import fund, pending_project

CONTRACT = ESCROW_CONTRACT


def lease_row() -> SyncState:
    return SyncState.objects.get(contract_id=CONTRACT)


def lapse() -> None:
    """The holder stopped renewing a while ago: its lease ran out a second ago."""
    SyncState.objects.filter(contract_id=CONTRACT).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


def seconds_left() -> float:
    return (lease_row().lease_expires_at - timezone.now()).total_seconds()


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def leased_client(hiro: HiroServer, lease: Lease) -> StacksApiClient:
    return StacksApiClient(
        hiro.url, rate_limit=0, max_retries=0, backoff_base=0.01, session=LeasedSession(lease)
    )


# --- the lease ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_free_lease_is_taken_and_its_row_created():
    assert not SyncState.objects.exists()
    assert leader_acquire(contract_id=CONTRACT, holder="a", ttl=30)
    assert lease_row().leader == "a"
    assert 25 < seconds_left() <= 30


@pytest.mark.django_db
def test_the_holder_renews_its_lease():
    leader_acquire(contract_id=CONTRACT, holder="a", ttl=30)
    SyncState.objects.update(lease_expires_at=timezone.now() + timedelta(seconds=1))
    assert leader_acquire(contract_id=CONTRACT, holder="a", ttl=30)
    assert 25 < seconds_left() <= 30


@pytest.mark.django_db
def test_another_holder_is_refused_while_the_lease_runs():
    leader_acquire(contract_id=CONTRACT, holder="a", ttl=30)
    expires = lease_row().lease_expires_at
    assert not leader_acquire(contract_id=CONTRACT, holder="b", ttl=30)
    assert (lease_row().leader, lease_row().lease_expires_at) == ("a", expires)


@pytest.mark.django_db
def test_a_lapsed_lease_is_taken_over_and_its_old_holder_cannot_renew_it():
    leader_acquire(contract_id=CONTRACT, holder="a", ttl=30)
    lapse()
    assert leader_acquire(contract_id=CONTRACT, holder="b", ttl=30)
    assert not leader_acquire(contract_id=CONTRACT, holder="a", ttl=30)
    assert leader_get(contract_id=CONTRACT)[0] == "b"


@pytest.mark.django_db
def test_only_the_holder_releases_and_a_released_lease_is_free_at_once():
    leader_acquire(contract_id=CONTRACT, holder="a", ttl=30)
    assert not leader_release(contract_id=CONTRACT, holder="b")
    assert lease_row().leader == "a"
    assert leader_release(contract_id=CONTRACT, holder="a")
    assert leader_get(contract_id=CONTRACT) == ("", None)
    assert leader_acquire(contract_id=CONTRACT, holder="b", ttl=30)


def test_holder_names_name_the_host_and_process_and_differ(monkeypatch):
    first, second = leader_holder_new(), leader_holder_new()
    assert first.startswith(f"{socket.gethostname()[:80]}:{os.getpid()}:") and first != second
    monkeypatch.setattr(socket, "gethostname", lambda: "h" * 255)
    assert len(leader_holder_new()) <= SyncState._meta.get_field("leader").max_length


def test_the_ttl_comes_from_the_settings_with_a_default(settings):
    conf = {k: v for k, v in settings.CHAINSYNC.items() if k != "LEADER_TTL_SECONDS"}
    with override_settings(CHAINSYNC=conf):
        assert leader_ttl() == 60.0
    with override_settings(CHAINSYNC={**conf, "LEADER_TTL_SECONDS": 5}):
        assert leader_ttl() == 5.0


@pytest.mark.django_db
def test_a_held_lease_is_renewed_only_once_a_third_of_its_ttl_has_passed(
    django_assert_num_queries,
):
    clock = Clock()
    lease = Lease(contract_id=CONTRACT, holder="a", ttl=30, clock=clock)
    assert lease.acquire()
    SyncState.objects.update(lease_expires_at=timezone.now() + timedelta(seconds=1))
    clock.now += 9
    with django_assert_num_queries(0):
        lease.keep()
    clock.now += 1
    lease.keep()
    assert lease.renewed_at == clock.now and 25 < seconds_left() <= 30


@pytest.mark.django_db
def test_keeping_a_lease_another_holder_took_raises_lease_lost():
    clock = Clock()
    lease = Lease(contract_id=CONTRACT, holder="a", ttl=30, clock=clock)
    lease.acquire()
    lapse()
    leader_acquire(contract_id=CONTRACT, holder="b", ttl=30)
    clock.now += 31  # paused past the TTL
    with pytest.raises(LeaseLost, match="b leads"):
        lease.keep()
    assert not lease.held


# --- the poll loop --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_follower_sends_no_request_and_says_once_whom_it_waits_for(hiro, caplog):
    fund(hiro, pending_project())
    leader_acquire(contract_id=CONTRACT, holder="b", ttl=30)
    lease = Lease(contract_id=CONTRACT, holder="a", ttl=30)
    poller = Poller(client=leased_client(hiro, lease), lease=lease, poll_seconds=7)
    with caplog.at_level(logging.INFO, logger="chainsync.indexer"):
        waits = [poller.turn() for _ in range(3)]
    assert waits == [7, 7, 7]
    assert hiro.requests == [] and Project.objects.get().status == "pending"
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        f"waiting: b leads the indexer of {CONTRACT}"
    ]


@pytest.mark.django_db
def test_a_leader_that_lost_its_lease_stops_before_its_next_sync(hiro):
    project = pending_project()
    fund(hiro, project)
    lease = Lease(contract_id=CONTRACT, holder="a", ttl=30)
    poller = Poller(client=leased_client(hiro, lease), lease=lease, poll_seconds=7)
    poller.turn()
    assert Project.objects.get().status == "active" and lease_row().leader == "a"
    sent = len(hiro.requests)
    # when: "a" is paused past the TTL and "b" takes over
    lapse()
    assert leader_acquire(contract_id=CONTRACT, holder="b", ttl=30)
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    poller.turn()
    # then: "a" follows and sends nothing
    assert len(hiro.requests) == sent and not lease.held
    assert not ChainMilestone.objects.get(slot=1).complete


@pytest.mark.django_db
def test_a_leader_that_lost_its_lease_mid_poll_sends_no_further_request(hiro):
    fund(hiro, pending_project())
    clock = Clock()
    lease = Lease(contract_id=CONTRACT, holder="a", ttl=30, clock=clock)
    client = leased_client(hiro, lease)
    lease.acquire()
    lapse()
    leader_acquire(contract_id=CONTRACT, holder="b", ttl=30)
    clock.now += 31  # "a" was paused past the TTL in the middle of its poll
    with pytest.raises(LeaseLost):
        services.sync_once(client=client, contract_id=CONTRACT)
    assert hiro.requests == [] and lease_row().leader == "b"


@pytest.mark.django_db
def test_a_long_poll_keeps_its_lease(hiro):
    fund(hiro, pending_project())
    clock = Clock()
    lease = Lease(contract_id=CONTRACT, holder="a", ttl=30, clock=clock)
    lease.acquire()
    SyncState.objects.update(lease_expires_at=timezone.now() + timedelta(seconds=1))

    def slow_request(_request) -> None:
        clock.now += 11  # each request takes over a third of the TTL

    hiro.before_request.append(slow_request)
    services.sync_once(client=leased_client(hiro, lease), contract_id=CONTRACT)
    assert lease_row().leader == "a" and 25 < seconds_left() <= 30
    assert Project.objects.get().status == "active"


@pytest.mark.django_db
def test_a_leader_backs_off_while_the_api_fails():
    lease = Lease(contract_id=CONTRACT, holder="a", ttl=30)
    client = StacksApiClient("http://127.0.0.1:9", max_retries=0, session=LeasedSession(lease))
    poller = Poller(client=client, lease=lease, poll_seconds=10)
    assert [poller.turn(), poller.turn(), poller.turn()] == [20, 40, 80]
    assert lease_row().last_error and lease_row().leader == "a"


# --- the command ----------------------------------------------------------------------------


@pytest.fixture
def indexer_settings(hiro, settings) -> None:
    settings.CHAINSYNC = {
        **settings.CHAINSYNC,
        "STACKS_API_URL": hiro.url,
        "STACKS_API_RATE_LIMIT": 0,
        "ESCROW_CONTRACT_ID": CONTRACT,
    }


def run_indexer(*args: str) -> str:
    out = io.StringIO()
    call_command("run_indexer", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_run_indexer_once_takes_the_lease_syncs_and_releases_it(
    hiro, indexer_settings, monkeypatch
):
    fund(hiro, pending_project())
    leaders: list[str] = []

    def sync_once(**kwargs):
        leaders.append(leader_get(contract_id=CONTRACT)[0])
        return services.sync_once(**kwargs)

    monkeypatch.setattr(run_indexer_command, "sync_once", sync_once)
    run_indexer("--once", "--holder", "me")
    assert Project.objects.get().status == "active"
    assert leaders == ["me"] and leader_get(contract_id=CONTRACT) == ("", None)


@pytest.mark.django_db
def test_run_indexer_once_under_another_leader_says_so_and_does_not_sync(hiro, indexer_settings):
    fund(hiro, pending_project())
    leader_acquire(contract_id=CONTRACT, holder="other:1:ab", ttl=30)
    out = run_indexer("--once")
    assert "other:1:ab leads" in out and "not syncing" in out
    assert hiro.requests == [] and Project.objects.get().status == "pending"
    assert lease_row().leader == "other:1:ab"


@pytest.mark.django_db
def test_run_indexer_once_forced_syncs_and_leaves_the_other_lease_alone(hiro, indexer_settings):
    fund(hiro, pending_project())
    leader_acquire(contract_id=CONTRACT, holder="other:1:ab", ttl=30)
    out = run_indexer("--once", "--force")
    assert "syncing anyway" in out and Project.objects.get().status == "active"
    assert lease_row().leader == "other:1:ab"


def _database_env() -> dict[str, str]:
    """The environment that points a child process at this test's database."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return {"SQLITE_PATH": db["NAME"]}
    auth = f"{db['USER']}:{db['PASSWORD']}@" if db["PASSWORD"] else f"{db['USER']}@"
    return {"DATABASE_URL": f"postgres://{auth}{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"}


def wait_for(condition: Callable[[], object], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_the_indexer_at_once_and_releases_its_lease(hiro):
    # given: the indexer running in its own process, leading
    env = {
        **os.environ,
        **_database_env(),
        "STACKS_API_URL": hiro.url,
        "STACKS_API_RATE_LIMIT": "0",
        "ESCROW_CONTRACT_ID": CONTRACT,
        "INDEXER_POLL_SECONDS": "30",
    }
    manage = Path(django_settings.BASE_DIR) / "manage.py"
    indexer = subprocess.Popen(
        [sys.executable, str(manage), "run_indexer", "--holder", "child"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: leader_get(contract_id=CONTRACT)[0] == "child" or indexer.poll())
        assert indexer.poll() is None, indexer.stderr.read().decode()
        # when
        indexer.send_signal(signal.SIGTERM)
        # then: it stops during its 30 s sleep, not after it
        assert indexer.wait(timeout=10) == 0
    finally:
        indexer.kill()
        indexer.wait()
    assert leader_get(contract_id=CONTRACT) == ("", None)


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
            client = leased_client(hiro, lease)
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
def test_a_second_applier_waits_for_the_first_and_applies_nothing_twice(hiro):
    # given: two pending events
    fund(hiro, pending_project())
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    api = StacksApiClient(hiro.url, rate_limit=0)
    services.chain_fetch(client=api, contract_id=CONTRACT)
    services.creation_args_fetch(client=api, contract_id=CONTRACT)
    assert ChainEvent.objects.filter(state="pending").count() == 2
    first_applied, first_may_commit = threading.Event(), threading.Event()
    results: dict[str, services.ApplyResult] = {}
    errors: list[BaseException] = []

    def first() -> None:
        # an applier whose batch has not committed yet
        with transaction.atomic():
            results["first"] = services.events_apply(contract_id=CONTRACT)
            first_applied.set()
            first_may_commit.wait(20)

    def second() -> None:
        results["second"] = services.events_apply(contract_id=CONTRACT)

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
    from chainsync import leader as leader_module

    lease = leader_module.Lease(contract_id=CONTRACT, holder="h:1:a", ttl=60)
    poller = leader_module.Poller(
        client=StacksApiClient(hiro.url, rate_limit=0), lease=lease, poll_seconds=1
    )

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(leader_module, "sync_once", broken)
    assert poller.turn() == 2  # backed off
    assert poller.turn() == 4
    assert SyncState.objects.get(contract_id=CONTRACT).last_error == "RuntimeError: a bug"
