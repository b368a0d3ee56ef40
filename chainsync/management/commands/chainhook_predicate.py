"""Print the Chainhook predicate (self-hosted v1) that pushes the escrow contract's print events
to POST /api/blockchain/chainhook, with CHAINHOOK_SECRET as its Bearer authorization."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chainsync.client import chainsync_settings
from chainsync.conf import escrow_contract_id


class Command(BaseCommand):
    help = "Print the Chainhook predicate JSON for the escrow contract's print events."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--url", default="http://localhost:8000/api/blockchain/chainhook")
        parser.add_argument("--network", choices=["testnet", "mainnet"], default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        secret = chainsync_settings().get("CHAINHOOK_SECRET") or ""
        if not secret:
            raise CommandError("Set CHAINHOOK_SECRET first: the predicate carries it.")
        network = options["network"] or settings.STACKS_NETWORK
        contract = escrow_contract_id()
        predicate = {
            "chain": "stacks",
            "uuid": f"stxworx-{contract}",
            "name": "stxworx escrow prints",
            "version": 1,
            "networks": {
                network: {
                    "if_this": {
                        "scope": "print_event",
                        "contract_identifier": contract,
                        "contains": "*",
                    },
                    "then_that": {
                        "http_post": {
                            "url": options["url"],
                            "authorization_header": f"Bearer {secret}",
                        }
                    },
                    "decode_clarity_values": False,
                }
            },
        }
        self.stdout.write(json.dumps(predicate, indent=2))
