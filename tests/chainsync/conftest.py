from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chainsync.hiro_server import HiroServer


@pytest.fixture
def hiro() -> Iterator[HiroServer]:
    """A fake Hiro API on 127.0.0.1 serving a fresh chain with the escrow contract deployed."""
    with HiroServer() as server:
        yield server
