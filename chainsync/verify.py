"""Compare the projection with the contract's read-only state (the seed's
verifyProjectFunding), and repair the projects that differ by reading the chain again
(chainsync.handlers.rebuild.chain_repair).

Reads use one chain tip for the whole run (the API's tip when it starts), so every answer
describes the same state. Per project: one get-project, a get-milestone per slot (1..4) and a
get-dispute per slot that holds a milestone; plus one get-project-count, to find projects the
projection misses. The reading and the comparison are chainsync.onchain's, which the API's live
check uses too: one definition of "in sync"."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from chainsync.client import StacksApiClient, chainsync_settings
from chainsync.handlers.rebuild import chain_repair
from chainsync.log.snapshot import snapshot_fetch
from chainsync.models import ChainEvent, ChainProject, SyncState
from chainsync.onchain import (
    ContractReader,
    Difference,
    project_compare,
    project_onchain_read,
    project_view,
)

DEFAULT_RECENT_BLOCKS = 1000

Progress = Callable[[str], None]


@dataclass(frozen=True)
class VerifyReport:
    checked: int  # on-chain projects compared
    differences: tuple[Difference, ...]
    repaired: tuple[int, ...]  # on-chain ids rebuilt by the repair
    remaining: tuple[Difference, ...]  # what still differs (after the repair, if any)

    @property
    def differing(self) -> tuple[int, ...]:
        return tuple(sorted({d.on_chain_id for d in self.differences}))

    def summary(self) -> str:
        text = f"{self.checked} projects checked, {len(self.differing)} differed"
        if self.repaired:
            text += f", {len(self.repaired)} rebuilt from the chain"
        still = len({d.on_chain_id for d in self.remaining})
        return text + (f", {still} still differ" if still else ", in sync")


def sync_verify(
    *,
    client: StacksApiClient,
    contract_id: str,
    fix: bool = False,
    on_chain_ids: Collection[int] | None = None,
    progress: Progress | None = None,
) -> VerifyReport:
    """Compare `on_chain_ids` (default: every project in the projection), and any project the
    chain has that the projection lacks, with the contract's state. With `fix`, repair the
    differing ones (chain_repair: the whole history read again, then their rebuild, with
    chain_reorg to the parties where something was undone) and compare them again. Reads hold
    no lock; raises StacksApiError."""
    checked, differences = project_differences(
        client=client, contract_id=contract_id, on_chain_ids=on_chain_ids, progress=progress
    )
    if not (fix and differences):
        return VerifyReport(checked, tuple(differences), (), tuple(differences))
    ids = sorted({d.on_chain_id for d in differences})
    if progress:
        progress(f"repairing {len(ids)} projects: reading the contract's history again")
    snapshot = snapshot_fetch(client=client, contract_id=contract_id)  # network first
    chain_repair(snapshot=snapshot, contract_id=contract_id, on_chain_ids=ids)
    _, remaining = project_differences(client=client, contract_id=contract_id, on_chain_ids=ids)
    return VerifyReport(checked, tuple(differences), tuple(ids), tuple(remaining))


def projection_reconcile(*, client: StacksApiClient, contract_id: str) -> VerifyReport:
    """The scheduled reconciliation: verify and repair the live projects (`live_project_ids`)
    and look for projects the projection misses."""
    ids = live_project_ids(contract_id=contract_id)
    return sync_verify(client=client, contract_id=contract_id, fix=True, on_chain_ids=ids)


def live_project_ids(*, contract_id: str) -> list[int]:
    """Projects the chain may still change, or changed lately: not settled (refunded, or every
    milestone released), or with an event in the last `CHAINSYNC["VERIFY_RECENT_BLOCKS"]`
    blocks (default 1000). A settled project's state is frozen once final, so the schedule
    skips it after a while; `verify_sync` checks everything."""
    window = int(chainsync_settings().get("VERIFY_RECENT_BLOCKS", DEFAULT_RECENT_BLOCKS))
    tip = SyncState.objects.filter(contract_id=contract_id).values_list(
        "chain_tip_height", flat=True
    )
    since = next(iter(tip), 0) - window
    recent = ChainEvent.objects.filter(
        canonical=True, block_height__gt=since, project_id__isnull=False
    ).values_list("project_id", flat=True)
    unsettled = ChainProject.objects.filter(refunded=False, milestones__released=False)
    return sorted({*recent, *unsettled.values_list("on_chain_id", flat=True)})


def project_differences(
    *,
    client: StacksApiClient,
    contract_id: str,
    on_chain_ids: Collection[int] | None = None,
    progress: Progress | None = None,
) -> tuple[int, list[Difference]]:
    """(projects compared, their differences), in on-chain id order."""
    reader = ContractReader(client, contract_id)
    known = set(ChainProject.objects.values_list("on_chain_id", flat=True))
    ids = set(known if on_chain_ids is None else on_chain_ids)
    ids |= set(range(1, reader.read("get-project-count") + 1)) - known
    differences: list[Difference] = []
    for done, on_chain_id in enumerate(sorted(ids), start=1):
        differences += _project_differences(reader, on_chain_id)
        if progress and done % 50 == 0:
            progress(f"compared {done}/{len(ids)} projects")
    return len(ids), differences


def _project_differences(reader: ContractReader, on_chain_id: int) -> list[Difference]:
    ours = ChainProject.objects.filter(on_chain_id=on_chain_id).first()
    chain = project_onchain_read(reader, on_chain_id)
    view = None if ours is None else project_view(ours)
    return project_compare(on_chain_id=on_chain_id, ours=view, chain=chain)
