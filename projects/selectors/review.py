"""The reviewer's view of one dispute: the frozen agreement, the submission, both parties'
evidence, one timeline of on-chain events and off-chain actions, and the contract's live state
next to the database's, with every disagreement named.

The live state comes from read-only calls (network I/O, short timeouts, never inside a
transaction) through the chain reader chainsync plugs in (projects.chain): get-project,
get-milestone and get-dispute at one chain tip, cached until the project's next indexed event
(60 s at most), stamped with the tip it was read at and the time of the read. An unreachable
API is reported, not raised: the page still shows everything else."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from projects.amounts import TOKEN_DECIMALS, token_amount_text
from projects.chain import chain_reader
from projects.models import Dispute, Milestone, Project
from projects.selectors.disputes import (
    DisputeReview,
    _require_reviewer,
    _with_evidence,
    agreement_view,
    dispute_closing_attempt_warning,
)
from projects.selectors.resolution import resolution_attempt_states, resolve_blocked_reason
from stxworx.errors import NotFound

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User

M = Milestone.Status


def dispute_review_get(*, dispute_id: int, user: User | AnonymousUser | None) -> DisputeReview:
    """Reviewers only (NotDisputeReviewer, 403); NotFound for an unknown dispute. Reads the
    chain (see the module docstring)."""
    _require_reviewer(user)
    # The attempts are read once: their states, the timeline, the closing warning and the API's
    # resolutionAttempts all use this prefetch (ResolutionAttempt's Meta ordering).
    qs = _with_evidence(Dispute.objects.filter(pk=dispute_id))
    dispute = qs.prefetch_related("resolution_attempts").first()
    if dispute is None:
        raise NotFound(f"Dispute {dispute_id} does not exist.")
    project = dispute.project
    milestone = project.milestones.filter(number=dispute.milestone_number).first()
    evidence: dict[str, list] = {"client": [], "freelancer": []}
    for item in dispute.evidence.all():
        side = "client" if item.submitted_by == project.client_address else "freelancer"
        evidence[side].append(item)
    review = DisputeReview(
        dispute=dispute,
        project=project,
        milestone=milestone,
        agreement=agreement_view(getattr(project, "agreement", None)),
        evidence=evidence,
        statements=_statements(dispute),
    )
    _attach_files(review)
    review.timeline = _timeline(review)
    review.chain = _live_state(project, milestone, dispute)
    review.attempts = resolution_attempt_states(dispute=dispute)
    review.resolve_blocked = resolve_blocked_reason(dispute=dispute, chain=review.chain)
    review.closing_warning = dispute_closing_attempt_warning(dispute)
    review.pending_attempts = [a["attempt"] for a in review.attempts if a["state"] == "pending"]
    review.closing_attempt = next(
        (a["attempt"] for a in review.attempts if a["attempt"].tx_id == dispute.resolved_tx_id),
        None,
    )
    return review


def _statements(dispute: Dispute) -> dict[str, Any]:
    sides: dict[str, Any] = {side: None for side in Dispute.Party.values}
    for statement in dispute.statements.all():  # prefetched
        sides[statement.party] = statement
    return sides


def _attach_files(review: DisputeReview) -> None:
    """The stored uploads the evidence and an ipfs:// submission cite, with their pin status
    (one query); each evidence item gets `stored_file` (None when the bytes are not here)."""
    from files.selectors import ipfs_link_cid, stored_files_by_cid

    link = review.milestone.submission_link if review.milestone else ""
    review.submission_cid = ipfs_link_cid(link) if link else None
    items = [e for side in review.evidence.values() for e in side]
    review.files = stored_files_by_cid(
        cids=[e.file_cid for e in items] + [review.submission_cid or ""]
    )
    for item in items:
        item.stored_file = review.files.get(item.file_cid)
    if review.submission_cid:
        review.submission_file = review.files.get(review.submission_cid)


# --- the timeline -------------------------------------------------------------------------------


def _entry(at: datetime | None, source: str, kind: str, text: str, **extra: Any) -> dict:
    return {"at": at, "source": source, "kind": kind, "text": text, **extra}


def _chain_entries(project: Project) -> list[dict[str, Any]]:
    if project.on_chain_id is None:
        return []
    chain = chain_reader()
    events = chain.project_events(project.on_chain_id)
    times = chain.block_times(e.tx_id for e in events)
    return [
        _entry(
            times.get(e.tx_id) or e.applied_at,
            "chain",
            e.event_name,
            _event_text(e.event_name, e.payload, project.token),
            txId=e.tx_id,
            blockHeight=e.block_height,
            canonical=e.canonical,
        )
        for e in events
        if e.event_name
    ]


# The amounts a contract event carries, named for the reviewer (CONTRACT.md, "Events").
_EVENT_AMOUNTS = [
    ("gross-amount", "gross"),
    ("net-escrow", "net in escrow"),
    ("fee-collected", "fee"),
    ("amount", "net"),
    ("refund-amount", "refunded"),
    ("released-amount", "released before"),
]


def _event_text(name: str, payload: dict[str, Any], token: str) -> str:
    milestone = payload.get("milestone")
    where = f" (milestone {milestone})" if milestone is not None else ""
    if name == "dispute-resolved":
        to = "the freelancer" if payload.get("released-to-freelancer") else "the client"
        text = f"dispute-resolved{where}: paid to {to}"
    elif name == "dispute-filed":
        text = f"dispute-filed{where} by {payload.get('filed-by', '?')}"
    else:
        text = f"{name}{where}"
    token = payload.get("token") if payload.get("token") in TOKEN_DECIMALS else token
    amounts = [
        f"{token_amount_text(payload[key], token)} {label}"
        for key, label in _EVENT_AMOUNTS
        if key in payload
    ]
    return f"{text}: {', '.join(amounts)}" if amounts else text


def _offchain_entries(review: DisputeReview) -> list[dict[str, Any]]:
    d, p, m = review.dispute, review.project, review.milestone
    out = [_entry(p.created_at, "offchain", "project-posted", f"Project “{p.title}” posted")]
    if review.agreement:
        text = f"Proposal accepted; agreement frozen (SHA-256 {review.agreement.sha256[:16]}…)"
        out.append(_entry(review.agreement.accepted_at, "offchain", "agreement", text))
    if m is not None and m.submitted_at:
        text = f"Milestone {m.number} submission recorded: {m.submission_link}"
        out.append(_entry(m.submitted_at, "offchain", "submission", text))
    for side, statement in review.statements.items():
        if statement is not None:
            edited = statement.updated_at != statement.created_at
            text = f"Statement from the {side}" + (" (rewritten since)" if edited else "")
            out.append(_entry(statement.created_at, "offchain", "statement", text))
    for side, items in review.evidence.items():
        out += [
            _entry(e.created_at, "offchain", "evidence", f"Evidence from the {side}") for e in items
        ]
    for attempt in d.resolution_attempts.all():
        decision = "release to the freelancer" if attempt.release_to_freelancer else "refund"
        text = f"Resolution broadcast by {attempt.reviewer}: {decision}"
        out.append(_entry(attempt.recorded_at, "offchain", "resolution", text, txId=attempt.tx_id))
    return out


def _timeline(review: DisputeReview) -> list[dict[str, Any]]:
    entries = _chain_entries(review.project) + _offchain_entries(review)
    floor = datetime.min.replace(tzinfo=review.project.created_at.tzinfo)
    return sorted(entries, key=lambda e: e["at"] or floor)


# --- the live on-chain state --------------------------------------------------------------------


def _chain_dispute(chain_project: dict[str, Any] | None, number: int) -> dict[str, Any] | None:
    """The contract's get-dispute of the milestone, from chainsync's project view."""
    found = next(
        (d for d in (chain_project or {}).get("disputes", []) if d["milestone"] == number), None
    )
    if found is None:
        return None
    return {
        "status": found["status"],
        "filedBy": found["filed_by"],
        "filedAt": found["filed_burn_height"],
        "resolvedInFavorOf": found["resolved_in_favor_of"],
    }


def _live_state(project: Project, milestone: Milestone | None, dispute: Dispute) -> dict[str, Any]:
    """{available, error, project, milestone, dispute, disagreements, inSync, tipHeight,
    tipHash, readAt}."""
    state: dict[str, Any] = {"available": False, "error": None, "disagreements": []}
    if project.on_chain_id is None:
        state["error"] = "The project is not linked to an on-chain escrow."
        return state
    chain = chain_reader()
    try:
        read = chain.onchain_project(project.on_chain_id)
    except chain.unavailable as exc:
        state["error"] = exc.message
        return state
    chain_project = read.state
    state.update(tipHeight=read.tip_height, tipHash=read.tip_hash, readAt=read.read_at)
    chain_dispute = _chain_dispute(chain_project, dispute.milestone_number)
    chain_milestone = None
    if chain_project is not None:
        chain_milestone = next(
            (m for m in chain_project["milestones"] if m["number"] == dispute.milestone_number),
            None,
        )
    state.update(
        available=True,
        project=chain_project,
        milestone=chain_milestone,
        dispute=chain_dispute,
        disagreements=_disagreements(
            project, milestone, dispute, chain_project, chain_milestone, chain_dispute
        ),
    )
    state["inSync"] = not state["disagreements"]
    return state


def _differ(field: str, database: Any, chain: Any) -> dict[str, Any]:
    return {"field": field, "database": database, "chain": chain}


def _disagreements(
    project: Project,
    milestone: Milestone | None,
    dispute: Dispute,
    chain_project: dict[str, Any] | None,
    chain_milestone: dict[str, Any] | None,
    chain_dispute: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    if chain_project is None:
        return [_differ("project", project.on_chain_id, None)]
    out = [
        _differ(name, ours, chain_project[key])
        for name, ours, key in (
            ("client", project.client_address, "client"),
            ("freelancer", project.freelancer_address, "freelancer"),
            ("token", project.token, "token"),
            ("refunded", project.status == Project.Status.REFUNDED, "refunded"),
        )
        if ours != chain_project[key]
    ]
    out += _milestone_disagreements(milestone, chain_milestone, chain_project, chain_dispute)
    return out + _dispute_disagreements(project, dispute, chain_dispute)


def _milestone_disagreements(
    milestone: Milestone | None,
    chain: dict[str, Any] | None,
    chain_project: dict[str, Any],
    chain_dispute: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    if milestone is None or chain is None:
        if (milestone is None) == (chain is None):
            return []
        return [_differ("milestone", milestone and milestone.number, chain and chain["number"])]
    if chain["released"]:
        expected = {M.APPROVED, M.REFUNDED}  # get-milestone does not say to whom
    elif chain_project["refunded"]:
        expected = {M.REFUNDED}
    elif chain_dispute is not None and chain_dispute["status"] == "open":
        expected = {M.DISPUTED}
    else:
        expected = {M.SUBMITTED} if chain["complete"] else {M.LOCKED}
    if milestone.status in expected:
        return []
    chain_view = "released" if chain["released"] else "/".join(sorted(expected))
    return [_differ("milestone.status", milestone.status, chain_view)]


def _dispute_disagreements(
    project: Project, dispute: Dispute, chain: dict[str, Any] | None
) -> list[dict[str, Any]]:
    if chain is None:
        # A milestone-reset deletes the contract's record; a void one has no chain record.
        gone = dispute.close_reason == Dispute.CloseReason.MILESTONE_RESET
        return (
            []
            if gone or dispute.status == Dispute.Status.VOID
            else [_differ("dispute", dispute.status, None)]
        )
    out = []
    if dispute.status != chain["status"]:
        out.append(_differ("dispute.status", dispute.status, chain["status"]))
    if dispute.filed_by != chain["filedBy"]:
        out.append(_differ("dispute.filedBy", dispute.filed_by, chain["filedBy"]))
    party = {
        Dispute.Party.CLIENT: project.client_address,
        Dispute.Party.FREELANCER: project.freelancer_address,
    }
    ours = party.get(dispute.resolved_in_favor_of)
    # A close without a payout (reset, refund) leaves the contract's field as it set it.
    both_resolved = dispute.status == Dispute.Status.RESOLVED and chain["status"] == "resolved"
    if both_resolved and chain["resolvedInFavorOf"] not in (None, ours):
        out.append(_differ("dispute.resolvedInFavorOf", ours, chain["resolvedInFavorOf"]))
    return out


# --- the resolution call ------------------------------------------------------------------------


def dispute_resolution_call(*, dispute: Dispute) -> dict[str, Any]:
    """What the review page hands the reviewer's wallet: admin-resolve-dispute-stx or -sbtc
    (CONTRACT.md) on the escrow contract, for the dispute's on-chain project and milestone; the
    page adds release-to-freelancer (bool). `problem` says why it cannot be prepared (the
    project is not on chain, the sBTC token contract is unknown)."""
    from django.conf import settings

    chain = chain_reader()
    project, contract = dispute.project, chain.contract_id()
    sbtc = project.token == "sBTC"
    owner, token = chain.contract_roles()
    call: dict[str, Any] = {
        "contract": contract,
        "functionName": "admin-resolve-dispute-sbtc" if sbtc else "admin-resolve-dispute-stx",
        "projectId": project.on_chain_id,
        "milestone": dispute.milestone_number,
        "tokenContract": None,
        "network": settings.STACKS_NETWORK,
        # Who may sign: the owner the contract's events named, else its deployer (the owner at
        # deploy). Any other wallet's call aborts with ERR-NOT-OWNER (u113) and pays its fee.
        "owner": owner or contract.split(".")[0],
        "problem": None,
    }
    if project.on_chain_id is None:
        call["problem"] = "The project is not linked to an on-chain escrow."
    elif sbtc:
        call["tokenContract"] = token or None
        if not token:
            call["problem"] = (
                "The contract's sBTC token is not known yet (no sbtc-contract-updated)."
            )
    return call
