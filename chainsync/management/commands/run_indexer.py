from __future__ import annotations

import logging
import signal
import time

from django.core.management.base import BaseCommand, CommandError

from chainsync.client import StacksApiError, chainsync_settings, stacks_api_client
from chainsync.services import sync_failure_record, sync_once

logger = logging.getLogger("chainsync.indexer")
MAX_BACKOFF = 300.0


class Command(BaseCommand):
    help = "Follow the escrow contract: poll the Stacks API and apply its events until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="catch up to the tip, then exit")

    def handle(self, *args, once: bool, **options):
        conf = chainsync_settings()
        contract_id = conf["ESCROW_CONTRACT_ID"]
        stopping: list[int] = []
        # Stop at once, even mid-poll: every batch commits with its cursor, so an interrupted
        # poll loses nothing and the next run resumes where the last commit left off.
        signal.signal(signal.SIGTERM, _stop)
        client = stacks_api_client()
        failures = 0
        while not stopping:
            try:
                result = sync_once(client=client, contract_id=contract_id)
            except StacksApiError as exc:
                failures += 1
                sync_failure_record(contract_id=contract_id, error=str(exc))
                if once:
                    raise CommandError(f"the Stacks API failed: {exc}") from exc
                wait = min(MAX_BACKOFF, float(conf["POLL_SECONDS"]) * 2**failures)
                logger.warning("Stacks API unavailable (%s); retrying in %.0f s", exc, wait)
            else:
                failures = 0
                self.stdout.write(
                    f"{contract_id}: {result.fetched.events} new events, "
                    f"{result.applied.applied} applied, {result.applied.failed} failed, "
                    f"tip {result.fetched.tip_height}"
                )
                if once:
                    return
                wait = float(conf["POLL_SECONDS"])
            _sleep(wait, stopping)


def _stop(*_: object) -> None:
    raise SystemExit(0)


def _sleep(seconds: float, stopping: list[int]) -> None:
    deadline = time.monotonic() + seconds
    while not stopping and time.monotonic() < deadline:
        time.sleep(min(0.5, deadline - time.monotonic()))
