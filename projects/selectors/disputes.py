"""Reads of disputes for the parties and the reviewers.

Reviewers are active staff users in the "Dispute reviewers" group; they see every dispute. The
parties of a project see its disputes. Anyone else gets a 404 for a dispute (as for another
user's proposal or notification) and a 403 for the dispute list of a (public) project."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery

from projects.errors import NotDisputeReviewer, NotProjectParty
from projects.models import Agreement, Dispute, Evidence, Milestone, Project, ResolutionAttempt
from stxworx.errors import NotFound

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User

REVIEWERS_GROUP = "Dispute reviewers"  # created by projects/migrations/0003


def is_dispute_reviewer(user: User | AnonymousUser | None) -> bool:
    if user is None or not user.is_authenticated or not (user.is_active and user.is_staff):
        return False
    return user.groups.filter(name=REVIEWERS_GROUP).exists()


def reviewer_addresses() -> list[str]:
    """The Stacks addresses of every reviewer (they get the reviewers' notifications)."""
    from accounts.models import User

    reviewers = User.objects.filter(is_active=True, is_staff=True, groups__name=REVIEWERS_GROUP)
    return list(reviewers.order_by("pk").values_list("address", flat=True).distinct())


def dispute_review_link(dispute_id: int) -> str:
    """The review page in the admin: the `link` of reviewers' notifications."""
    return f"/admin/projects/dispute/{dispute_id}/review/"


def _with_evidence(qs: QuerySet[Dispute]) -> QuerySet[Dispute]:
    """With the project, the evidence, both statements, and the resolution attempt (if any)
    whose transaction closed the dispute on chain (for dispute_published_rationale; no extra
    query)."""
    closing = ResolutionAttempt.objects.filter(
        dispute=OuterRef("pk"), tx_id=OuterRef("resolved_tx_id")
    )
    return (
        qs.select_related("project")
        .prefetch_related(
            Prefetch("evidence", queryset=Evidence.objects.order_by("created_at", "id")),
            "statements",
        )
        .annotate(
            _closing_rationale=Subquery(closing.values("rationale")[:1]),
            _closing_release=Subquery(closing.values("release_to_freelancer")[:1]),
        )
    )


def dispute_published_rationale(dispute: Dispute) -> str | None:
    """The rationale the parties see: that of the resolution attempt whose transaction resolved
    the dispute on chain (close reason dispute-resolved), when its decision is what the chain
    did. Otherwise none: a rationale written for an outcome that did not happen (another attempt,
    or a close by milestone-released, a refund, ...) is never published."""
    if (
        dispute.status != Dispute.Status.RESOLVED
        or dispute.close_reason != Dispute.CloseReason.DISPUTE_RESOLVED
        or not dispute.resolved_tx_id
    ):
        return None
    if hasattr(dispute, "_closing_rationale"):
        rationale, release = dispute._closing_rationale, dispute._closing_release
    else:
        attempt = ResolutionAttempt.objects.filter(
            dispute=dispute, tx_id=dispute.resolved_tx_id
        ).first()
        if attempt is None:
            return None
        rationale, release = attempt.rationale, attempt.release_to_freelancer
    if rationale is None:
        return None
    in_favor_of = Dispute.Party.FREELANCER if release else Dispute.Party.CLIENT
    return rationale if in_favor_of == dispute.resolved_in_favor_of else None


def dispute_closing_attempt_warning(dispute: Dispute) -> str | None:
    """For reviewers: why no recorded attempt explains how the dispute was closed, if so."""
    if dispute.status != Dispute.Status.RESOLVED:
        return None
    if dispute_published_rationale(dispute) is not None:
        return None
    reason = dispute.close_reason or "an unknown event"
    if not dispute.resolution_attempts.exists():
        # Resolved outside this panel (before it existed, or by the owner's wallet directly):
        # the summary says so in plain words; nothing contradicts a record here.
        return None
    if reason != Dispute.CloseReason.DISPUTE_RESOLVED:
        return (
            f"Closed on chain by {reason}, not by a recorded resolution: no rationale is "
            "shown to the parties."
        )
    return (
        "Resolved on chain by a transaction or decision that does not match a recorded "
        "attempt: no rationale is shown to the parties."
    )


def _require_party_or_reviewer(project: Project, user: User) -> None:
    if not (project.is_party(user.address) or is_dispute_reviewer(user)):
        raise NotProjectParty("Only the project's parties and dispute reviewers see its disputes.")


def dispute_list(*, project_id: int, user: User) -> QuerySet[Dispute]:
    """A project's disputes, oldest first, with their evidence (3 queries a page)."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise NotFound(f"Project {project_id} does not exist.")
    _require_party_or_reviewer(project, user)
    return _with_evidence(Dispute.objects.filter(project=project)).order_by("filed_at", "id")


def dispute_get(*, dispute_id: int, user: User) -> Dispute:
    """A dispute for its parties and the reviewers; to anyone else it does not exist (404), so
    dispute ids cannot be enumerated."""
    dispute = _with_evidence(Dispute.objects.filter(pk=dispute_id)).first()
    if dispute is None or not (dispute.project.is_party(user.address) or is_dispute_reviewer(user)):
        raise NotFound(f"Dispute {dispute_id} does not exist.")
    return dispute


# --- the reviewers ------------------------------------------------------------------------------


def _require_reviewer(user: User | AnonymousUser | None) -> None:
    if not is_dispute_reviewer(user):
        raise NotDisputeReviewer("Only dispute reviewers can see this.")


def disputed_amount() -> Subquery:
    """For annotating disputes: the disputed milestone's gross amount (base units)."""
    amounts = Milestone.objects.filter(
        project_id=OuterRef("project_id"), number=OuterRef("milestone_number")
    ).values("amount")[:1]
    return Subquery(amounts)


def admin_dispute_list(
    *, user: User | AnonymousUser | None, filters: dict[str, Any] | None = None
) -> QuerySet[Dispute]:
    """Every dispute, oldest filing first, with `amount` (the disputed milestone's gross amount)
    and `token`. Filters: status, token, project (id). Reviewers only."""
    _require_reviewer(user)
    filters = filters or {}
    qs = Dispute.objects.select_related("project").annotate(
        amount=disputed_amount(), token=F("project__token")
    )
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("token"):
        qs = qs.filter(project__token=filters["token"])
    if filters.get("project"):
        qs = qs.filter(project_id=filters["project"])
    return qs.order_by("filed_at", "id")


@dataclass
class AgreementView:
    document: dict[str, Any]
    sha256: str
    intact: bool  # the stored text still hashes to the stored SHA-256
    accepted_at: Any


def agreement_view(agreement: Agreement | None) -> AgreementView | None:
    from projects.services.agreements import agreement_sha256

    if agreement is None:
        return None
    intact = agreement_sha256(agreement.document) == agreement.sha256
    return AgreementView(
        json.loads(agreement.document), agreement.sha256, intact, agreement.accepted_at
    )


@dataclass
class DisputeReview:
    """Everything a reviewer judges a dispute by (projects.selectors.review builds it)."""

    dispute: Dispute
    project: Project
    milestone: Milestone | None
    agreement: AgreementView | None
    evidence: dict[str, list[Evidence]]  # "client" / "freelancer"
    statements: dict[str, Any] = field(default_factory=dict)  # side: DisputeStatement | None
    timeline: list[dict[str, Any]] = field(default_factory=list)
    chain: dict[str, Any] = field(default_factory=dict)
    # The uploads cited (evidence files, an ipfs:// submission), by CID, with their pin status:
    # files.models.StoredFile. `submission_cid` is set for an ipfs:// submission link, and
    # `submission_file` when those bytes were uploaded here.
    files: dict[str, Any] = field(default_factory=dict)
    submission_cid: str | None = None
    submission_file: Any = None
    # Each resolution attempt with what became of it (projects.selectors.resolution), why the
    # resolve call is not offered (or None), and, once closed, why no attempt explains it.
    attempts: list[dict[str, Any]] = field(default_factory=list)
    resolve_blocked: str | None = None
    closing_warning: str | None = None
    # The recorded attempt whose transaction resolved the dispute on chain, if any, and the
    # attempts not seen on chain yet.
    closing_attempt: ResolutionAttempt | None = None
    pending_attempts: list[ResolutionAttempt] = field(default_factory=list)

    @property
    def columns(self) -> list[dict[str, Any]]:
        """The two sides, client first: address, whether it filed, statement, evidence."""
        addresses = {"client": self.project.client_address}
        addresses["freelancer"] = self.project.freelancer_address
        return [
            {
                "side": side,
                "address": address,
                "filer": address == self.dispute.filed_by,
                "statement": self.statements.get(side),
                "evidence": self.evidence[side],
            }
            for side, address in addresses.items()
        ]
