from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from projects.models import Project
from proposals.models import Proposal
from proposals.services import proposal_accept
from stxworx.errors import ApplicationError
from tests.factories import ProjectFactory, ProposalFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_accepts_produce_exactly_one_accepted_proposal():
    # given: one open project with 8 proposals, one thread per proposal
    project = ProjectFactory()
    proposals = ProposalFactory.create_batch(8, project=project)
    barrier = threading.Barrier(len(proposals))
    outcomes: list[str] = []

    def accept(proposal_id: int) -> None:
        try:
            barrier.wait()
            proposal_accept(proposal_id=proposal_id, actor=project.client_address)
            outcomes.append("accepted")
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    # when: all accept at once
    threads = [threading.Thread(target=accept, args=(p.pk,)) for p in proposals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # then
    assert sorted(outcomes) == ["accepted"] + ["invalid_transition"] * 7, outcomes
    assert Proposal.objects.filter(status="accepted").count() == 1
    assert Proposal.objects.filter(status="rejected").count() == 7
    project.refresh_from_db()
    assert project.status == Project.Status.PENDING
    accepted = Proposal.objects.get(status="accepted")
    assert project.freelancer_address == accepted.freelancer_address
    print(f"race ran on {connection.vendor}")


@pytest.mark.django_db
def test_database_refuses_a_second_accepted_proposal():
    from django.db import IntegrityError, transaction

    project = ProjectFactory()
    ProposalFactory(project=project, status="accepted")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProposalFactory(project=project, status="accepted")
