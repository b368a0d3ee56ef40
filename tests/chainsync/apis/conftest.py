"""The loopback Hiro API as the configured Stacks API."""

from __future__ import annotations

import pytest

from tests.chainsync.apis.helpers import CONFIRMATIONS
from tests.chainsync.hiro_server import ESCROW_CONTRACT, HiroServer


@pytest.fixture
def chain(hiro: HiroServer, settings) -> HiroServer:
    """The loopback API as the configured Stacks API."""
    settings.CHAINSYNC = {
        **settings.CHAINSYNC,
        "STACKS_API_URL": hiro.url,
        "STACKS_API_RATE_LIMIT": 0,
        "ESCROW_CONTRACT_ID": ESCROW_CONTRACT,
        "CONFIRMATIONS": CONFIRMATIONS,
        "POLL_SECONDS": 10,
    }
    return hiro
