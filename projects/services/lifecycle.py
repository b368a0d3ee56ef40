"""Projects, milestones and reviews. Transitions that only the chain can cause
(`project_activate`, `project_complete`, `project_dispute_open`, `project_dispute_close`,
`project_refund`) are for the indexer; no API calls them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from files.selectors import ipfs_link_file
from projects.errors import AlreadyReviewed, NotProjectClient, NotProjectFreelancer, NotProjectParty
from projects.models import MAX_MILESTONES, Dispute, Milestone, Project, Review
from projects.services.chain_book import ChainBook
from projects.services.locks import project_lock, unresolved
from stxworx.errors import InvalidInput, InvalidTransition, NotFound

EDITABLE_FIELDS = ("title", "description", "category", "skills", "token")


@dataclass(frozen=True)
class MilestoneSpec:
    title: str
    amount: int
    description: str = ""
    due_date: date | None = None


def _transition(project: Project, to: str, *, source: str | None = None, **fields: Any) -> Project:
    """Move a locked project to `to` (only from `source`, when given), saving `fields` with it."""
    if not project.can_transition(to) or (source is not None and project.status != source):
        raise InvalidTransition(
            f"A {project.status} project cannot become {to}.",
            extra={"status": project.status, "to": to},
        )
    project.status = to
    for name, value in fields.items():
        setattr(project, name, value)
    project.save(update_fields=["status", "updated_at", *fields])
    return project


def _check_milestones(milestones: list[MilestoneSpec], budget: int) -> None:
    if not 1 <= len(milestones) <= MAX_MILESTONES:
        raise InvalidInput(f"A project has 1 to {MAX_MILESTONES} milestones.", field="milestones")
    total = sum(m.amount for m in milestones)
    if total != budget:
        raise InvalidInput(
            f"The milestone amounts add up to {total}, not to the budget {budget}.",
            field="milestones",
        )


def _milestones_replace(project: Project, milestones: list[MilestoneSpec]) -> None:
    project.milestones.all().delete()
    Milestone.objects.bulk_create(
        Milestone(
            project=project,
            number=i,
            title=m.title,
            description=m.description,
            amount=m.amount,
            due_date=m.due_date,
        )
        for i, m in enumerate(milestones, start=1)
    )


@transaction.atomic
def project_create(
    *,
    client_address: str,
    title: str,
    description: str,
    token: str,
    budget: int,
    milestones: list[MilestoneSpec],
    category: str = "",
    skills: list[str] | None = None,
) -> Project:
    _check_milestones(milestones, budget)
    project = Project.objects.create(
        client_address=client_address,
        title=title,
        description=description,
        category=category,
        skills=skills or [],
        token=token,
        budget=budget,
    )
    _milestones_replace(project, milestones)
    return project


@transaction.atomic
def project_update(
    *,
    project_id: int,
    actor: str,
    budget: int | None = None,
    milestones: list[MilestoneSpec] | None = None,
    **fields: Any,
) -> Project:
    """Edit an open project (its client only). Milestones, when given, replace the old ones."""
    project = project_lock(project_id)
    _require_client(project, actor)
    if project.status != Project.Status.OPEN:
        raise InvalidTransition(f"A {project.status} project can no longer be edited.")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput("Cannot be edited.", field=sorted(unknown)[0])
    if budget is not None or milestones is not None:
        new_budget = project.budget if budget is None else budget
        specs = milestones if milestones is not None else _milestone_specs(project)
        _check_milestones(specs, new_budget)
        project.budget = new_budget
        fields["budget"] = new_budget
        if milestones is not None:
            _milestones_replace(project, milestones)
    for name, value in fields.items():
        setattr(project, name, value)
    project.save(update_fields=[*fields, "updated_at"])
    return project


def _milestone_specs(project: Project) -> list[MilestoneSpec]:
    return [
        MilestoneSpec(m.title, m.amount, m.description, m.due_date)
        for m in project.milestones.all()
    ]


@transaction.atomic
def project_cancel(*, project_id: int, actor: str) -> Project:
    project = project_lock(project_id)
    _require_client(project, actor)
    return _transition(project, Project.Status.CANCELLED)


def project_mark_pending(*, project: Project, freelancer_address: str) -> Project:
    """A proposal was accepted. The caller holds the project's lock."""
    return _transition(project, Project.Status.PENDING, freelancer_address=freelancer_address)


@transaction.atomic
def project_activate(*, project_id: int, on_chain_id: int, funding_tx_id: str) -> Project:
    """The escrow was funded on chain (indexer only)."""
    return _chain_transition(
        project_id,
        Project.Status.ACTIVE,
        Project.Status.PENDING,
        on_chain_id=on_chain_id,
        funding_tx_id=funding_tx_id,
    )


def _chain_transition(
    project_id: int, to: str, source: str | None = None, **fields: Any
) -> Project:
    """A chain-caused transition of one project, through the indexer's book (ChainBook)."""
    book = ChainBook.of(project_id)
    book.transition(project_id, to, source, **fields)
    book.save()
    return book.rows[project_id]


@transaction.atomic
def project_funding_record(*, project_id: int, actor: str, tx_id: str) -> Project:
    """The client says which transaction funds the escrow; the indexer links the project when it
    sees project-created in that transaction (and the terms agree)."""
    project = project_lock(project_id)
    _require_client(project, actor)
    if project.status != Project.Status.PENDING:
        raise InvalidTransition(f"A {project.status} project takes no funding transaction.")
    project.funding_tx_id, project.funding_error = tx_id, ""
    project.save(update_fields=["funding_tx_id", "funding_error", "updated_at"])
    return project


@transaction.atomic
def project_funding_reject(*, project_id: int, reason: str) -> Project:
    """The funding transaction's project disagrees with this one (indexer only); it stays
    pending and says why."""
    project = project_lock(project_id)
    project.funding_error = reason[:2000]
    project.save(update_fields=["funding_error", "updated_at"])
    return project


@transaction.atomic
def project_chain_unlink(*, project_id: int) -> Project:
    """Forget everything the chain told this project (indexer only: a fork undid the funding, or
    a rebuild is about to replay its events): back to pending, unlinked, no funding
    disagreement, milestones locked with no tx, disputes void. The funding tx the client
    recorded stays."""
    project = project_lock(project_id)
    project.status, project.on_chain_id, project.funding_error = Project.Status.PENDING, None, ""
    project.save(update_fields=["status", "on_chain_id", "funding_error", "updated_at"])
    project.milestones.update(status=Milestone.Status.LOCKED, tx_hash="")
    _disputes_void(project)
    return project


def _disputes_void(project: Project) -> None:
    """Every dispute of a project about to be rebuilt from the chain becomes void until the
    replay finds its filing again (projects.services.disputes_chain.dispute_chain_filed reopens
    it). Statements, evidence and reviewers' records stay."""
    project.disputes.exclude(status=Dispute.Status.VOID).update(
        status=Dispute.Status.VOID, **unresolved(), updated_at=timezone.now()
    )


@transaction.atomic
def project_reviewed_restore(*, project_id: int) -> Project:
    """A completed project both parties have already reviewed becomes `reviewed` again
    (indexer only: the chain completed it anew, after a fork or a rebuild). No-op otherwise."""
    book = ChainBook.of(project_id)
    book.reviewed_restore(project_id)
    book.save()
    return book.rows[project_id]


@transaction.atomic
def milestone_chain_status(*, project_id: int, number: int, status: str, tx_id: str = "") -> bool:
    """Move a milestone to the status the chain gives it (indexer only), along its transition
    table. Returns whether it changed."""
    book = ChainBook.of(project_id)
    changed = book.milestone_status(project_id, number, status, tx_id)
    book.save()
    return changed


@transaction.atomic
def project_complete(*, project_id: int) -> Project:
    """Every milestone is released (indexer only)."""
    return _chain_transition(project_id, Project.Status.COMPLETED)


@transaction.atomic
def project_dispute_open(*, project_id: int) -> Project:
    """A dispute was filed on chain (indexer only)."""
    return _chain_transition(project_id, Project.Status.DISPUTED)


@transaction.atomic
def project_dispute_close(*, project_id: int) -> Project:
    """The last open dispute closed on chain (indexer only)."""
    return _chain_transition(project_id, Project.Status.ACTIVE, Project.Status.DISPUTED)


@transaction.atomic
def project_refund(*, project_id: int) -> Project:
    """The escrow was refunded on chain (indexer only)."""
    return _chain_transition(project_id, Project.Status.REFUNDED)


def _require_client(project: Project, actor: str) -> None:
    if actor != project.client_address:
        raise NotProjectClient("Only the project's client can do this.")


@transaction.atomic
def milestone_submission_record(
    *, project_id: int, number: int, actor: str, link: str, note: str = ""
) -> Milestone:
    """The freelancer records the deliverable's link. The milestone turns `submitted` only when
    the chain says so (milestone-completed, through the indexer). An `ipfs://<cid>` link must
    name a file uploaded here (InvalidInput on submissionLink otherwise)."""
    ipfs_link_file(link)
    project = project_lock(project_id)
    if actor != project.freelancer_address:
        raise NotProjectFreelancer("Only the project's freelancer can submit work.")
    if project.status not in (Project.Status.ACTIVE, Project.Status.DISPUTED):
        raise InvalidTransition(f"Work cannot be submitted on a {project.status} project.")
    milestone = _milestone_get(project, number)
    if milestone.status in (Milestone.Status.APPROVED, Milestone.Status.REFUNDED):
        raise InvalidTransition(f"Milestone {number} is already {milestone.status}.")
    milestone.submission_link = link
    milestone.submission_note = note
    milestone.submitted_at = timezone.now()
    milestone.save(update_fields=["submission_link", "submission_note", "submitted_at"])
    return milestone


def _milestone_get(project: Project, number: int) -> Milestone:
    try:
        return project.milestones.select_for_update().get(number=number)
    except Milestone.DoesNotExist:
        raise NotFound(f"Project {project.pk} has no milestone {number}.") from None


@transaction.atomic
def review_create(*, project_id: int, actor: str, rating: int, comment: str = "") -> Review:
    """A party reviews the other once the project is completed; when both have, the project
    becomes `reviewed`."""
    project = project_lock(project_id)
    if not project.is_party(actor):
        raise NotProjectParty("Only the project's client and freelancer can review it.")
    if project.status not in (Project.Status.COMPLETED, Project.Status.REVIEWED):
        raise InvalidTransition(f"A {project.status} project cannot be reviewed yet.")
    reviewee = (
        project.freelancer_address if actor == project.client_address else project.client_address
    )
    try:
        with transaction.atomic():
            review = Review.objects.create(
                project=project,
                reviewer_address=actor,
                reviewee_address=reviewee,
                rating=rating,
                comment=comment,
            )
    except IntegrityError:
        raise AlreadyReviewed("You have already reviewed this project.") from None
    if project.reviews.count() == 2:
        _transition(project, Project.Status.REVIEWED)
    return review
