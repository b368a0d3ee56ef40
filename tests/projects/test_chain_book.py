"""The chain-driven lifecycle (projects.services.chain_book): the one-event services run a book of
one project, and a batch's events step the same rules, so the two cannot disagree."""

from __future__ import annotations

import pytest

from notifications.models import Notification
from projects import services
from projects.models import Milestone, Project
from projects.services.chain_book import ChainBook, ChainFacts
from stxworx.errors import InvalidTransition, NotFound
from tests.factories import ProjectFactory, ReviewFactory, make_address

pytestmark = pytest.mark.django_db

S, M = Project.Status, Milestone.Status
TX = "0x" + "cd" * 32


def facts(project: Project, **values) -> ChainFacts:
    base = {
        "tx_id": TX,
        "event_name": "milestone-released",
        "block_height": 10,
        "at": None,
        "on_chain_id": 7,
        "created_tx": "0x" + "ab" * 32,
        "client": project.client_address,
        "freelancer": project.freelancer_address,
        "token": project.token,
        "amounts": {m.number: m.amount for m in project.milestones.all()},
        "status": S.ACTIVE,
        "milestones": {},
    }
    return ChainFacts(**{**base, **values})


def pending() -> Project:
    return ProjectFactory(status=S.PENDING, freelancer_address=make_address())


def test_a_refused_chain_transition_says_from_what_to_what():
    project = ProjectFactory(status=S.REFUNDED)
    with pytest.raises(InvalidTransition) as raised:
        services.project_complete(project_id=project.pk)
    assert raised.value.extra == {"status": S.REFUNDED, "to": S.COMPLETED}
    project.refresh_from_db()
    assert project.status == S.REFUNDED


def test_milestone_chain_status_follows_the_table_and_keeps_the_tx():
    project = ProjectFactory(status=S.ACTIVE)
    assert services.milestone_chain_status(
        project_id=project.pk, number=1, status=M.SUBMITTED, tx_id=TX
    )
    assert not services.milestone_chain_status(project_id=project.pk, number=1, status=M.SUBMITTED)
    with pytest.raises(InvalidTransition):
        services.milestone_chain_status(project_id=project.pk, number=2, status=M.APPROVED)
    with pytest.raises(NotFound):
        services.milestone_chain_status(project_id=project.pk, number=3, status=M.SUBMITTED)
    m = project.milestones.get(number=1)
    assert (m.status, m.tx_hash) == (M.SUBMITTED, TX)
    assert project.milestones.get(number=2).status == M.LOCKED


def test_reviewed_restore_only_when_both_parties_reviewed():
    project = ProjectFactory(status=S.COMPLETED, freelancer_address=make_address())
    assert services.project_reviewed_restore(project_id=project.pk).status == S.COMPLETED
    for reviewer, reviewee in [
        (project.client_address, project.freelancer_address),
        (project.freelancer_address, project.client_address),
    ]:
        ReviewFactory(project=project, reviewer_address=reviewer, reviewee_address=reviewee)
    assert services.project_reviewed_restore(project_id=project.pk).status == S.REVIEWED
    project.refresh_from_db()
    assert project.status == S.REVIEWED


def test_a_funding_event_links_the_project_and_activates_it():
    project = pending()
    Project.objects.filter(pk=project.pk).update(funding_tx_id=TX)
    book = ChainBook.load(pks=set(), funding_txs={TX})
    assert book.funded == {TX: project.pk}
    assert book.event(project.pk, facts(project, funding=True, event_name="project-created"))
    book.save()
    project.refresh_from_db()
    assert (project.status, project.on_chain_id, project.funding_tx_id) == (
        S.ACTIVE,
        7,
        "0x" + "ab" * 32,
    )
    kinds = set(Notification.objects.filter(project_id=project.pk).values_list("type", flat=True))
    assert kinds == {Notification.Type.PROJECT_FUNDED}


def test_a_funding_event_on_other_terms_records_why_and_links_nothing():
    project = pending()
    book = ChainBook.load(pks={project.pk}, funding_txs=set())
    linked = book.event(project.pk, facts(project, funding=True, token="SBTC"))
    book.save()
    project.refresh_from_db()
    assert linked is None
    assert (project.status, project.funding_error) == (
        S.PENDING,
        f"token SBTC is not the project's {project.token}",
    )


def test_a_step_that_fails_leaves_no_trace_and_says_the_services_reason():
    project = ProjectFactory(status=S.ACTIVE)
    book = ChainBook.load(pks={project.pk}, funding_txs=set())
    released = facts(project, status=S.COMPLETED, milestones={1: M.APPROVED, 2: M.APPROVED})
    book.event(project.pk, facts(project, status=S.REFUNDED, milestones={1: M.REFUNDED}))
    with pytest.raises(InvalidTransition) as raised:
        book.event(project.pk, released)  # refunded cannot become completed
    assert raised.value.message == "Milestone 1 cannot go from refunded to approved."
    book.save()
    project.refresh_from_db()
    assert project.status == S.REFUNDED
    statuses = project.milestones.order_by("number").values_list("status", flat=True)
    assert list(statuses) == [M.REFUNDED, M.LOCKED]


def test_disputed_to_completed_walks_through_active_and_restores_reviews():
    project = ProjectFactory(status=S.DISPUTED, freelancer_address=make_address())
    for reviewer, reviewee in [
        (project.client_address, project.freelancer_address),
        (project.freelancer_address, project.client_address),
    ]:
        ReviewFactory(project=project, reviewer_address=reviewer, reviewee_address=reviewee)
    project.milestones.update(status=M.DISPUTED)
    book = ChainBook.load(pks={project.pk}, funding_txs=set())
    book.event(
        project.pk, facts(project, status=S.COMPLETED, milestones={1: M.APPROVED, 2: M.APPROVED})
    )
    book.save()
    project.refresh_from_db()
    assert project.status == S.REVIEWED
    news = Notification.objects.filter(project_id=project.pk)
    assert news.filter(type=Notification.Type.MILESTONE_APPROVED).count() == 2
    assert news.filter(type=Notification.Type.PAYMENT_RELEASED).count() == 4  # 2 + both parties
