"""Shared set-up for the dispute tests: a funded project between two parties, a reviewer, and
disputes filed the way the indexer files them (projects.services.dispute_chain_filed)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from django.contrib.auth.models import Group

from accounts.models import User
from notifications.models import Notification
from projects import services
from projects.models import Dispute, Project
from projects.selectors import REVIEWERS_GROUP
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


def file(project: Project, number: int = 1, *, by: str | None = None, **kwargs) -> Dispute:
    """File a dispute as the indexer does on dispute-filed."""
    return services.dispute_chain_filed(
        project_id=project.pk,
        number=number,
        filed_by=by or project.client_address,
        tx_id=kwargs.pop("tx_id", None) or tx_id(),
        block_height=kwargs.pop("block_height", 100),
        filed_at=kwargs.pop("filed_at", FILED_AT),
        **kwargs,
    )


def inbox(type: str) -> list[tuple[str, str]]:
    """(recipient, link) of every notification of `type`, oldest first."""
    rows = Notification.objects.filter(type=type).order_by("id")
    return list(rows.values_list("recipient", "link"))
