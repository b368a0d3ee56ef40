"""The one client for the Stacks (Hiro) API.

Only the routes in `ROUTES` are used, all under the configured base URL (no redirects are followed,
no proxy or .netrc settings from the environment are read). Every HTTP attempt passes the
client-side rate limiter and is counted in `request_counts`. Connection errors, timeouts, 429 and
5xx are retried with exponential backoff and jitter (or the server's Retry-After); other failures
raise a `StacksApiError` at once. Newer routes fall back to their deprecated twins when they answer
404/410 as if the route were missing; the switch is remembered for the life of the client.

Results are small frozen dataclasses; each keeps only what the indexer reads, amounts as ints and
Clarity values as their hex (decode with `.value()` / `.result()`). Pages name their links by
direction (`older_cursor`, `newer_cursor`) because the API's `next`/`prev` mean opposite things on
different routes.

A client is not thread-safe (it owns one requests.Session); use one per thread.

The package, by concern: `routes` (the allowed routes and page limits), `errors`, `results` (the
dataclasses), `parsing` (JSON to results), `checks` (argument checks and the plain
requests.Session), `transport` (rate limit, retries, HTTP), `batch` (many transactions a request:
`transactions_get`), `api` (the client's methods). Import from `chainsync.client`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from chainsync.client.api import StacksApiClient
from chainsync.client.errors import (
    CallReadFailed,
    StacksApiBadResponse,
    StacksApiError,
    StacksApiGone,
    StacksApiNotFound,
    StacksApiRejected,
    StacksApiUnavailable,
)
from chainsync.client.results import (
    ApiStatus,
    AssetEvent,
    Block,
    ChainTip,
    ContractCall,
    ContractLog,
    LogPage,
    NodeInfo,
    PrincipalTxPage,
    Transaction,
    TxEvent,
    TxSummary,
)
from chainsync.client.routes import (
    BLOCK,
    CALL_READ,
    CONTRACT_EVENTS,
    CONTRACT_LOGS,
    DEFAULT_RATE_LIMIT,
    EVENTS_MAX_LIMIT,
    INFO,
    LOGS_MAX_LIMIT,
    PRINCIPAL_TXS,
    PRINCIPAL_TXS_MAX_LIMIT,
    ROUTES,
    STATUS,
    TX_EVENTS_MAX_LIMIT,
    TX_MULTIPLE,
    TX_MULTIPLE_MAX_IDS,
    TX_V1,
    TX_V3,
    Route,
)
from chainsync.client.transport import RateLimiter

__all__ = [
    "BLOCK",
    "CALL_READ",
    "CONTRACT_EVENTS",
    "CONTRACT_LOGS",
    "DEFAULT_RATE_LIMIT",
    "EVENTS_MAX_LIMIT",
    "INFO",
    "LOGS_MAX_LIMIT",
    "PRINCIPAL_TXS",
    "PRINCIPAL_TXS_MAX_LIMIT",
    "ROUTES",
    "STATUS",
    "TX_EVENTS_MAX_LIMIT",
    "TX_MULTIPLE",
    "TX_MULTIPLE_MAX_IDS",
    "TX_V1",
    "TX_V3",
    "ApiStatus",
    "AssetEvent",
    "Block",
    "CallReadFailed",
    "ChainTip",
    "ContractCall",
    "ContractLog",
    "LogPage",
    "NodeInfo",
    "PrincipalTxPage",
    "RateLimiter",
    "Route",
    "StacksApiBadResponse",
    "StacksApiClient",
    "StacksApiError",
    "StacksApiGone",
    "StacksApiNotFound",
    "StacksApiRejected",
    "StacksApiUnavailable",
    "Transaction",
    "TxEvent",
    "TxSummary",
    "chainsync_settings",
    "stacks_api_client",
]


# --- settings -------------------------------------------------------------------------------


def chainsync_settings() -> Mapping[str, Any]:
    """`settings.CHAINSYNC`, the only settings this module reads."""
    return settings.CHAINSYNC


def stacks_api_client(**overrides: Any) -> StacksApiClient:
    """A client configured from CHAINSYNC; keyword arguments override the settings."""
    conf = chainsync_settings()
    options: dict[str, Any] = {
        "base_url": conf["STACKS_API_URL"],
        "api_key": conf.get("HIRO_API_KEY") or None,
        "rate_limit": conf.get("STACKS_API_RATE_LIMIT", DEFAULT_RATE_LIMIT),
        "max_retries": conf.get("STACKS_API_MAX_RETRIES", 5),
    }
    return StacksApiClient(**(options | overrides))
