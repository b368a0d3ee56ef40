"""Disputes and their evidence.

A dispute opens and closes only on chain: the indexer calls `dispute_chain_filed` for
dispute-filed and `dispute_chain_closed` / `project_disputes_chain_closed` for the events that
close one (CONTRACT.md), each idempotent, keyed by the transaction. The parties add a statement
(the filer, once) and evidence (while it is open); a reviewer records the resolution transaction
their wallet broadcast, which changes nothing until the indexer sees dispute-resolved.

Lock order: the project (project_lock), then its disputes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from notifications.events import project_link
from notifications.models import Notification
from notifications.services import notification_create
from projects.errors import (
    DisputeNotOpen,
    NotDisputeFiler,
    NotDisputeReviewer,
    NotProjectParty,
    StatementAlreadyGiven,
)
from projects.models import Dispute, Evidence, Project
from projects.selectors.disputes import dispute_review_link, is_dispute_reviewer, reviewer_addresses
from projects.services.lifecycle import project_lock
from stxworx.errors import InvalidInput, InvalidTransition, NotFound

if TYPE_CHECKING:
    from accounts.models import User

Reason = Dispute.CloseReason
# The events that close every open dispute of a project (always in the client's favour).
PROJECT_CLOSING = {Reason.FULL_REFUND, Reason.EMERGENCY_REFUND, Reason.FORCE_REFUND}


@dataclass(frozen=True)
class EvidenceFile:
    """A stored upload's identity, copied onto the evidence (files.models.StoredFile)."""

    cid: str
    sha256: str
    name: str
    size: int


# --- notifications ----------------------------------------------------------------------------


def _tell(
    project: Project, dispute: Dispute, recipients: list[str], type: str, message: str, link: str
) -> None:
    for recipient in dict.fromkeys(r for r in recipients if r):
        notification_create(
            recipient=recipient,
            type=type,
            project_id=project.pk,
            message=message,
            link=link,
            payload={"disputeId": dispute.pk, "milestone": dispute.milestone_number},
        )


def _tell_parties(project: Project, dispute: Dispute, type: str, message: str) -> None:
    parties = [project.client_address, project.freelancer_address]
    _tell(project, dispute, parties, type, message, project_link(project.pk))


def _tell_reviewers(project: Project, dispute: Dispute, type: str, message: str) -> None:
    _tell(project, dispute, reviewer_addresses(), type, message, dispute_review_link(dispute.pk))


def _role(project: Project, address: str) -> str:
    return "client" if address == project.client_address else "freelancer"


def _title(project: Project, dispute: Dispute) -> str:
    return f"“{project.title}”, milestone {dispute.milestone_number}"


# --- from the chain (indexer only) ------------------------------------------------------------


def _dispute_lock(**lookup: object) -> Dispute | None:
    return Dispute.objects.select_for_update().filter(**lookup).first()


def _set_status(dispute: Dispute, to: str, **fields: object) -> None:
    if not dispute.can_transition(to):
        raise InvalidTransition(
            f"A {dispute.status} dispute cannot become {to}.",
            extra={"status": dispute.status, "to": to},
        )
    dispute.status = to
    for name, value in fields.items():
        setattr(dispute, name, value)
    dispute.save(update_fields=["status", "updated_at", *fields])


@transaction.atomic
def dispute_chain_filed(
    *,
    project_id: int,
    number: int,
    filed_by: str,
    tx_id: str,
    block_height: int,
    filed_at: datetime,
    notify: bool = True,
) -> Dispute:
    """dispute-filed for a linked project (indexer only). Idempotent by `tx_id`: the same filing
    seen again returns its dispute unchanged, or reopens it when a rebuild had voided it (a
    replay after a fork, silently). A new one tells both parties and the reviewers.

    Raises NotFound (no such project or milestone), InvalidTransition (the milestone already has
    another open dispute: the chain allows one until a milestone-reset closes it)."""
    project = project_lock(project_id)
    if not project.milestones.filter(number=number).exists():
        raise NotFound(f"Project {project_id} has no milestone {number}.")
    dispute = _dispute_lock(filed_tx_id=tx_id)
    if dispute is not None:
        if dispute.status == Dispute.Status.VOID:
            _set_status(dispute, Dispute.Status.OPEN, **_unresolved())
        return dispute
    if Dispute.objects.filter(
        project=project, milestone_number=number, status=Dispute.Status.OPEN
    ).exists():
        raise InvalidTransition(f"Milestone {number} of project {project_id} is already disputed.")
    dispute = Dispute.objects.create(
        project=project,
        milestone_number=number,
        filed_by=filed_by,
        filed_tx_id=tx_id,
        filed_block_height=block_height,
        filed_at=filed_at,
    )
    if notify:
        who = _role(project, filed_by)
        _tell_parties(
            project,
            dispute,
            Notification.Type.DISPUTE_FILED,
            f"{_title(project, dispute)} is disputed (filed by the {who}).",
        )
        _tell_reviewers(
            project,
            dispute,
            Notification.Type.DISPUTE_FILED,
            f"New dispute to review: {_title(project, dispute)}, filed by the {who}.",
        )
    return dispute


def _unresolved() -> dict[str, object]:
    return {
        "resolved_in_favor_of": "",
        "close_reason": "",
        "resolved_tx_id": "",
        "resolved_at": None,
    }


def _check_close(reason: str, in_favor_of: str) -> None:
    if reason not in Reason.values:
        raise InvalidInput(f"{reason} does not close a dispute.", field="reason")
    if in_favor_of not in ("", *Dispute.Party.values):
        raise InvalidInput("Must be client, freelancer or empty.", field="in_favor_of")


def _close(
    project: Project,
    dispute: Dispute,
    *,
    tx_id: str,
    in_favor_of: str,
    reason: str,
    closed_at: datetime,
    notify: bool,
) -> Dispute:
    _set_status(
        dispute,
        Dispute.Status.RESOLVED,
        resolved_in_favor_of=in_favor_of,
        close_reason=reason,
        resolved_tx_id=tx_id,
        resolved_at=closed_at,
    )
    if notify:
        _tell_parties(
            project, dispute, Notification.Type.DISPUTE_RESOLVED, _closed_news(project, dispute)
        )
    return dispute


def _closed_news(project: Project, dispute: Dispute) -> str:
    title = _title(project, dispute)
    reason = dispute.close_reason
    if reason == Reason.MILESTONE_RESET:
        return f"The dispute on {title} is closed: the milestone was reset."
    if reason == Reason.MILESTONE_RELEASED:
        return f"The dispute on {title} is closed: the client released the payment."
    if reason in PROJECT_CLOSING:
        return f"The dispute on {title} is closed: the escrow was refunded to the client."
    side = (
        "the freelancer"
        if dispute.resolved_in_favor_of == Dispute.Party.FREELANCER
        else "the client"
    )
    return f"The dispute on {title} is resolved in favour of {side}."


@transaction.atomic
def dispute_chain_closed(
    *,
    project_id: int,
    number: int,
    tx_id: str,
    in_favor_of: str,
    reason: str,
    closed_at: datetime,
    notify: bool = True,
) -> Dispute | None:
    """An event that closes the open dispute on one milestone (indexer only): dispute-resolved,
    milestone-released, force-released (in favour of `in_favor_of`: "client" or "freelancer")
    or milestone-reset ("": nobody). Returns the closed dispute; the one this `tx_id` closed
    already when seen again (idempotent); None when the milestone has no open dispute (a release
    with no dispute is the usual case). Tells both parties."""
    _check_close(reason, in_favor_of)
    project = project_lock(project_id)
    dispute = _dispute_lock(project=project, milestone_number=number, status=Dispute.Status.OPEN)
    if dispute is None:
        return Dispute.objects.filter(
            project=project, milestone_number=number, resolved_tx_id=tx_id
        ).first()
    return _close(
        project,
        dispute,
        tx_id=tx_id,
        in_favor_of=in_favor_of,
        reason=reason,
        closed_at=closed_at,
        notify=notify,
    )


@transaction.atomic
def project_disputes_chain_closed(
    *, project_id: int, tx_id: str, reason: str, closed_at: datetime, notify: bool = True
) -> list[Dispute]:
    """full-refund, emergency-refund or force-refund (indexer only): every open dispute of the
    project closes in the client's favour. Idempotent: seen again, nothing is open any more and
    nothing changes. Returns the disputes closed now."""
    if reason not in PROJECT_CLOSING:
        raise InvalidInput(f"{reason} does not close every dispute of a project.", field="reason")
    project = project_lock(project_id)
    open_ones = Dispute.objects.select_for_update().filter(
        project=project, status=Dispute.Status.OPEN
    )
    return [
        _close(
            project,
            dispute,
            tx_id=tx_id,
            in_favor_of=Dispute.Party.CLIENT,
            reason=reason,
            closed_at=closed_at,
            notify=notify,
        )
        for dispute in open_ones.order_by("milestone_number")
    ]


# --- the parties --------------------------------------------------------------------------------


def _party_dispute_lock(dispute_id: int, actor: str) -> tuple[Project, Dispute]:
    """Lock the dispute's project, then the dispute; a non-party gets NotFound as if it did not
    exist (the parties and reviewers alone may know about a dispute)."""
    project_id = Dispute.objects.filter(pk=dispute_id).values_list("project_id", flat=True).first()
    if project_id is None:
        raise NotFound(f"Dispute {dispute_id} does not exist.")
    project = project_lock(project_id)
    if not project.is_party(actor):
        raise NotProjectParty("Only the project's client and freelancer can do this.")
    return project, Dispute.objects.select_for_update().get(pk=dispute_id)


def _require_open(dispute: Dispute) -> None:
    if dispute.status != Dispute.Status.OPEN:
        raise DisputeNotOpen(f"The dispute is {dispute.status}.", extra={"status": dispute.status})


@transaction.atomic
def dispute_statement_set(*, dispute_id: int, actor: str, statement: str) -> Dispute:
    """The filer's statement, once, while the dispute is open."""
    _, dispute = _party_dispute_lock(dispute_id, actor)
    if actor != dispute.filed_by:
        raise NotDisputeFiler("Only the party who filed the dispute can give its statement.")
    _require_open(dispute)
    if dispute.statement_at is not None:
        raise StatementAlreadyGiven("The statement was already given; add evidence instead.")
    dispute.statement, dispute.statement_at = statement, timezone.now()
    dispute.save(update_fields=["statement", "statement_at", "updated_at"])
    return dispute


@transaction.atomic
def evidence_submit(
    *,
    dispute_id: int,
    actor: str,
    description: str,
    links: list[str] | None = None,
    file: EvidenceFile | None = None,
) -> Evidence:
    """A party adds evidence while the dispute is open. Evidence is never changed afterwards.
    Tells both parties and the reviewers."""
    project, dispute = _party_dispute_lock(dispute_id, actor)
    _require_open(dispute)
    evidence = Evidence.objects.create(
        dispute=dispute,
        submitted_by=actor,
        description=description,
        links=links or [],
        file_cid=file.cid if file else "",
        file_sha256=file.sha256 if file else "",
        file_name=file.name if file else "",
        file_size=file.size if file else None,
    )
    who = _role(project, actor)
    message = f"New evidence from the {who} on the dispute over {_title(project, dispute)}."
    _tell_parties(project, dispute, Notification.Type.DISPUTE_EVIDENCE_ADDED, message)
    _tell_reviewers(project, dispute, Notification.Type.DISPUTE_EVIDENCE_ADDED, message)
    return evidence


# --- the reviewers ------------------------------------------------------------------------------


@transaction.atomic
def dispute_resolution_record(
    *,
    dispute_id: int,
    reviewer: User,
    tx_id: str,
    rationale: str,
    release_to_freelancer: bool,
) -> Dispute:
    """A reviewer's wallet broadcast admin-resolve-dispute-* (`tx_id`); record it with their
    written rationale and decision. The dispute stays open: it turns resolved only when the
    indexer sees dispute-resolved. Recording again (a new broadcast after a failed one)
    replaces the previous record."""
    if not is_dispute_reviewer(reviewer):
        raise NotDisputeReviewer("Only dispute reviewers can resolve disputes.")
    if not rationale.strip():
        raise InvalidInput("Write the rationale before resolving.", field="rationale")
    project_id = Dispute.objects.filter(pk=dispute_id).values_list("project_id", flat=True).first()
    if project_id is None:
        raise NotFound(f"Dispute {dispute_id} does not exist.")
    project_lock(project_id)
    dispute = Dispute.objects.select_for_update().get(pk=dispute_id)
    _require_open(dispute)
    dispute.rationale = rationale.strip()
    dispute.resolution_release_to_freelancer = release_to_freelancer
    dispute.resolution_tx_id = tx_id
    dispute.resolution_by = reviewer.address
    dispute.resolution_recorded_at = timezone.now()
    dispute.save(
        update_fields=[
            "rationale",
            "resolution_release_to_freelancer",
            "resolution_tx_id",
            "resolution_by",
            "resolution_recorded_at",
            "updated_at",
        ]
    )
    return dispute
