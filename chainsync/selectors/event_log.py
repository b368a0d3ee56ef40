"""The contract's event log as the API lists it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from chainsync.models import ChainEvent
from chainsync.selectors.common import _final

# --- events ---------------------------------------------------------------------------------


def chain_event_list(*, filters: dict[str, Any] | None = None) -> QuerySet[ChainEvent]:
    """The event log in chain order, with `final` (canonical and deep enough).

    Filters: `since` (block height, inclusive), `type` (event name), `project` (on-chain id),
    `tx_id`."""
    filters = filters or {}
    qs = ChainEvent.objects.annotate(final=_final("block_height", canonical=True))
    if filters.get("since") is not None:
        qs = qs.filter(block_height__gte=filters["since"])
    if filters.get("type"):
        qs = qs.filter(event_name=filters["type"])
    if filters.get("project") is not None:
        qs = qs.filter(project_id=filters["project"])
    if filters.get("tx_id"):
        qs = qs.filter(tx_id=filters["tx_id"])
    return qs.order_by("block_height", "tx_index", "event_index", "tx_id")
