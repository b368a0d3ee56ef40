"""The fake Hiro API for the tests that run the indexer (the same fixtures as
tests/chainsync/conftest.py; tests/browser/conftest.py uses these)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chainsync.client import StacksApiClient
from tests.chainsync.hiro_server import HiroServer
from tests.chainsync.scenarios import api_client


@pytest.fixture
def hiro() -> Iterator[HiroServer]:
    """A fake Hiro API on 127.0.0.1 serving a fresh chain with the escrow contract deployed."""
    with HiroServer() as server:
        yield server


@pytest.fixture
def api(hiro: HiroServer) -> StacksApiClient:
    """A client of the fake API: no rate limit, quick retries."""
    return api_client(hiro)
