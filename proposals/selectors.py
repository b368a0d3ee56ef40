from __future__ import annotations

from django.db.models import Q, QuerySet

from projects.models import Project
from proposals.models import Proposal
from stxworx.errors import NotFound


def proposal_list_for_project(
    *, project: Project, viewer: str, status: str | None = None
) -> QuerySet[Proposal]:
    """The client sees every proposal on the project; anyone else only their own."""
    qs = Proposal.objects.filter(project=project)
    if viewer != project.client_address:
        qs = qs.filter(freelancer_address=viewer)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def proposal_list_for_freelancer(
    *, address: str, viewer: str, status: str | None = None
) -> QuerySet[Proposal]:
    """A freelancer sees all their proposals; a client sees those on their own projects."""
    qs = Proposal.objects.filter(freelancer_address=address)
    if viewer != address:
        qs = qs.filter(Q(project__client_address=viewer))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def proposal_get(*, proposal_id: int, viewer: str) -> Proposal:
    """A proposal its freelancer or the project's client may see; anyone else gets a 404."""
    proposal = (
        Proposal.objects.select_related("project")
        .filter(pk=proposal_id)
        .filter(Q(freelancer_address=viewer) | Q(project__client_address=viewer))
        .first()
    )
    if proposal is None:
        raise NotFound(f"Proposal {proposal_id} does not exist.")
    return proposal
