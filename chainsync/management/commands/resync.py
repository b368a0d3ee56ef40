from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chainsync.client import StacksApiError, chainsync_settings, stacks_api_client
from chainsync.handlers.rebuild import chain_resync
from chainsync.log.snapshot import Snapshot, snapshot_fetch


class Command(BaseCommand):
    help = (
        "Rebuild every chain-derived field (the projection and the linked projects' chain "
        "state) from the stored event log alone, deterministically and without notifications."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from-chain",
            action="store_true",
            help="first read the contract's whole history from the Stacks API again and make "
            "the stored log match it (costly: every page, within the API's rate limit)",
        )

    def handle(self, *args: Any, from_chain: bool, **options: Any) -> None:
        contract_id = chainsync_settings()["ESCROW_CONTRACT_ID"]
        snapshot = self._history(contract_id) if from_chain else None
        result = chain_resync(contract_id=contract_id, snapshot=snapshot, progress=self._say)
        self._say(
            f"rebuilt {result.projects} on-chain projects from {result.replayed} events "
            f"({result.applied} applied, {result.failed} failed)"
        )
        if result.blocked:
            self.stdout.write(
                self.style.WARNING(
                    "stopped at a project-created whose milestone amounts are unknown; the "
                    "indexer looks them up and applies the rest (or run resync --from-chain)"
                )
            )

    def _history(self, contract_id: str) -> Snapshot:
        """The contract's whole history, read again before anything is written."""
        client = stacks_api_client()
        self._say(f"reading the history of {contract_id} from {client.base_url}")
        try:
            return snapshot_fetch(client=client, contract_id=contract_id, progress=self._say)
        except StacksApiError as exc:
            raise CommandError(f"the Stacks API failed: {exc}; nothing was changed") from exc
        finally:
            client.close()

    def _say(self, message: str) -> None:
        self.stdout.write(message)
