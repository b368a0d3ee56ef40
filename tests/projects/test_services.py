from __future__ import annotations

import pytest

from projects import services
from projects.models import Project
from stxworx.errors import InvalidTransition, NotFound
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

S = Project.Status
ALL = list(S)

CHAIN_TRANSITIONS = {
    "project_complete": (S.ACTIVE, S.COMPLETED),
    "project_dispute_open": (S.ACTIVE, S.DISPUTED),
    "project_dispute_close": (S.DISPUTED, S.ACTIVE),
}


def test_transition_table_matches_the_lifecycle():
    assert {
        S.OPEN: {S.PENDING, S.CANCELLED},
        S.PENDING: {S.ACTIVE, S.REFUNDED},
        S.ACTIVE: {S.COMPLETED, S.DISPUTED, S.REFUNDED},
        S.DISPUTED: {S.ACTIVE, S.REFUNDED},
        S.COMPLETED: {S.REVIEWED},
        S.REVIEWED: set(),
        S.REFUNDED: set(),
        S.CANCELLED: set(),
    } == Project.TRANSITIONS


@pytest.mark.parametrize("name", sorted(CHAIN_TRANSITIONS))
@pytest.mark.parametrize("start", ALL)
def test_chain_transitions_follow_the_table(name, start):
    project = ProjectFactory(status=start)
    service = getattr(services, name)
    source, target = CHAIN_TRANSITIONS[name]
    if start == source:
        assert service(project_id=project.pk).status == target
    else:
        with pytest.raises(InvalidTransition):
            service(project_id=project.pk)
        project.refresh_from_db()
        assert project.status == start


@pytest.mark.parametrize("start", ALL)
def test_refund_from_pending_active_or_disputed_only(start):
    project = ProjectFactory(status=start)
    if start in (S.PENDING, S.ACTIVE, S.DISPUTED):
        assert services.project_refund(project_id=project.pk).status == S.REFUNDED
    else:
        with pytest.raises(InvalidTransition):
            services.project_refund(project_id=project.pk)


def test_activate_records_the_chain_ids():
    project = ProjectFactory(status=S.PENDING)
    services.project_activate(project_id=project.pk, on_chain_id=7, funding_tx_id="0x" + "ab" * 32)
    project.refresh_from_db()
    assert (project.status, project.on_chain_id) == (S.ACTIVE, 7)
    with pytest.raises(InvalidTransition):
        services.project_activate(project_id=project.pk, on_chain_id=8, funding_tx_id="0x")


def test_missing_project_is_not_found():
    with pytest.raises(NotFound):
        services.project_complete(project_id=12345)
