"""The contract's own view of a project, and what "in sync" means: the one reading and the one
comparison that both `verify_sync` (chainsync.verify) and the blockchain API's live check
(chainsync.selectors) use.

Both sides are rendered to the same plain shape (`ProjectView`: ints, strs, bools, lists of
dicts; picklable, so the API can cache the chain's side), then compared key by key. A project is
in sync when `project_compare` finds no difference: every field of get-project, of get-milestone
for every slot (1..4) and of get-dispute for every slot holding a milestone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chainsync.client import StacksApiClient
from chainsync.log.amounts import MAX_SLOTS
from chainsync.models import ChainDispute, ChainMilestone, ChainProject
from stacks import clarity_to_python, uint

TOKEN_TYPES = {0: "STX", 1: "sBTC"}
DISPUTE_STATUSES = {1: "open", 2: "resolved"}

# {client, freelancer, token, total_amount, fee_paid, num_milestones, refunded,
#  created_burn_height, milestones: [{number, ...}], disputes: [{milestone, ...}]}
ProjectView = dict[str, Any]
PARTS = {"milestone": ("milestones", "number"), "dispute": ("disputes", "milestone")}


@dataclass(frozen=True)
class Difference:
    """One thing the projection and the contract disagree on. `part` is "project", "milestone"
    or "dispute" (with its `slot`); `key` None means only one side has the part at all (then
    `ours`/`chain` are the part's view or None)."""

    on_chain_id: int
    part: str
    slot: int | None
    key: str | None
    ours: Any
    chain: Any

    @property
    def field(self) -> str:
        """ "refunded", "milestone 2.released", "dispute 1", "project", ..."""
        where = self.part if self.slot is None else f"{self.part} {self.slot}"
        if self.key is None:
            return where
        return self.key if self.part == "project" else f"{where}.{self.key}"

    def __str__(self) -> str:
        ours, chain = self.ours, self.chain
        if self.key is None:
            ours, chain = _exists(ours), _exists(chain)
        return f"{self.field}: ours {ours!r}, chain {chain!r}"


def _exists(value: Any) -> str:
    return "absent" if value is None else "present"


# --- the chain's side ---------------------------------------------------------------------------


class ContractReader:
    """Read-only calls at one chain tip (the API's tip when the reader is made, one request), so
    every answer describes the same state; decoded to plain values (None for `none`)."""

    def __init__(self, client: StacksApiClient, contract_id: str) -> None:
        tip = client.status().chain_tip
        self.client, self.contract_id = client, contract_id
        self.sender = contract_id.partition(".")[0]
        self.tip = tip.index_block_hash if tip else None
        self.tip_height = tip.block_height if tip else None

    def read(self, function: str, *args: int) -> Any:
        value = self.client.call_read(
            self.contract_id, function, [uint(a) for a in args], sender=self.sender, tip=self.tip
        )
        return clarity_to_python(value)


def project_onchain_read(reader: ContractReader, on_chain_id: int) -> ProjectView | None:
    """The contract's view of a project: get-project, get-milestone for every slot, get-dispute
    for each slot that holds a milestone (the contract files disputes on milestones only).
    None when the contract has no such project. Raises StacksApiError; KeyError or TypeError
    when the contract answers values of another shape."""
    project = reader.read("get-project", on_chain_id)
    if project is None:
        return None
    view = _project_view_chain(project)
    for slot in range(1, MAX_SLOTS + 1):
        milestone = reader.read("get-milestone", on_chain_id, slot)
        if milestone is None:
            continue
        view["milestones"].append(_milestone_view_chain(slot, milestone))
        dispute = reader.read("get-dispute", on_chain_id, slot)
        if dispute is not None:
            view["disputes"].append(_dispute_view_chain(slot, dispute))
    return view


def _project_view_chain(c: dict[str, Any]) -> ProjectView:
    return {
        "client": c["client"],
        "freelancer": c["freelancer"],
        "token": TOKEN_TYPES.get(c["token-type"], c["token-type"]),
        "total_amount": c["total-amount"],
        "fee_paid": c["fee-paid"],
        "num_milestones": c["num-milestones"],
        "refunded": c["refunded"],
        "created_burn_height": c["created-at"],
        "milestones": [],
        "disputes": [],
    }


def _milestone_view_chain(slot: int, c: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": slot,
        "amount": c["amount"],
        "complete": c["complete"],
        "completed_burn_height": c["completed-at"],
        "released": c["released"],
    }


def _dispute_view_chain(slot: int, c: dict[str, Any]) -> dict[str, Any]:
    return {
        "milestone": slot,
        "status": DISPUTE_STATUSES.get(c["status"], c["status"]),
        "filed_by": c["filed-by"],
        "filed_burn_height": c["filed-at"],
        "resolved_in_favor_of": c["resolved-in-favor-of"],
    }


# --- the projection's side ----------------------------------------------------------------------


def project_view(p: ChainProject) -> ProjectView:
    """The indexed project in the chain's shape (reads `p.milestones` and `p.disputes`: prefetch
    them for lists)."""
    return {
        "client": p.client,
        "freelancer": p.freelancer,
        "token": p.token,
        "total_amount": int(p.total_amount),
        "fee_paid": int(p.fee_paid),
        "num_milestones": p.num_milestones,
        "refunded": p.refunded,
        "created_burn_height": p.created_burn_height,
        "milestones": [_milestone_view(m) for m in p.milestones.all()],
        "disputes": [_dispute_view(d) for d in p.disputes.all()],
    }


def _milestone_view(m: ChainMilestone) -> dict[str, Any]:
    return {
        "number": m.slot,
        "amount": None if m.amount is None else int(m.amount),
        "complete": m.complete,
        "completed_burn_height": m.completed_burn_height or 0,
        "released": m.released,
    }


def _dispute_view(d: ChainDispute) -> dict[str, Any]:
    return {
        "milestone": d.slot,
        "status": d.status,
        "filed_by": d.filed_by,
        "filed_burn_height": d.filed_burn_height,
        "resolved_in_favor_of": d.resolved_in_favor_of or None,
    }


# --- the comparison -----------------------------------------------------------------------------


def project_compare(
    *, on_chain_id: int, ours: ProjectView | None, chain: ProjectView | None
) -> list[Difference]:
    """Every difference between the two views: the project's fields, then per slot its
    milestone and its dispute. No difference: in sync."""
    if ours is None or chain is None:
        return _presence(on_chain_id, "project", None, ours, chain)
    found = _fields(on_chain_id, "project", None, ours, chain)
    for part, (plural, number) in PARTS.items():
        mine = {item[number]: item for item in ours[plural]}
        theirs = {item[number]: item for item in chain[plural]}
        for slot in sorted(mine.keys() | theirs.keys()):
            a, b = mine.get(slot), theirs.get(slot)
            if a is None or b is None:
                found += _presence(on_chain_id, part, slot, a, b)
            else:
                found += _fields(on_chain_id, part, slot, a, b)
    return sorted(found, key=lambda d: (d.slot or 0, d.part != "milestone"))


def _presence(
    on_chain_id: int, part: str, slot: int | None, ours: Any, chain: Any
) -> list[Difference]:
    if (ours is None) == (chain is None):
        return []
    return [Difference(on_chain_id, part, slot, None, ours, chain)]


def _fields(
    on_chain_id: int, part: str, slot: int | None, ours: dict[str, Any], chain: dict[str, Any]
) -> list[Difference]:
    return [
        Difference(on_chain_id, part, slot, key, ours[key], chain[key])
        for key in ours
        if not isinstance(ours[key], list) and ours[key] != chain[key]
    ]
