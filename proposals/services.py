"""Every write to proposals. Lock order: the project, then its proposals."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from notifications.events import project_link
from notifications.models import Notification
from notifications.services import notification_create
from projects.errors import NotProjectClient
from projects.models import Project
from projects.services import agreement_freeze, project_lock, project_mark_pending
from proposals.errors import AlreadyProposed, NotProposalFreelancer, OwnProject
from proposals.models import Proposal
from stxworx.errors import InvalidTransition, NotFound


@transaction.atomic
def proposal_create(
    *,
    project_id: int,
    freelancer_address: str,
    cover_letter: str,
    proposed_budget: int,
    proposed_duration: int,
    portfolio_links: list[str] | None = None,
) -> Proposal:
    project = project_lock(project_id)
    if freelancer_address == project.client_address:
        raise OwnProject("You cannot send a proposal to your own project.")
    if project.status != Project.Status.OPEN:
        raise InvalidTransition(f"A {project.status} project takes no proposals.")
    try:
        with transaction.atomic():
            proposal = Proposal.objects.create(
                project=project,
                freelancer_address=freelancer_address,
                cover_letter=cover_letter,
                proposed_budget=proposed_budget,
                proposed_duration=proposed_duration,
                portfolio_links=portfolio_links or [],
            )
    except IntegrityError:
        raise AlreadyProposed("You have already sent a proposal to this project.") from None
    notification_create(
        recipient=project.client_address,
        type=Notification.Type.PROPOSAL_RECEIVED,
        project_id=project.pk,
        message=f"New proposal on “{project.title}”.",
        link=project_link(project.pk),
        payload={"proposalId": proposal.pk, "freelancerAddress": freelancer_address},
    )
    return proposal


def _proposal_lock(proposal_id: int) -> tuple[Project, Proposal]:
    """Lock the proposal's project, then the proposal (the house lock order)."""
    project_id = (
        Proposal.objects.filter(pk=proposal_id).values_list("project_id", flat=True).first()
    )
    if project_id is None:
        raise NotFound(f"Proposal {proposal_id} does not exist.")
    project = project_lock(project_id)
    return project, Proposal.objects.select_for_update().get(pk=proposal_id)


def _set_status(proposal: Proposal, to: str) -> None:
    if not proposal.can_transition(to):
        raise InvalidTransition(
            f"A {proposal.status} proposal cannot become {to}.",
            extra={"status": proposal.status, "to": to},
        )
    proposal.status = to
    proposal.save(update_fields=["status", "updated_at"])


@transaction.atomic
def proposal_accept(*, proposal_id: int, actor: str) -> Proposal:
    """The client accepts one proposal: every other pending one is rejected, the freelancer is set
    and the project moves to `pending` (waiting for the escrow). Race-safe: the project row is
    locked, and a partial unique index allows one accepted proposal per project."""
    project, proposal = _proposal_lock(proposal_id)
    if actor != project.client_address:
        raise NotProjectClient("Only the project's client can accept a proposal.")
    if project.status != Project.Status.OPEN:
        raise InvalidTransition(f"The project is {project.status}; it accepts no proposal.")
    _set_status(proposal, Proposal.Status.ACCEPTED)
    rejected = list(
        project.proposals.select_for_update()
        .filter(status=Proposal.Status.PENDING)
        .exclude(pk=proposal.pk)
        .values_list("pk", "freelancer_address")
    )
    Proposal.objects.filter(pk__in=[pk for pk, _ in rejected]).update(
        status=Proposal.Status.REJECTED, updated_at=proposal.updated_at
    )
    project_mark_pending(project=project, freelancer_address=proposal.freelancer_address)
    agreement_freeze(project=project, proposal=proposal)
    _notify(project, proposal.pk, proposal.freelancer_address, Notification.Type.PROPOSAL_ACCEPTED)
    for pk, address in rejected:
        _notify(project, pk, address, Notification.Type.PROPOSAL_REJECTED)
    return proposal


def _notify(project: Project, proposal_id: int, recipient: str, type: str) -> None:
    verb = "accepted" if type == Notification.Type.PROPOSAL_ACCEPTED else "declined"
    notification_create(
        recipient=recipient,
        type=type,
        project_id=project.pk,
        message=f"Your proposal on “{project.title}” was {verb}.",
        link=project_link(project.pk),
        payload={"proposalId": proposal_id},
    )


@transaction.atomic
def proposal_reject(*, proposal_id: int, actor: str) -> Proposal:
    project, proposal = _proposal_lock(proposal_id)
    if actor != project.client_address:
        raise NotProjectClient("Only the project's client can reject a proposal.")
    _set_status(proposal, Proposal.Status.REJECTED)
    _notify(project, proposal.pk, proposal.freelancer_address, Notification.Type.PROPOSAL_REJECTED)
    return proposal


@transaction.atomic
def proposal_withdraw(*, proposal_id: int, actor: str) -> Proposal:
    _, proposal = _proposal_lock(proposal_id)
    if actor != proposal.freelancer_address:
        raise NotProposalFreelancer("Only the freelancer who sent a proposal can withdraw it.")
    _set_status(proposal, Proposal.Status.WITHDRAWN)
    return proposal
