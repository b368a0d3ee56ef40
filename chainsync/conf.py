"""The app's settings as the layers below the read side need them: the followed contract, how many
confirmations make a block final, how much lag is healthy."""

from __future__ import annotations

from django.conf import settings

from chainsync.client import chainsync_settings

DEFAULT_CONFIRMATIONS = 6
DEFAULT_MAX_LAG_BLOCKS = 30


def escrow_contract_id() -> str:
    return chainsync_settings()["ESCROW_CONTRACT_ID"]


def confirmations_required() -> int:
    return int(chainsync_settings().get("CONFIRMATIONS", DEFAULT_CONFIRMATIONS))


def max_lag_blocks() -> int:
    return int(chainsync_settings().get("MAX_LAG_BLOCKS", DEFAULT_MAX_LAG_BLOCKS))


def stacks_network() -> str:
    """ "mainnet" or "testnet" (STACKS_NETWORK)."""
    return settings.STACKS_NETWORK
