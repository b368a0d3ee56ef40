"""Compare the projection with the contract's read-only state (the seed's
verifyProjectFunding), and repair the projects that differ by reading the chain again
(chainsync.reorg.chain_repair).

Reads use one chain tip for the whole run (the API's tip when it starts), so every answer
describes the same state. Per project: one get-project, a get-milestone per slot (1..4) and a
get-dispute per slot that holds a milestone; plus one get-project-count, to find projects the
projection misses."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from chainsync.clarity import clarity_to_python, uint
from chainsync.client import StacksApiClient, chainsync_settings
from chainsync.models import ChainDispute, ChainEvent, ChainMilestone, ChainProject, SyncState
from chainsync.projection import MAX_SLOTS
from chainsync.reorg import chain_repair

TOKEN_TYPES = {0: "STX", 1: "sBTC"}
DISPUTE_STATUSES = {1: "open", 2: "resolved"}
DEFAULT_RECENT_BLOCKS = 1000

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Difference:
    on_chain_id: int
    field: str  # "refunded", "milestone 2.released", "dispute 1", ...
    ours: Any
    chain: Any

    def __str__(self) -> str:
        return f"{self.field}: ours {self.ours!r}, chain {self.chain!r}"


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
    chain_repair(client=client, contract_id=contract_id, on_chain_ids=ids)
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
    reader = _Reader(client, contract_id)
    known = set(ChainProject.objects.values_list("on_chain_id", flat=True))
    ids = set(known if on_chain_ids is None else on_chain_ids)
    ids |= set(range(1, reader.read("get-project-count") + 1)) - known
    differences: list[Difference] = []
    for done, on_chain_id in enumerate(sorted(ids), start=1):
        differences += _project_differences(reader, on_chain_id)
        if progress and done % 50 == 0:
            progress(f"compared {done}/{len(ids)} projects")
    return len(ids), differences


class _Reader:
    """Read-only calls at one chain tip, decoded to plain values (None for `none`)."""

    def __init__(self, client: StacksApiClient, contract_id: str) -> None:
        tip = client.status().chain_tip
        self.client, self.contract_id = client, contract_id
        self.sender = contract_id.partition(".")[0]
        self.tip = tip.index_block_hash if tip else None

    def read(self, function: str, *args: int) -> Any:
        value = self.client.call_read(
            self.contract_id, function, [uint(a) for a in args], sender=self.sender, tip=self.tip
        )
        return clarity_to_python(value)


def _project_differences(reader: _Reader, on_chain_id: int) -> list[Difference]:
    ours = ChainProject.objects.filter(on_chain_id=on_chain_id).first()
    chain = reader.read("get-project", on_chain_id)
    if ours is None or chain is None:
        return _presence(on_chain_id, "project", ours, chain)
    found = _compare(on_chain_id, "", _project_view(ours), _project_view_chain(chain))
    milestones = {m.slot: m for m in ours.milestones.all()}
    disputes = {d.slot: d for d in ours.disputes.all()}
    for slot in range(1, MAX_SLOTS + 1):
        on_chain = reader.read("get-milestone", on_chain_id, slot)
        found += _compare_optional(
            on_chain_id, f"milestone {slot}", _milestone_view(milestones.get(slot)), on_chain
        )
        if slot in milestones or on_chain is not None:
            dispute = reader.read("get-dispute", on_chain_id, slot)
            found += _compare_optional(
                on_chain_id, f"dispute {slot}", _dispute_view(disputes.get(slot)), dispute
            )
    return found


def _compare_optional(
    on_chain_id: int, name: str, ours: dict[str, Any] | None, chain: dict[str, Any] | None
) -> list[Difference]:
    if ours is None or chain is None:
        return _presence(on_chain_id, name, ours, chain)
    view = (
        _milestone_view_chain(chain) if name.startswith("milestone") else _dispute_view_chain(chain)
    )
    return _compare(on_chain_id, f"{name}.", ours, view)


def _presence(on_chain_id: int, name: str, ours: Any, chain: Any) -> list[Difference]:
    if (ours is None) == (chain is None):
        return []
    return [Difference(on_chain_id, name, _exists(ours), _exists(chain))]


def _exists(value: Any) -> str:
    return "absent" if value is None else "present"


def _compare(
    on_chain_id: int, prefix: str, ours: dict[str, Any], chain: dict[str, Any]
) -> list[Difference]:
    return [
        Difference(on_chain_id, prefix + key, ours[key], chain[key])
        for key in ours
        if ours[key] != chain[key]
    ]


# --- the same facts, from either side ---------------------------------------------------------


def _project_view(p: ChainProject) -> dict[str, Any]:
    return {
        "client": p.client,
        "freelancer": p.freelancer,
        "token": p.token,
        "total_amount": int(p.total_amount),
        "fee_paid": int(p.fee_paid),
        "num_milestones": p.num_milestones,
        "refunded": p.refunded,
        "created_at": p.created_burn_height,
    }


def _project_view_chain(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "client": c["client"],
        "freelancer": c["freelancer"],
        "token": TOKEN_TYPES.get(c["token-type"], c["token-type"]),
        "total_amount": c["total-amount"],
        "fee_paid": c["fee-paid"],
        "num_milestones": c["num-milestones"],
        "refunded": c["refunded"],
        "created_at": c["created-at"],
    }


def _milestone_view(m: ChainMilestone | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        "amount": None if m.amount is None else int(m.amount),
        "complete": m.complete,
        "completed_at": m.completed_burn_height or 0,
        "released": m.released,
    }


def _milestone_view_chain(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "amount": c["amount"],
        "complete": c["complete"],
        "completed_at": c["completed-at"],
        "released": c["released"],
    }


def _dispute_view(d: ChainDispute | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {
        "status": d.status,
        "filed_by": d.filed_by,
        "filed_at": d.filed_burn_height,
        "resolved_in_favor_of": d.resolved_in_favor_of or None,
    }


def _dispute_view_chain(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": DISPUTE_STATUSES.get(c["status"], c["status"]),
        "filed_by": c["filed-by"],
        "filed_at": c["filed-at"],
        "resolved_in_favor_of": c["resolved-in-favor-of"],
    }
