"""What the Stacks API client tests share: the documented samples, a clock that moves only
when slept on, a client of the fake API, and chain stories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from chainsync.client import ContractLog, StacksApiClient
from stacks import uint
from tests.chainsync.hiro_server import (
    CLIENT,
    DEPLOYER,
    ESCROW_CONTRACT,
    FREELANCER,
    STX,
    HiroServer,
    Tx,
    events,
)

SAMPLES = Path(__file__).resolve().parent.parent.parent / "data" / "hiro_samples"
ESCROW = ESCROW_CONTRACT


def sample(name: str) -> Any:
    return json.loads((SAMPLES / f"{name}.json").read_text())


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(hiro: HiroServer, clock: FakeClock, **options: Any) -> StacksApiClient:
    defaults: dict[str, Any] = {
        "rate_limit": 0,
        "timeout": (1.0, 0.3),
        "max_retries": 3,
        "clock": clock,
        "sleep": clock.sleep,
        "jitter": lambda: 0.5,
    }
    return StacksApiClient(hiro.url, **(defaults | options))


def sample_story(hiro: HiroServer) -> dict[str, Tx]:
    """The story of /work/shared/chain/samples: create (4 x 10 STX), complete 2, release 2, and a
    second release that aborts with (err u106). Project 1 is created at burn height 152310."""
    hiro.chain.mine(burn_height=152309)
    return {
        "create": hiro.escrow.create_project_stx(
            client=CLIENT, freelancer=FREELANCER, milestones=[10 * STX] * 4
        ),
        "complete": hiro.escrow.complete_milestone(
            freelancer=FREELANCER, project_id=1, milestone=2
        ),
        "release": hiro.escrow.release_milestone_stx(client=CLIENT, project_id=1, milestone=2),
        "aborted": hiro.chain.call(
            "release-milestone-stx", sender=CLIENT, args=[uint(1), uint(2)], error=106
        ),
    }


def mine_prints(hiro: HiroServer, count: int, *, per_tx: int = 1) -> None:
    """`count` blocks, each with one tx printing `per_tx` events."""
    for n in range(count):
        prints = [events.milestone_reset(project_id=n, milestone=i) for i in range(per_tx)]
        hiro.chain.call("admin-reset-milestone", sender=DEPLOYER, prints=prints)


def canonical_keys(hiro: HiroServer) -> list[tuple[str, int]]:
    """(tx_id, event_index) of every canonical escrow print, oldest first."""
    return [(row.tx.tx_id, row.event_index) for row in reversed(hiro.chain.logs(ESCROW))]


def keys_of(logs: list[ContractLog]) -> list[tuple[str, int]]:
    return [log.key for log in logs]


def key_shape(value: Any) -> Any:
    """Object keys, recursively; lists item by item."""
    if isinstance(value, dict):
        return {key: key_shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [key_shape(item) for item in value]
    return None


def get(hiro: HiroServer, path: str, **params: Any) -> Any:
    return requests.get(hiro.url + path, params=params, timeout=5).json()
