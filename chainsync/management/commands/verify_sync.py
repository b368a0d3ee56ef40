from __future__ import annotations

from itertools import groupby
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chainsync.client import StacksApiError, chainsync_settings, stacks_api_client
from chainsync.verify import Difference, sync_verify


class Command(BaseCommand):
    help = (
        "Compare every on-chain project in the projection with the contract's read-only state "
        "and report the differences per project and field; exit status 1 while any remain."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--fix",
            action="store_true",
            help="repair the differing projects: read the history again and rebuild them",
        )
        parser.add_argument(
            "--project", type=int, action="append", dest="projects", help="on-chain id (repeatable)"
        )

    def handle(self, *args: Any, fix: bool, projects: list[int] | None, **options: Any) -> None:
        contract_id = chainsync_settings()["ESCROW_CONTRACT_ID"]
        try:
            with stacks_api_client() as client:
                report = sync_verify(
                    client=client,
                    contract_id=contract_id,
                    fix=fix,
                    on_chain_ids=projects,
                    progress=self.stdout.write,
                )
        except StacksApiError as exc:
            raise CommandError(f"the Stacks API failed: {exc}") from exc
        self._list(report.differences)
        if report.repaired:
            self.stdout.write(f"repaired: {', '.join(map(str, report.repaired))}")
            self._list(report.remaining, heading="still differs after the repair")
        self.stdout.write(report.summary())
        if report.remaining:
            raise CommandError(f"{len({d.on_chain_id for d in report.remaining})} projects differ")

    def _list(self, differences: tuple[Difference, ...], heading: str = "differs") -> None:
        for on_chain_id, rows in groupby(differences, key=lambda d: d.on_chain_id):
            self.stdout.write(f"project {on_chain_id} {heading}:")
            for difference in rows:
                self.stdout.write(f"  {difference}")
