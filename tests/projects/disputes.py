"""Shared set-up for the dispute tests: a funded project between two parties, a reviewer,
disputes filed and closed the way the indexer files and closes them
(projects.services.dispute_chain_filed, dispute_chain_closed), and a dispute filed on the fake
chain (tests.chainsync.hiro_server)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from django.contrib.auth.models import Group

from accounts.models import User
from chainsync.client import StacksApiClient
from notifications.models import Notification
from projects import services
from projects.models import Dispute, Project
from projects.selectors import REVIEWERS_GROUP
from tests.chainsync.hiro_server import CLIENT, HiroServer
from tests.chainsync.scenarios import fund, pending_project, sync
from tests.factories import ProjectFactory, UserFactory, make_address

FILED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
_tx = itertools.count(1)


def tx_id() -> str:
    return f"0x{next(_tx):064x}"


def reviewer(address: str | None = None) -> User:
    """A staff user in the "Dispute reviewers" group."""
    user = UserFactory(address=address or make_address(), is_staff=True)
    # get_or_create: a transactional test flushes what the migration created
    user.groups.add(Group.objects.get_or_create(name=REVIEWERS_GROUP)[0])
    return user


def active_project(*, on_chain_id: int | None = None, token: str = "STX") -> Project:
    """A funded project with two milestones of 10 (gross), client and freelancer set."""
    return ProjectFactory(
        client_address=make_address(),
        freelancer_address=make_address(),
        status=Project.Status.ACTIVE,
        on_chain_id=on_chain_id if on_chain_id is not None else next(_tx) + 1000,
        token=token,
    )


def file(
    project: Project,
    number: int = 1,
    *,
    by: str | None = None,
    book: services.DisputeBook | None = None,
    **kwargs,
) -> Dispute:
    """File a dispute as the indexer does on dispute-filed (in `book`, else on its own)."""
    return (book.filed if book is not None else services.dispute_chain_filed)(
        project_id=project.pk,
        number=number,
        filed_by=by or project.client_address,
        tx_id=kwargs.pop("tx_id", None) or tx_id(),
        block_height=kwargs.pop("block_height", 100),
        filed_at=kwargs.pop("filed_at", FILED_AT),
        **kwargs,
    )


def close(
    project: Project,
    number: int = 1,
    *,
    in_favor_of: str = "client",
    reason: str = "dispute-resolved",
    book: services.DisputeBook | None = None,
    **kwargs,
) -> Dispute | None:
    """Close the open dispute on a milestone as the indexer does (dispute-resolved for the
    client unless told otherwise; in `book`, else on its own)."""
    return (book.closed if book is not None else services.dispute_chain_closed)(
        project_id=project.pk,
        number=number,
        tx_id=kwargs.pop("tx_id", None) or tx_id(),
        in_favor_of=in_favor_of,
        reason=reason,
        closed_at=kwargs.pop("closed_at", FILED_AT),
        **kwargs,
    )


def disputed_on_chain(
    hiro: HiroServer,
    api: StacksApiClient,
    project: Project | None = None,
    *,
    submitted: bool = False,
) -> tuple[Project, Dispute]:
    """A linked project (`project`, else a new pending_project) funded on the fake chain, its
    milestone 2 (completed by the freelancer first when `submitted`) disputed there by the
    client, and its Dispute filed here as the indexer files it (idempotent if the indexer
    already did)."""
    project = project or pending_project()
    fund(hiro, project)
    sync(api)
    if submitted:
        hiro.escrow.complete_milestone(
            freelancer=project.freelancer_address, project_id=1, milestone=2
        )
    filed = hiro.escrow.file_dispute(sender=CLIENT, project_id=1, milestone=2)
    sync(api)
    project.refresh_from_db()
    dispute = file(
        project,
        2,
        by=CLIENT,
        tx_id=filed.tx_id,
        block_height=hiro.chain.tip.height,
        filed_at=FILED_AT,
    )
    return project, dispute


def inbox(type: str) -> list[tuple[str, str]]:
    """(recipient, link) of every notification of `type`, oldest first."""
    rows = Notification.objects.filter(type=type).order_by("id")
    return list(rows.values_list("recipient", "link"))
