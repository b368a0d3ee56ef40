"""What the leadership tests share: the lease row, a lapsed lease, a hand-moved clock, a client
of the loopback API (the lease is renewed by the indexer between phases, not by the client)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from chainsync.client import StacksApiClient
from chainsync.models import SyncState
from tests.chainsync.hiro_server import ESCROW_CONTRACT, HiroServer

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


def api_client(hiro: HiroServer) -> StacksApiClient:
    return StacksApiClient(hiro.url, rate_limit=0, max_retries=0, backoff_base=0.01)


def wait_for(condition: Callable[[], object], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
