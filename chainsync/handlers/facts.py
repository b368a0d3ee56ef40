"""What the chain says of an off-chain project after an event, as plain facts for the projects
app's chain book (projects.services.chain_book.ChainFacts): the statuses the projection implies
for it and its milestones, its terms, and what the event does to its disputes. No I/O."""

from __future__ import annotations

from datetime import datetime

from chainsync.handlers.projection import Projection
from chainsync.models import ChainEvent, ChainProject
from projects.models import Milestone, Project
from projects.services.chain_book import ChainFacts, DisputeFact

S, M = Project.Status, Milestone.Status


def project_status_from_chain(projection: Projection, chain: ChainProject) -> str:
    milestones = projection.milestones[chain.on_chain_id].values()
    if chain.refunded:
        return S.REFUNDED
    if milestones and all(m.released for m in milestones):
        return S.COMPLETED
    if projection.open_disputes(chain):
        return S.DISPUTED
    return S.ACTIVE


def milestone_statuses_from_chain(projection: Projection, chain: ChainProject) -> dict[int, str]:
    open_slots = {d.slot for d in projection.open_disputes(chain)}
    out = {}
    for slot, m in sorted(projection.milestones[chain.on_chain_id].items()):
        if m.released:
            out[slot] = M.APPROVED if m.released_to == chain.freelancer else M.REFUNDED
        elif chain.refunded:
            out[slot] = M.REFUNDED
        elif slot in open_slots:
            out[slot] = M.DISPUTED
        elif m.complete:
            out[slot] = M.SUBMITTED
        else:
            out[slot] = M.LOCKED
    return out


# The events that close a dispute (CONTRACT.md) -> in whose favour ("" for dispute-resolved:
# its released-to-freelancer says); None: every open dispute of the project, for the client.
DISPUTE_EVENTS = {
    "dispute-filed",
    "dispute-resolved",
    "milestone-released",
    "force-released",
    "milestone-reset",
    "full-refund",
    "emergency-refund",
    "force-refund",
}
DISPUTE_CLOSING: dict[str, str | None] = {
    "dispute-resolved": "",
    "milestone-released": "freelancer",
    "force-released": "freelancer",
    "milestone-reset": "",
    "full-refund": None,
    "emergency-refund": None,
    "force-refund": None,
}


def chain_facts(
    projection: Projection,
    chain: ChainProject,
    event: ChainEvent,
    *,
    split_corrected: bool,
    at: datetime | None,
    notify: bool,
) -> ChainFacts:
    """What the chain says of `chain` once `event` is applied to the projection."""
    funding = event.event_name == "project-created"
    amounts = {}  # asked only to check the terms
    if funding or split_corrected:
        rows = projection.milestones[chain.on_chain_id]
        amounts = {slot: int(m.gross_amount) for slot, m in sorted(rows.items())}
    return ChainFacts(
        tx_id=event.tx_id,
        event_name=event.event_name,
        block_height=event.block_height,
        at=at,
        on_chain_id=chain.on_chain_id,
        created_tx=chain.created_tx,
        client=chain.client,
        freelancer=chain.freelancer,
        token=chain.token,
        amounts=amounts,
        status=project_status_from_chain(projection, chain),
        milestones=milestone_statuses_from_chain(projection, chain),
        funding=funding,
        split_corrected=split_corrected,
        dispute=dispute_fact(event),
        notify=notify,
    )


def dispute_fact(event: ChainEvent) -> DisputeFact | None:
    """What the event does to the project's disputes (None: nothing)."""
    name, payload = event.event_name, event.payload
    if name == "dispute-filed":
        return DisputeFact("filed", number=payload["milestone"], filed_by=payload["filed-by"])
    if name not in DISPUTE_CLOSING:
        return None
    favour = DISPUTE_CLOSING[name]
    if favour is None:  # a refund: every open dispute, for the client
        return DisputeFact("project_closed", reason=name)
    if name == "dispute-resolved":
        favour = "freelancer" if payload["released-to-freelancer"] else "client"
    return DisputeFact("closed", number=payload["milestone"], in_favor_of=favour, reason=name)
