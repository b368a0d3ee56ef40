"""What a poll with nothing new costs in requests against the loopback Hiro API (the fake counts
every request per route), and that the cheaper re-check of the provisional tail still catches
every fork, including one that lands between a tail check and the fetch after it."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from chainsync.log.fetch import LOGS_RECHECK_SECONDS
from chainsync.models import ChainEvent, ChainProject, ChainTransaction, SyncState
from chainsync.verify import project_differences
from stacks import uint
from tests.chainsync.hiro_server import CLIENT, ESCROW_CONTRACT, FREELANCER, HiroServer
from tests.chainsync.scenarios import STX, sync

pytestmark = pytest.mark.django_db

CONFIRMATIONS = 6  # the default: the provisional window is the 6 newest blocks
KEYLESS_LIMIT = 50  # requests a minute without an API key
POLL_SECONDS = 10


def busy_contract(hiro: HiroServer) -> None:
    """A contract with a call in each of its 6 newest blocks, so each is provisional."""
    for _ in range(CONFIRMATIONS):
        hiro.escrow.create_project_stx(client=CLIENT, freelancer=FREELANCER, milestones=[STX])


def requests_of(hiro: HiroServer, poll) -> Counter[str]:
    before = hiro.route_counts()
    poll()
    return hiro.route_counts() - before


def test_an_idle_poll_of_a_busy_contract_stays_under_the_keyless_rate_limit(hiro, api):
    # given: a busy contract, indexed
    busy_contract(hiro)
    sync(api)
    # when: a poll finds nothing new
    result = None

    def poll() -> None:
        nonlocal result
        result = sync(api)

    counts = requests_of(hiro, poll)
    # then: the tip has not moved since a poll that left nothing waiting: the tip alone
    assert counts == Counter({"status": 1})
    assert result.tail is None and result.fetched.events == 0
    assert counts.total() * 60 // POLL_SECONDS == 6 < KEYLESS_LIMIT  # was 9 a poll: 54/min
    # and: once a block without our calls arrives, the tip and the transactions head page once
    # (the tail check reads it, the fetch walks from it); no block request: the listing vouches
    # for every provisional height; no logs: no call is new, so no print is
    hiro.chain.advance(1)
    counts = requests_of(hiro, poll)
    assert counts == Counter({"status": 1, "principal_transactions": 1})
    assert (result.tail.heights, result.tail.probed, result.tail.orphaned) == (6, 0, ())
    assert counts.total() * 60 // POLL_SECONDS == 12 < KEYLESS_LIMIT  # was 24, then 18


def test_an_idle_poll_of_a_quiet_contract_checks_no_tail(hiro, api):
    busy_contract(hiro)
    sync(api)
    hiro.chain.advance(CONFIRMATIONS)  # every call final
    sync(api)
    counts = requests_of(hiro, lambda: sync(api))
    assert counts == Counter({"status": 1})  # the tip did not move
    hiro.chain.advance(1)
    counts = requests_of(hiro, lambda: sync(api))
    assert counts == Counter({"status": 1, "principal_transactions": 1})
    # a pending event (a rebuild queued it) is not "nothing changed": the poll runs in full
    hiro_idle = requests_of(hiro, lambda: sync(api))
    assert hiro_idle == Counter({"status": 1})
    queued = ChainEvent.objects.first().pk
    ChainEvent.objects.filter(pk=queued).update(state="pending")
    counts = requests_of(hiro, lambda: sync(api))
    assert counts == Counter({"status": 1, "principal_transactions": 1})  # no call, no print new
    assert ChainEvent.objects.get(pk=queued).state != "pending"  # processed (again)


def test_heights_the_listing_does_not_vouch_for_get_a_block_request(hiro, api):
    # given: a call indexed, then 50 newer calls (aborted ones, no prints) filling the head page
    hiro.escrow.create_project_stx(client=CLIENT, freelancer=FREELANCER, milestones=[STX])
    sync(api)
    args = [uint(1), uint(1)]
    aborted = [
        hiro.chain.tx("release-milestone-stx", sender=CLIENT, args=args, error=105)
        for _ in range(50)
    ]
    hiro.chain.mine(*aborted)
    # when
    result = sync(api)
    # then: the deploy's and the create's heights are older than the page: probed, and fine
    assert (result.tail.heights, result.tail.probed, result.tail.orphaned) == (2, 2, ())
    assert len(hiro.requests_to("block")) == 2
    assert ChainTransaction.objects.filter(canonical=True).count() == 52


def test_a_fork_between_the_tail_check_and_the_fetch_is_caught_by_the_next_poll(hiro, api):
    # given: milestone 1 completed in the newest block, indexed
    hiro.escrow.create_project_stx(
        client=CLIENT, freelancer=FREELANCER, milestones=[10 * STX, 20 * STX]
    )
    complete_1 = hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    sync(api)
    # and: the next poll's tail check finds nothing, then a fork lands before its fetch reads the
    # logs (the fetch walks the transactions from the tail check's page, so the fork can only
    # fall there): the block of the completion is replaced by an empty one and a block
    # completing milestone 2
    complete_2 = hiro.escrow.complete_milestone(
        freelancer=FREELANCER, project_id=1, milestone=2, mine=False
    )
    forked = []

    def fork_at_the_fetch(request) -> None:
        if request.route == "contract_logs" and not forked:
            forked.append(hiro.chain.fork(2, [], [complete_2]))

    # a new call (aborted: it prints nothing) makes the poll walk the logs too
    args = [uint(1), uint(1)]
    aborted = hiro.chain.tx("release-milestone-stx", sender=CLIENT, args=args, error=105)
    hiro.chain.mine(aborted)
    hiro.before_request.append(fork_at_the_fetch)
    racing = sync(api)
    assert forked and racing.tail.orphaned == ()
    # the record now holds the old branch's completion below the new branch's one (its print's
    # call, newer than the page the walk read, was looked up)
    stale = ChainTransaction.objects.get(tx_id=complete_1.tx_id)
    fresh = ChainTransaction.objects.get(tx_id=complete_2.tx_id)
    assert stale.canonical and stale.block_height < fresh.block_height
    assert fresh.index_block_hash == hiro.chain.tip.index_hash
    # when: the next poll (the newest stored block matches the chain; the one below does not)
    result = sync(api)
    # then: the completion the fork took out is orphaned and undone
    assert set(result.tail.orphaned) == {complete_1.tx_id, aborted.tx_id}
    assert not ChainEvent.objects.get(tx_id=complete_1.tx_id).canonical
    milestones = ChainProject.objects.get(on_chain_id=1).milestones.order_by("slot")
    assert [m.complete for m in milestones] == [False, True]
    _, differences = project_differences(client=api, contract_id=ESCROW_CONTRACT)
    assert differences == []


def test_a_new_call_without_prints_has_the_logs_walked(hiro, api):
    # given: a project, indexed, then an aborted release (a call that prints nothing)
    hiro.escrow.create_project_stx(client=CLIENT, freelancer=FREELANCER, milestones=[STX])
    sync(api)
    args = [uint(1), uint(1)]
    aborted = hiro.chain.tx("release-milestone-stx", sender=CLIENT, args=args, error=105)
    hiro.chain.mine(aborted)
    # when
    counts = requests_of(hiro, lambda: sync(api))
    # then: a call is new, so its prints (none) are looked for; the call is stored as aborted
    assert counts == Counter({"status": 1, "principal_transactions": 1, "contract_logs": 1})
    assert ChainTransaction.objects.get(tx_id=aborted.tx_id).status == "abort_by_response"
    # and: the next block without calls is back to two requests
    hiro.chain.advance(1)
    assert requests_of(hiro, lambda: sync(api)) == Counter(
        {"status": 1, "principal_transactions": 1}
    )


def test_the_logs_are_walked_again_once_a_minute_whatever_the_calls_show(hiro, api):
    hiro.escrow.create_project_stx(client=CLIENT, freelancer=FREELANCER, milestones=[STX])
    sync(api)
    hiro.chain.advance(1)
    assert requests_of(hiro, lambda: sync(api))["contract_logs"] == 0
    # a minute after the last walk of the prints
    SyncState.objects.update(
        logs_walked_at=timezone.now() - timedelta(seconds=LOGS_RECHECK_SECONDS)
    )
    hiro.chain.advance(1)
    assert requests_of(hiro, lambda: sync(api))["contract_logs"] == 1
    hiro.chain.advance(1)
    assert requests_of(hiro, lambda: sync(api))["contract_logs"] == 0


def test_a_print_of_a_call_the_listing_missed_is_stored_by_the_minutes_walk(hiro, api):
    # given: a project, indexed; then a completion the transactions listing does not show
    hiro.escrow.create_project_stx(client=CLIENT, freelancer=FREELANCER, milestones=[STX])
    sync(api)
    hidden = hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    hiro.hide_from_listing(hidden.tx_id)
    # when: polls within the minute see no new call
    sync(api)
    assert not ChainEvent.objects.filter(tx_id=hidden.tx_id).exists()
    # then: the minute's walk of the prints stores it, its call looked up
    SyncState.objects.update(
        logs_walked_at=timezone.now() - timedelta(seconds=LOGS_RECHECK_SECONDS)
    )
    hiro.chain.advance(1)
    sync(api)
    assert ChainEvent.objects.get(tx_id=hidden.tx_id).state == "applied"
    assert ChainProject.objects.get(on_chain_id=1).milestones.get(slot=1).complete
