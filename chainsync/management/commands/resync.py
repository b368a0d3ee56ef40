from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chainsync.client import StacksApiError, chainsync_settings, stacks_api_client
from chainsync.handlers.rebuild import chain_resync


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
        client = stacks_api_client() if from_chain else None
        try:
            result = chain_resync(contract_id=contract_id, client=client, progress=self._say)
        except StacksApiError as exc:
            raise CommandError(f"the Stacks API failed: {exc}; nothing was changed") from exc
        finally:
            if client is not None:
                client.close()
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

    def _say(self, message: str) -> None:
        self.stdout.write(message)
