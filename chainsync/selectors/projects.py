"""The indexed on-chain projects, and the live check of one against the contract
(chainsync.onchain: the same reading and comparison as verify_sync, cached here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Max, Prefetch, QuerySet
from django.utils import timezone

from chainsync.client import StacksApiError, chainsync_settings
from chainsync.models import ChainDispute, ChainEvent, ChainMilestone, ChainProject
from chainsync.onchain import (
    PARTS,
    ContractReader,
    Difference,
    ProjectView,
    project_compare,
    project_onchain_read,
    project_view,
)
from chainsync.selectors.common import (
    DEFAULT_ONCHAIN_CACHE_SECONDS,
    ERROR_CACHE_SECONDS,
    ChainApiUnavailable,
    _final,
    _live_client,
    escrow_contract_id,
)
from stxworx.errors import NotFound

# --- projects -------------------------------------------------------------------------------


def chain_project_list() -> QuerySet[ChainProject]:
    """Every on-chain project by id, with `final`, milestones and disputes (3 queries a page)."""
    return (
        ChainProject.objects.annotate(final=_final("created_block_height"))
        .prefetch_related(
            Prefetch("milestones", queryset=ChainMilestone.objects.order_by("slot")),
            Prefetch("disputes", queryset=ChainDispute.objects.order_by("slot")),
        )
        .order_by("on_chain_id")
    )


def chain_project_get(*, on_chain_id: int) -> ChainProject:
    try:
        return chain_project_list().get(on_chain_id=on_chain_id)
    except ChainProject.DoesNotExist:
        raise NotFound(f"No on-chain project {on_chain_id} is indexed.") from None


@dataclass(frozen=True)
class LiveCheck:
    """The contract's own view of a project next to the indexed one.

    `on_chain` None with `error` None: the contract does not know the project. `error` set: the
    API could not be read, so nothing is known (`in_sync` None). `differences` are
    `{field, indexed, on_chain}` (chain_project_differences)."""

    on_chain: ProjectView | None
    in_sync: bool | None
    differences: list[dict[str, Any]]
    error: str | None


def chain_project_live_check(*, on_chain_id: int, project: ChainProject | None = None) -> LiveCheck:
    """The live on-chain state of a project (get-project, get-milestone, get-dispute, read at
    one tip through chainsync.onchain, cached as chain_project_onchain_get says) and its
    differences with the database, by the same comparison verify_sync uses: in sync exactly
    when verify_sync would find nothing. `project`: the indexed row when the caller has it
    (from chain_project_get, milestones and disputes prefetched); otherwise it is read, and a
    project the projection lacks differs as `project`. Network I/O; never raises for the API."""
    if project is None:
        project = chain_project_list().filter(on_chain_id=on_chain_id).first()
    try:
        on_chain = chain_project_onchain_get(on_chain_id=on_chain_id)
    except ChainApiUnavailable as exc:
        return LiveCheck(None, None, [], exc.message)
    ours = None if project is None else project_view(project)
    found = project_compare(on_chain_id=on_chain_id, ours=ours, chain=on_chain)
    return LiveCheck(on_chain, not found, chain_project_differences(found), None)


def chain_project_checked_get(*, on_chain_id: int) -> ChainProject:
    """chain_project_get with `.live`, its LiveCheck against the contract (network I/O)."""
    project = chain_project_get(on_chain_id=on_chain_id)
    project.live = chain_project_live_check(on_chain_id=on_chain_id, project=project)
    return project


@dataclass(frozen=True)
class OnchainRead:
    """The contract's view of a project and when it was read: at which Stacks tip (height and
    index block hash; None before the API has synced) and at what time (a cached read keeps its
    own time, so a reader sees how old it is)."""

    state: ProjectView | None
    tip_height: int | None
    tip_hash: str | None
    read_at: datetime


def chain_project_onchain_get(*, on_chain_id: int) -> ProjectView | None:
    """The contract's view of a project (chainsync.onchain.project_onchain_read): plain data
    with exact ints; None when the contract has no such project. chain_project_onchain_read
    says how it is cached and adds the tip and time of the read."""
    return chain_project_onchain_read(on_chain_id=on_chain_id).state


def chain_project_onchain_read(*, on_chain_id: int) -> OnchainRead:
    """chain_project_onchain_get with the tip it was read at and the time of the read.

    Cached for CHAINSYNC['ONCHAIN_CACHE_SECONDS'] (60 s), keyed also by the project's newest
    applied event, so an entry never predates the indexed view it is compared with. A failure
    is cached for ERROR_CACHE_SECONDS. Raises ChainApiUnavailable."""
    key = _onchain_cache_key(on_chain_id)
    entry = cache.get(key)
    if entry is None:
        entry = _onchain_fetch(on_chain_id)
        ttl = int(chainsync_settings().get("ONCHAIN_CACHE_SECONDS", DEFAULT_ONCHAIN_CACHE_SECONDS))
        cache.set(key, entry, ttl if "state" in entry else min(ttl, ERROR_CACHE_SECONDS))
    if "error" in entry:
        raise ChainApiUnavailable(entry["error"])
    return OnchainRead(entry["state"], entry["tipHeight"], entry["tipHash"], entry["readAt"])


def _onchain_cache_key(on_chain_id: int) -> str:
    newest = ChainEvent.objects.filter(project_id=on_chain_id).aggregate(at=Max("applied_at"))["at"]
    stamp = newest.timestamp() if newest else 0
    return f"chainsync:onchain:v3:{escrow_contract_id()}:{on_chain_id}:{stamp}"


def _onchain_fetch(on_chain_id: int) -> dict[str, Any]:
    contract = escrow_contract_id()
    try:
        with _live_client() as client:
            reader = ContractReader(client, contract)
            return {
                "state": project_onchain_read(reader, on_chain_id),
                "tipHeight": reader.tip_height,
                "tipHash": reader.tip,
                "readAt": timezone.now(),
            }
    except StacksApiError as exc:
        return {"error": f"The Stacks API could not be read: {exc.message}"}
    except (KeyError, TypeError, AttributeError):
        return {"error": f"The read-only calls of {contract} returned unexpected values."}


# The API's names for the fields of chainsync.onchain's views.
_API_NAMES = {
    "total_amount": "totalAmount",
    "fee_paid": "feePaid",
    "num_milestones": "numMilestones",
    "created_burn_height": "createdBurnHeight",
    "completed_burn_height": "completedBurnHeight",
    "filed_by": "filedBy",
    "filed_burn_height": "filedBurnHeight",
    "resolved_in_favor_of": "resolvedInFavorOf",
}


def chain_project_differences(differences: list[Difference]) -> list[dict[str, Any]]:
    """chainsync.onchain's differences as the API names them: `{field, indexed, on_chain}` with
    `field` `totalAmount`, `milestones.2.released`, `disputes.1.status`, `milestones.3` (a
    milestone only one side has: the sides are its object or null), `project` (only one side
    has the project: the sides are its on-chain id or null)."""
    return [_api_difference(d) for d in differences]


def _api_difference(d: Difference) -> dict[str, Any]:
    path = [] if d.part == "project" else [PARTS[d.part][0], str(d.slot)]
    if d.key is not None:
        path.append(_API_NAMES.get(d.key, d.key))
    if d.part == "project" and d.key is None:
        sides = [None if side is None else d.on_chain_id for side in (d.ours, d.chain)]
    else:
        sides = [_api_value(side) for side in (d.ours, d.chain)]
    return {"field": ".".join(path) or "project", "indexed": sides[0], "on_chain": sides[1]}


def _api_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {_API_NAMES.get(key, key): item for key, item in value.items()}
    return value
