"""What the chain means for an off-chain project: the statuses the projection implies for it and
its milestones, the legal paths from one project status to another (as the projects services
move them), what each arrival is announced with, and which events concern its disputes."""

from __future__ import annotations

from chainsync.models import ChainProject
from chainsync.projection import Projection
from notifications.models import Notification
from projects.models import Milestone, Project

S, M = Project.Status, Milestone.Status

# How the indexer walks a project from one chain-derived status to another: (step, to, source).
PROJECT_PATHS: dict[tuple[str, str], list[str]] = {
    (S.PENDING, S.ACTIVE): ["activate"],
    (S.ACTIVE, S.DISPUTED): ["dispute_open"],
    (S.DISPUTED, S.ACTIVE): ["dispute_close"],
    (S.ACTIVE, S.COMPLETED): ["complete"],
    (S.DISPUTED, S.COMPLETED): ["dispute_close", "complete"],
    (S.PENDING, S.REFUNDED): ["refund"],
    (S.ACTIVE, S.REFUNDED): ["refund"],
    (S.DISPUTED, S.REFUNDED): ["refund"],
}
STEPS = {  # step -> (to, only from); as projects.services project_<step>
    "activate": (S.ACTIVE, S.PENDING),
    "dispute_open": (S.DISPUTED, None),
    "dispute_close": (S.ACTIVE, S.DISPUTED),
    "complete": (S.COMPLETED, None),
    "refund": (S.REFUNDED, None),
}
PROJECT_NEWS = {
    S.ACTIVE: (Notification.Type.PROJECT_FUNDED, "The escrow is funded; work can start."),
    S.COMPLETED: (Notification.Type.PAYMENT_RELEASED, "Every milestone is paid."),
    S.REFUNDED: (Notification.Type.REFUND_ISSUED, "The escrow was refunded to the client."),
}


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
