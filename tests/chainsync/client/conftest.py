"""Fixtures of the client tests: a fake clock, and a client of the fake API driven by it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chainsync.client import StacksApiClient
from tests.chainsync.client.helpers import FakeClock, make_client
from tests.chainsync.hiro_server import HiroServer


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api(hiro: HiroServer, clock: FakeClock) -> Iterator[StacksApiClient]:
    with make_client(hiro, clock) as client:
        yield client
