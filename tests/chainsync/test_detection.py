"""Detection time on the keyless budget: with blocks arriving every 3.7 s (most of them holding a
call to the contract), the indexer at its defaults (a 10 s poll, 50 requests a minute) shows every
event within 10 s of its block appearing on the API, and never sends more than 50 requests in
any 60 s.

Time is simulated, so the test is exact and quick: the client's rate limiter and the poll loop
sleep on one clock that only sleeping moves, and the loopback API shows each block from its
scheduled time on (it is mined, lazily, by the first request that sees that time). Requests take
no simulated time, so what is measured is the schedule: the fixed-rate loop and the limiter's
waits, which are what decided detection (a poll that waited on the limiter after its reads put
an event 11 s late)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from chainsync.client import StacksApiClient
from chainsync.indexer import Poller
from chainsync.lease import Lease
from chainsync.models import ChainEvent
from chainsync.verify import project_differences
from tests.chainsync.hiro_server import CLIENT, ESCROW_CONTRACT, FREELANCER, HiroServer, Tx
from tests.chainsync.scenarios import STX

pytestmark = pytest.mark.django_db

POLL_SECONDS = 10.0  # the defaults: INDEXER_POLL_SECONDS and STACKS_API_RATE_LIMIT
KEYLESS_LIMIT = 50
BLOCK_SECONDS = 3.7
MINUTES = 6


class SimClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


def activity(hiro: HiroServer) -> Iterator[Tx | None]:
    """What each block holds, forever: projects created, completed and paid one milestone at a
    time, with an empty block every third (None). Each call is built when its block is due, on
    the contract's state of then."""
    escrow, unmined = hiro.escrow, {"mine": False}
    for pid in itertools.count(1):
        yield escrow.create_project_stx(
            client=CLIENT, freelancer=FREELANCER, milestones=[STX, 2 * STX], **unmined
        )
        yield escrow.complete_milestone(
            freelancer=FREELANCER, project_id=pid, milestone=1, **unmined
        )
        yield None
        yield escrow.release_milestone_stx(client=CLIENT, project_id=pid, milestone=1, **unmined)
        yield escrow.complete_milestone(
            freelancer=FREELANCER, project_id=pid, milestone=2, **unmined
        )
        yield None


def test_every_event_shows_within_the_poll_interval_on_the_keyless_budget(hiro):
    clock = SimClock()
    start = clock.now
    appeared: dict[str, float] = {}  # tx id -> when its block appeared on the API
    sent: list[float] = []  # when each request reached the API
    blocks = activity(hiro)
    due = [start + BLOCK_SECONDS * (i + 1) for i in range(int(MINUTES * 60 / BLOCK_SECONDS))]

    def chain_moves(request) -> None:
        sent.append(clock.now)
        while due and due[0] <= clock.now:
            at = due.pop(0)
            tx = next(blocks)
            if tx is None:
                hiro.chain.advance(1)
            else:
                hiro.chain.mine(tx)
                appeared[tx.tx_id] = at

    hiro.before_request.append(chain_moves)
    client = StacksApiClient(
        hiro.url, rate_limit=KEYLESS_LIMIT, clock=clock, sleep=clock.sleep, backoff_base=0.01
    )
    lease = Lease(contract_id=ESCROW_CONTRACT, holder="sim", ttl=3600)
    poller = Poller(client=client, lease=lease, poll_seconds=POLL_SECONDS, clock=clock)
    shown: dict[str, float] = {}

    while clock.now < start + MINUTES * 60 + POLL_SECONDS:
        wait = poller.turn()
        applied = ChainEvent.objects.filter(tx_id__in=appeared.keys() - shown.keys())
        for tx_id in applied.exclude(state="pending").values_list("tx_id", flat=True):
            shown[tx_id] = clock.now  # the poll is over: what it applied is served
        clock.sleep(wait)

    # every call's events shown, each within one poll interval of its block
    assert len(appeared) > MINUTES * 60 / BLOCK_SECONDS * 0.6
    assert shown.keys() == appeared.keys()
    latency = {tx_id: shown[tx_id] - appeared[tx_id] for tx_id in appeared}
    assert max(latency.values()) <= POLL_SECONDS, sorted(latency.values())[-5:]
    assert not ChainEvent.objects.exclude(state="applied").exists()
    # never more than the keyless limit in any minute
    for i, first in enumerate(sent):
        assert len([t for t in sent[i:] if t < first + 60]) <= KEYLESS_LIMIT
    # and the record is the contract's state
    hiro.before_request.clear()
    _, differences = project_differences(client=client, contract_id=ESCROW_CONTRACT)
    assert differences == []
