"""What every read of the blockchain API shares: settings, the live client (short timeouts,
one retry: a web request never waits through the indexer's backoff), the API-down error,
finality as a database expression."""

from __future__ import annotations

from typing import Any

from django.db.models import BigIntegerField, BooleanField, ExpressionWrapper, Q, Subquery, Value
from django.db.models.functions import Coalesce

from chainsync.client import StacksApiClient, stacks_api_client
from chainsync.conf import (  # noqa: F401 (re-exported)
    DEFAULT_CONFIRMATIONS,
    DEFAULT_MAX_LAG_BLOCKS,
    confirmations_required,
    escrow_contract_id,
    max_lag_blocks,
)
from chainsync.models import SyncState
from stxworx.errors import ApplicationError

DEFAULT_ONCHAIN_CACHE_SECONDS = 60
ERROR_CACHE_SECONDS = 10  # an unreachable API is asked again after this, not at every request
HEALTHY_POLL_INTERVALS = 3
# A web request must not wait through the indexer's long backoff: one retry, short timeouts.
LIVE_TIMEOUT = (3.05, 10.0)
LIVE_RETRIES = 1
LIVE_MAX_WAIT = 2.0


class ChainApiUnavailable(ApplicationError):
    """The Stacks API could not be read (down, timing out, rate limiting, answering nonsense)."""

    code = "chain_api_unavailable"
    http_status = 503


def _live_client() -> StacksApiClient:
    return stacks_api_client(
        max_retries=LIVE_RETRIES, timeout=LIVE_TIMEOUT, max_wait=LIVE_MAX_WAIT, backoff_base=0.25
    )


# --- finality -------------------------------------------------------------------------------


def _final(height_field: str, **also: Any) -> ExpressionWrapper:
    """True when `height_field` is at least CONFIRMATIONS blocks below the chain tip the
    indexer last saw (no sync state yet: nothing is final)."""
    tips = SyncState.objects.filter(contract_id=escrow_contract_id()).values("chain_tip_height")
    tip = Coalesce(Subquery(tips[:1]), Value(0), output_field=BigIntegerField())
    final_at = tip - Value(confirmations_required())
    return ExpressionWrapper(
        Q(**{f"{height_field}__lte": final_at}, **also), output_field=BooleanField()
    )
