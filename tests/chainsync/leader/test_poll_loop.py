"""The poll loop under a lease: a follower sends nothing, a leader that lost its lease stops
(at the next phase of its poll), a long poll keeps it (renewed between phases), a failing API
is backed off."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from chainsync.client import StacksApiClient
from chainsync.indexer import Poller, sync_once
from chainsync.lease import Lease, LeaseLost, leader_acquire
from chainsync.models import ChainMilestone, SyncState
from projects.models import Project
from tests.chainsync.hiro_server import FREELANCER
from tests.chainsync.leader.helpers import (
    CONTRACT,
    Clock,
    api_client,
    lapse,
    lease_row,
    seconds_left,
)
from tests.chainsync.scenarios import fund, pending_project

# --- the poll loop --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_follower_sends_no_request_and_says_once_whom_it_waits_for(hiro, caplog):
    fund(hiro, pending_project())
    leader_acquire(contract_id=CONTRACT, holder="b", ttl=30)
    lease = Lease(contract_id=CONTRACT, holder="a", ttl=30)
    poller = Poller(client=api_client(hiro), lease=lease, poll_seconds=7)
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
    poller = Poller(client=api_client(hiro), lease=lease, poll_seconds=7)
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
    client = api_client(hiro)
    lease.acquire()
    lapse()
    leader_acquire(contract_id=CONTRACT, holder="b", ttl=30)
    clock.now += 31  # "a" was paused past the TTL in the middle of its poll
    with pytest.raises(LeaseLost):
        sync_once(client=client, contract_id=CONTRACT, between=lease.keep)
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
    sync_once(client=api_client(hiro), contract_id=CONTRACT, between=lease.keep)
    assert lease_row().leader == "a" and 25 < seconds_left() <= 30
    assert Project.objects.get().status == "active"


@pytest.mark.django_db
def test_a_leader_backs_off_while_the_api_fails():
    lease = Lease(contract_id=CONTRACT, holder="a", ttl=30)
    client = StacksApiClient("http://127.0.0.1:9", max_retries=0)
    poller = Poller(client=client, lease=lease, poll_seconds=10)
    assert [poller.turn(), poller.turn(), poller.turn()] == [20, 40, 80]
    assert lease_row().last_error and lease_row().leader == "a"


@pytest.mark.django_db
def test_polls_run_at_a_fixed_rate_the_wait_is_what_remains_of_the_interval(hiro, monkeypatch):
    from chainsync import indexer

    fund(hiro, pending_project())
    now = [100.0]
    took = iter([3.0, 0.5, 12.0])
    real = indexer.sync_once

    def timed(**kwargs):
        result = real(**kwargs)
        now[0] += next(took)  # the poll takes this long on the poller's clock
        return result

    monkeypatch.setattr(indexer, "sync_once", timed)
    lease = Lease(contract_id=CONTRACT, holder="a", ttl=30)
    poller = Poller(client=api_client(hiro), lease=lease, poll_seconds=10, clock=lambda: now[0])
    # a 3 s poll waits 7 s, a 0.5 s one 9.5 s: a turn starts every 10 s; one longer than the
    # interval is followed at once
    assert [poller.turn(), poller.turn(), poller.turn()] == [7.0, 9.5, 0.0]
    assert Project.objects.get().status == "active"
