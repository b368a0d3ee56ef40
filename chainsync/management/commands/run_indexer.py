from __future__ import annotations

import logging
import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, InterfaceError

from chainsync.client import StacksApiError, chainsync_settings, stacks_api_client
from chainsync.indexer import Poller, SyncResult, sync_once
from chainsync.lease import Lease, LeaseLost, leader_get, leader_holder_new, leader_ttl
from chainsync.log.state import ContractMismatch, contract_followed_check, sync_failure_record

logger = logging.getLogger("chainsync.indexer")


class Command(BaseCommand):
    help = (
        "Follow the escrow contract: poll the Stacks API and apply its events until stopped. "
        "Of several replicas, the one holding the lease polls; the others wait to take over."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="catch up to the tip, then exit")
        parser.add_argument(
            "--force",
            action="store_true",
            help="with --once: sync even while another indexer holds the lease",
        )
        parser.add_argument("--holder", help="name to hold the lease as (default host:pid:random)")

    def handle(self, *args, once: bool, force: bool, holder: str | None, **options):
        conf = chainsync_settings()
        self.contract_id = conf["ESCROW_CONTRACT_ID"]
        lease = Lease(
            contract_id=self.contract_id,
            holder=holder or leader_holder_new(),
            ttl=leader_ttl(),
        )
        # Stop at once, even mid-poll: every batch commits with its cursor, so an interrupted
        # poll loses nothing and the next run resumes where the last commit left off.
        signal.signal(signal.SIGTERM, _stop)
        try:
            contract_followed_check(contract_id=self.contract_id)
        except ContractMismatch as exc:
            raise CommandError(exc.message) from exc
        try:
            if once:
                self._once(lease, force=force)
            else:
                self._follow(lease, poll_seconds=float(conf["POLL_SECONDS"]))
        finally:
            _release(lease)

    def _follow(self, lease: Lease, *, poll_seconds: float) -> None:
        client = stacks_api_client()
        poller = Poller(client=client, lease=lease, poll_seconds=poll_seconds, report=self._report)
        while True:
            time.sleep(poller.turn())

    def _once(self, lease: Lease, *, force: bool) -> None:
        if not lease.acquire():
            leader, until = leader_get(contract_id=lease.contract_id)
            then = "syncing anyway (--force)" if force else "not syncing"
            self.stdout.write(f"{lease.contract_id}: {leader} leads (lease until {until}); {then}")
            if not force:
                return
        client = stacks_api_client()
        keep = lease.keep if lease.held else (lambda: None)
        try:
            self._report(sync_once(client=client, contract_id=lease.contract_id, between=keep))
        except StacksApiError as exc:
            sync_failure_record(contract_id=lease.contract_id, error=str(exc))
            raise CommandError(f"the Stacks API failed: {exc}") from exc
        except LeaseLost as exc:
            # What this poll stored stays; the new leader carries on from there.
            self.stderr.write(f"stopped mid-poll: {exc}")

    def _report(self, result: SyncResult) -> None:
        self.stdout.write(
            f"{self.contract_id}: {result.fetched.events} new events, "
            f"{result.applied.applied} applied, {result.applied.failed} failed, "
            f"tip {result.fetched.tip_height}"
        )


def _stop(*_: object) -> None:
    raise SystemExit(0)


def _release(lease: Lease) -> None:
    """Best effort: a lease left behind lapses after its TTL anyway."""
    try:
        lease.release()
    except (DatabaseError, InterfaceError) as exc:
        logger.warning("could not release the lease of %s: %s", lease.contract_id, exc)
