"""django-q2 entry points of the indexer, and their schedule. The poll loop itself is the
run_indexer command (django-q2 cannot schedule every few seconds)."""

from __future__ import annotations

import logging

from django_q.models import Schedule

from chainsync.client import StacksApiError, chainsync_settings, stacks_api_client
from chainsync.verify import projection_reconcile
from stxworx import schedules

logger = logging.getLogger("chainsync.indexer")
RECONCILE_TASK = "chainsync.tasks.chain_reconcile"
DEFAULT_VERIFY_MINUTES = 5


def chain_reconcile() -> str:
    """Scheduled: verify the live on-chain projects against the contract and repair the ones
    that differ (chainsync.verify.projection_reconcile). Returns a summary for the task record;
    an unreachable API is logged, not raised (the next run tries again)."""
    conf = chainsync_settings()
    if not conf.get("ENABLED", True):
        return "indexer disabled"
    try:
        with stacks_api_client() as client:
            report = projection_reconcile(client=client, contract_id=conf["ESCROW_CONTRACT_ID"])
    except StacksApiError as exc:
        logger.warning("reconciliation skipped: the Stacks API failed: %s", exc)
        return f"Stacks API unavailable: {exc}"
    if report.differences:
        logger.warning("reconciliation: %s", report.summary())
    return report.summary()


def schedule_ensure(*, using: str = "default") -> Schedule:
    """Create the reconciliation schedule, or bring it to the configured interval
    (`CHAINSYNC["VERIFY_MINUTES"]`, default 5). Idempotent: one schedule, however often run."""
    minutes = int(chainsync_settings().get("VERIFY_MINUTES", DEFAULT_VERIFY_MINUTES))
    name = "chainsync: verify and repair the projection"
    return schedules.schedule_ensure(func=RECONCILE_TASK, name=name, minutes=minutes, using=using)
