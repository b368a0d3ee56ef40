"""What people do with a dispute: each party's statement (one per side, rewritable while it is
open), the parties' evidence (while it is open), the reviewer's record of the resolution their
wallet broadcast (which changes nothing until the indexer sees dispute-resolved). A dispute
opens and closes only on chain (projects.services.disputes_chain).

Lock order: the project (project_lock), then its disputes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from notifications.events import project_link
from notifications.models import Notification
from notifications.services import notifications_create
from projects.errors import (
    DisputeNotOpen,
    EvidenceLimitReached,
    NotDisputeReviewer,
    NotProjectParty,
    ResolutionAlreadyRecorded,
)
from projects.models import Dispute, DisputeStatement, Evidence, Project, ResolutionAttempt
from projects.selectors.disputes import dispute_review_link, is_dispute_reviewer, reviewer_addresses
from projects.services.disputes_chain import _dispute_drafts, _role, _title
from projects.services.locks import project_lock
from stxworx.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from accounts.models import User


# Each party's evidence on one dispute is capped: the reviewers read all of it, and every item
# notifies them.
MAX_EVIDENCE_PER_PARTY = 50


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
    notifications_create(drafts=_dispute_drafts(project, dispute, recipients, type, message, link))


def _tell_parties(
    project: Project, dispute: Dispute, type: str, message: str, *, actor: str = ""
) -> None:
    """Both parties but the actor (nobody is told of what they did themselves)."""
    parties = [p for p in (project.client_address, project.freelancer_address) if p != actor]
    _tell(project, dispute, parties, type, message, project_link(project.pk))


def _tell_reviewers(project: Project, dispute: Dispute, type: str, message: str) -> None:
    _tell(project, dispute, reviewer_addresses(), type, message, dispute_review_link(dispute.pk))


def _tell_reviewers_once(project: Project, dispute: Dispute, type: str, message: str) -> None:
    """Coalesced: a reviewer who has not read their last such notice of this dispute gets no
    new one (a burst of evidence is one notice in the inbox, until read)."""
    waiting = set(
        Notification.objects.filter(
            type=type, read_at=None, payload__disputeId=dispute.pk
        ).values_list("recipient", flat=True)
    )
    recipients = [r for r in reviewer_addresses() if r not in waiting]
    _tell(project, dispute, recipients, type, message, dispute_review_link(dispute.pk))


# --- the parties --------------------------------------------------------------------------------


def _dispute_project_lock(dispute_id: int) -> Project:
    """Lock the dispute's project (the lock order's first step); NotFound for no such dispute."""
    project_id = Dispute.objects.filter(pk=dispute_id).values_list("project_id", flat=True).first()
    if project_id is None:
        raise NotFound(f"Dispute {dispute_id} does not exist.")
    return project_lock(project_id)


def _party_dispute_lock(dispute_id: int, actor: str) -> tuple[Project, Dispute]:
    """Lock the dispute's project, then the dispute. Someone who may not see the dispute gets
    NotFound as if it did not exist (the parties and reviewers alone may know about a dispute);
    a reviewer, who sees it but is no party, gets NotProjectParty (403)."""
    project = _dispute_project_lock(dispute_id)
    if not project.is_party(actor):
        if actor in reviewer_addresses():
            raise NotProjectParty("Only the project's client and freelancer can do this.")
        raise NotFound(f"Dispute {dispute_id} does not exist.")
    return project, Dispute.objects.select_for_update().get(pk=dispute_id)


def _require_open(dispute: Dispute) -> None:
    if dispute.status != Dispute.Status.OPEN:
        raise DisputeNotOpen(f"The dispute is {dispute.status}.", extra={"status": dispute.status})


@transaction.atomic
def dispute_statement_set(
    *, dispute_id: int, actor: str, text: str
) -> tuple[DisputeStatement, bool]:
    """The actor's side's statement, written or rewritten by that party while the dispute is
    open; (the statement, whether it is new). One per side (a unique constraint backs the
    locked check); the other side's is never touched. DisputeNotOpen (409) once closed; a
    reviewer gets NotProjectParty (403), anyone else NotFound (404)."""
    project, dispute = _party_dispute_lock(dispute_id, actor)
    _require_open(dispute)
    party, now = _role(project, actor), timezone.now()
    statement = dispute.statements.filter(party=party).first()
    created = statement is None
    if created:
        statement = DisputeStatement(dispute=dispute, party=party, created_at=now)
    statement.author, statement.text, statement.updated_at = actor, text, now
    statement.save()
    return statement, created


@transaction.atomic
def evidence_submit(
    *,
    dispute_id: int,
    actor: str,
    description: str,
    links: list[str] | None = None,
    file: EvidenceFile | None = None,
    file_cid: str | None = None,
) -> Evidence:
    """A party adds evidence while the dispute is open, at most MAX_EVIDENCE_PER_PARTY items
    each (EvidenceLimitReached, 409, beyond). Evidence is never changed afterwards. Tells the
    other party and the reviewers.

    `file_cid` names an upload (POST /api/files) to attach; it is looked up after the party
    check, and a malformed or unknown CID is InvalidInput on `fileCid` (400)."""
    project, dispute = _party_dispute_lock(dispute_id, actor)
    _require_open(dispute)
    if file_cid:
        from files.selectors import stored_file_for_attachment

        stored = stored_file_for_attachment(cid=file_cid, field="fileCid")
        file = EvidenceFile(stored.cid, stored.sha256, stored.name, stored.size)
    if dispute.evidence.filter(submitted_by=actor).count() >= MAX_EVIDENCE_PER_PARTY:
        raise EvidenceLimitReached(
            f"You have submitted {MAX_EVIDENCE_PER_PARTY} items of evidence, the most one party "
            "may add to a dispute.",
            extra={"limit": MAX_EVIDENCE_PER_PARTY},
        )
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
    _tell_parties(project, dispute, Notification.Type.DISPUTE_EVIDENCE_ADDED, message, actor=actor)
    _tell_reviewers_once(project, dispute, Notification.Type.DISPUTE_EVIDENCE_ADDED, message)
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
    indexer sees dispute-resolved. Every broadcast is kept (ResolutionAttempt, append-only; the
    same tx twice is a 409); the dispute's resolution_* columns show the latest. The parties see
    a rationale only if the chain resolved the dispute in that attempt's transaction.

    A decision opposite to a pending attempt is refused by the review page's form before the
    wallet signs (it needs an explicit confirmation), not here: by now the transaction is
    broadcast, and refusing its record would lose a real transaction from the audit trail."""
    if not is_dispute_reviewer(reviewer):
        raise NotDisputeReviewer("Only dispute reviewers can resolve disputes.")
    if not rationale.strip():
        raise InvalidInput("Write the rationale before resolving.", field="rationale")
    _dispute_project_lock(dispute_id)
    dispute = Dispute.objects.select_for_update().get(pk=dispute_id)
    _require_open(dispute)
    tx_id = tx_id.lower()
    if ResolutionAttempt.objects.filter(tx_id=tx_id).exists():
        raise ResolutionAlreadyRecorded(f"Transaction {tx_id} is already recorded.")
    now = timezone.now()
    ResolutionAttempt.objects.create(
        dispute=dispute,
        tx_id=tx_id,
        release_to_freelancer=release_to_freelancer,
        rationale=rationale.strip(),
        reviewer=reviewer.address,
        recorded_at=now,
    )
    dispute.rationale = rationale.strip()
    dispute.resolution_release_to_freelancer = release_to_freelancer
    dispute.resolution_tx_id = tx_id
    dispute.resolution_by = reviewer.address
    dispute.resolution_recorded_at = now
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
