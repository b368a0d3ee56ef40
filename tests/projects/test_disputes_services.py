"""Disputes through their services: as the indexer files and closes them (idempotent by tx),
each party's statement and evidence, the reviewer's resolution record, and the agreement
frozen when a proposal is accepted."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from notifications.models import Notification
from projects import services
from projects.errors import DisputeNotOpen, NotDisputeReviewer, NotProjectParty
from projects.models import Agreement, Dispute, DisputeStatement, Evidence
from proposals import services as proposal_services
from stxworx.errors import InvalidInput, InvalidTransition, NotFound
from tests.factories import ProjectFactory, ProposalFactory, UserFactory, make_address
from tests.projects.disputes import FILED_AT, active_project, close, file, inbox, reviewer, tx_id

pytestmark = pytest.mark.django_db

T = Notification.Type


# --- filed by the chain --------------------------------------------------------------------------


def test_a_filed_dispute_is_recorded_and_both_parties_and_the_reviewers_are_told():
    project = active_project()
    staff = reviewer()
    UserFactory(is_staff=True)  # staff outside the group: not told
    # when
    dispute = file(project, 2, by=project.freelancer_address, tx_id="0x" + "ab" * 32)
    # then
    assert (dispute.status, dispute.milestone_number, dispute.filed_by) == (
        "open",
        2,
        project.freelancer_address,
    )
    assert (dispute.filed_tx_id, dispute.filed_block_height, dispute.filed_at) == (
        "0x" + "ab" * 32,
        100,
        FILED_AT,
    )
    assert inbox(T.DISPUTE_FILED) == [
        (project.client_address, f"/projects/{project.pk}"),
        (project.freelancer_address, f"/projects/{project.pk}"),
        (staff.address, f"/admin/projects/dispute/{dispute.pk}/review/"),
    ]


def test_the_same_filing_seen_again_changes_nothing_and_tells_nobody():
    project = active_project()
    first = file(project, 1, tx_id="0x" + "01" * 32)
    # when
    again = file(project, 1, tx_id="0x" + "01" * 32, block_height=999)
    # then
    assert again.pk == first.pk and again.filed_block_height == 100
    assert Dispute.objects.count() == 1
    assert len(inbox(T.DISPUTE_FILED)) == 2


def test_a_second_open_dispute_on_a_milestone_is_refused():
    project = active_project()
    file(project, 1)
    with pytest.raises(InvalidTransition):
        file(project, 1)
    assert file(project, 2).milestone_number == 2  # another milestone may be disputed


def test_a_filing_on_a_missing_milestone_or_project_is_not_found():
    project = active_project()
    with pytest.raises(NotFound):
        file(project, 3)
    with pytest.raises(NotFound):
        services.dispute_chain_filed(
            project_id=999_999,
            number=1,
            filed_by=make_address(),
            tx_id=tx_id(),
            block_height=1,
            filed_at=FILED_AT,
        )


def test_notify_false_records_silently():
    project = active_project()
    file(project, 1, notify=False)
    assert Notification.objects.count() == 0


# --- closed by the chain -------------------------------------------------------------------------


def test_dispute_resolved_closes_it_for_the_winner_and_tells_both_parties():
    project = active_project()
    reviewer()
    dispute = file(project, 1)
    closed_at = FILED_AT + timedelta(days=1)
    # when
    closed = services.dispute_chain_closed(
        project_id=project.pk,
        number=1,
        tx_id="0x" + "cd" * 32,
        in_favor_of="freelancer",
        reason="dispute-resolved",
        closed_at=closed_at,
    )
    # then
    assert closed.pk == dispute.pk
    closed.refresh_from_db()
    assert (closed.status, closed.resolved_in_favor_of, closed.close_reason) == (
        "resolved",
        "freelancer",
        "dispute-resolved",
    )
    assert (closed.resolved_tx_id, closed.resolved_at) == ("0x" + "cd" * 32, closed_at)
    assert [r for r, _ in inbox(T.DISPUTE_RESOLVED)] == [
        project.client_address,
        project.freelancer_address,
    ]
    message = Notification.objects.filter(type=T.DISPUTE_RESOLVED).first().message
    assert "in favour of the freelancer" in message


def test_a_close_seen_again_returns_the_dispute_and_tells_nobody():
    project = active_project()
    dispute = file(project, 1)
    kwargs = {
        "project_id": project.pk,
        "number": 1,
        "tx_id": "0x" + "cd" * 32,
        "in_favor_of": "client",
        "reason": "dispute-resolved",
        "closed_at": FILED_AT,
    }
    services.dispute_chain_closed(**kwargs)
    # when
    again = services.dispute_chain_closed(**kwargs)
    # then
    assert again.pk == dispute.pk and again.status == "resolved"
    assert len(inbox(T.DISPUTE_RESOLVED)) == 2


def test_a_release_of_an_undisputed_milestone_closes_nothing():
    project = active_project()
    assert close(project, 1, in_favor_of="freelancer", reason="milestone-released") is None


def test_a_milestone_reset_closes_it_for_nobody_and_a_new_dispute_may_follow():
    project = active_project()
    first = file(project, 1)
    # when
    close(project, 1, in_favor_of="", reason="milestone-reset")
    second = file(project, 1)
    # then
    first.refresh_from_db()
    assert (first.status, first.resolved_in_favor_of, first.close_reason) == (
        "resolved",
        "",
        "milestone-reset",
    )
    assert second.pk != first.pk and second.status == "open"


def test_a_refund_closes_every_open_dispute_for_the_client():
    project = active_project()
    one, two = file(project, 1), file(project, 2, by=project.freelancer_address)
    # when
    closed = services.project_disputes_chain_closed(
        project_id=project.pk, tx_id=tx_id(), reason="force-refund", closed_at=FILED_AT
    )
    # then
    assert [d.pk for d in closed] == [one.pk, two.pk]
    assert set(Dispute.objects.values_list("status", "resolved_in_favor_of")) == {
        ("resolved", "client")
    }
    assert len(inbox(T.DISPUTE_RESOLVED)) == 4
    # seen again: nothing is open, nothing changes
    again = services.project_disputes_chain_closed(
        project_id=project.pk, tx_id=tx_id(), reason="force-refund", closed_at=FILED_AT
    )
    assert again == []


def test_a_close_with_an_unknown_reason_or_side_is_refused():
    project = active_project()
    file(project, 1)
    common = {"project_id": project.pk, "number": 1, "tx_id": tx_id(), "closed_at": FILED_AT}
    with pytest.raises(InvalidInput):
        services.dispute_chain_closed(**common, in_favor_of="client", reason="project-created")
    with pytest.raises(InvalidInput):
        services.dispute_chain_closed(**common, in_favor_of="nobody", reason="dispute-resolved")
    with pytest.raises(InvalidInput):
        services.project_disputes_chain_closed(
            project_id=project.pk, tx_id=tx_id(), reason="dispute-resolved", closed_at=FILED_AT
        )


def test_a_rebuild_voids_disputes_and_the_replay_reopens_the_ones_the_chain_still_has():
    project = active_project()
    kept = file(project, 1, tx_id="0x" + "11" * 32)
    orphaned = file(project, 2, tx_id="0x" + "22" * 32)
    services.evidence_submit(dispute_id=kept.pk, actor=project.client_address, description="x")
    close(project)
    Notification.objects.all().delete()
    # when: the project is unlinked for a rebuild, and the replay finds only the first filing
    services.project_chain_unlink(project_id=project.pk)
    assert set(Dispute.objects.values_list("status", flat=True)) == {"void"}
    file(project, 1, tx_id="0x" + "11" * 32, notify=False, block_height=107)  # mined again
    # then
    kept.refresh_from_db()
    orphaned.refresh_from_db()
    assert (kept.status, kept.resolved_tx_id, kept.close_reason) == ("open", "", "")
    assert kept.filed_block_height == 107
    assert orphaned.status == "void"
    assert kept.evidence.count() == 1  # evidence survives
    assert Notification.objects.count() == 0


# --- the parties ---------------------------------------------------------------------------------


def test_each_party_writes_one_statement_and_may_rewrite_it_while_open():
    project = active_project()
    dispute = file(project, 1, by=project.client_address)
    # when: both sides write theirs, then the freelancer rewrites
    client_side, new = services.dispute_statement_set(
        dispute_id=dispute.pk, actor=project.client_address, text="Nothing was delivered."
    )
    assert new and client_side.party == "client"
    first, _ = services.dispute_statement_set(
        dispute_id=dispute.pk, actor=project.freelancer_address, text="It was, on time."
    )
    rewritten, new = services.dispute_statement_set(
        dispute_id=dispute.pk, actor=project.freelancer_address, text="Delivered on the 3rd."
    )
    # then: one row per side, the rewrite in place, the other side untouched
    assert not new and rewritten.pk == first.pk
    assert rewritten.created_at == first.created_at < rewritten.updated_at
    rows = DisputeStatement.objects.filter(dispute=dispute).order_by("party")
    assert [(r.party, r.author, r.text) for r in rows] == [
        ("client", project.client_address, "Nothing was delivered."),
        ("freelancer", project.freelancer_address, "Delivered on the 3rd."),
    ]


def test_a_statement_cannot_change_once_the_dispute_is_closed():
    project = active_project()
    dispute = file(project, 1, by=project.client_address)
    services.dispute_statement_set(
        dispute_id=dispute.pk, actor=project.client_address, text="Nothing was delivered."
    )
    close(project, 1)
    for actor in (project.client_address, project.freelancer_address):
        with pytest.raises(DisputeNotOpen):
            services.dispute_statement_set(dispute_id=dispute.pk, actor=actor, text="late")
    assert list(DisputeStatement.objects.values_list("text", flat=True)) == [
        "Nothing was delivered."
    ]


def test_only_the_parties_write_statements():
    project = active_project()
    dispute = file(project, 1, by=project.client_address)
    with pytest.raises(NotFound):  # to a stranger, the dispute does not exist
        services.dispute_statement_set(dispute_id=dispute.pk, actor=make_address(), text="mine")
    with pytest.raises(NotProjectParty):  # a reviewer knows it, but is no party
        services.dispute_statement_set(dispute_id=dispute.pk, actor=reviewer().address, text="mine")
    with pytest.raises(NotFound):
        services.dispute_statement_set(dispute_id=424242, actor=project.client_address, text="x")
    assert not DisputeStatement.objects.exists()


def test_the_database_holds_one_statement_per_side():
    project = active_project()
    dispute = file(project, 1, by=project.client_address)
    services.dispute_statement_set(dispute_id=dispute.pk, actor=project.client_address, text="a")
    row = DisputeStatement.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        DisputeStatement.objects.create(
            dispute=dispute,
            party="client",
            author=project.client_address,
            text="b",
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


def test_evidence_is_added_by_either_party_and_everyone_concerned_is_told():
    project = active_project()
    staff = reviewer()
    dispute = file(project, 1, notify=False)
    # when
    evidence = services.evidence_submit(
        dispute_id=dispute.pk,
        actor=project.freelancer_address,
        description="The PR was merged on time.",
        links=["https://github.com/me/logo/pull/1"],
        file=services.EvidenceFile("bafkreiabc", "aa" * 32, "log.txt", 12),
    )
    # then
    assert (evidence.submitted_by, evidence.links) == (
        project.freelancer_address,
        ["https://github.com/me/logo/pull/1"],
    )
    assert (evidence.file_cid, evidence.file_sha256, evidence.file_name, evidence.file_size) == (
        "bafkreiabc",
        "aa" * 32,
        "log.txt",
        12,
    )
    # the other party and the reviewers; not the freelancer, who submitted it
    assert [r for r, _ in inbox(T.DISPUTE_EVIDENCE_ADDED)] == [
        project.client_address,
        staff.address,
    ]


def test_evidence_is_refused_from_others_and_once_the_dispute_is_closed():
    project = active_project()
    dispute = file(project, 1)
    with pytest.raises(NotFound):
        services.evidence_submit(dispute_id=dispute.pk, actor=make_address(), description="x")
    close(project)
    with pytest.raises(DisputeNotOpen):
        services.evidence_submit(
            dispute_id=dispute.pk, actor=project.client_address, description="late"
        )
    with pytest.raises(NotFound):
        services.evidence_submit(dispute_id=12345, actor=project.client_address, description="x")
    assert Evidence.objects.count() == 0


# --- the reviewer's record -----------------------------------------------------------------------


def test_a_reviewer_records_the_resolution_tx_and_the_dispute_stays_open():
    project = active_project()
    staff = reviewer()
    dispute = file(project, 1)
    # when
    recorded = services.dispute_resolution_record(
        dispute_id=dispute.pk,
        reviewer=staff,
        tx_id="0x" + "ef" * 32,
        rationale="  The work matches the agreed milestone.  ",
        release_to_freelancer=True,
    )
    # then
    assert recorded.status == "open"
    assert (recorded.rationale, recorded.resolution_release_to_freelancer) == (
        "The work matches the agreed milestone.",
        True,
    )
    assert (recorded.resolution_tx_id, recorded.resolution_by) == ("0x" + "ef" * 32, staff.address)


def test_only_a_reviewer_with_a_rationale_records_a_resolution():
    project = active_project()
    dispute = file(project, 1)
    common = {"dispute_id": dispute.pk, "tx_id": tx_id(), "release_to_freelancer": False}
    with pytest.raises(NotDisputeReviewer):
        services.dispute_resolution_record(
            **common, reviewer=UserFactory(is_staff=True), rationale="x"
        )
    with pytest.raises(InvalidInput):
        services.dispute_resolution_record(**common, reviewer=reviewer(), rationale="   ")


# --- the frozen agreement ------------------------------------------------------------------------


def test_accepting_a_proposal_freezes_the_agreement_with_its_sha256():
    project = ProjectFactory(milestones=2)
    proposal = ProposalFactory(project=project, portfolio_links=["https://me.dev"])
    # when
    proposal_services.proposal_accept(proposal_id=proposal.pk, actor=project.client_address)
    # then
    agreement = Agreement.objects.get(project=project)
    assert agreement.proposal_id == proposal.pk
    assert services.agreement_sha256(agreement.document) == agreement.sha256
    document = json.loads(agreement.document)
    assert services.agreement_canonical(document) == agreement.document
    assert document["project"]["freelancerAddress"] == proposal.freelancer_address
    assert document["project"]["budget"] == project.budget
    assert [(m["number"], m["amount"]) for m in document["milestones"]] == [
        (1, project.budget // 2),
        (2, project.budget - project.budget // 2),
    ]
    assert document["proposal"]["portfolioLinks"] == ["https://me.dev"]
    # a later edit of the live rows does not touch it
    project.milestones.filter(number=1).update(title="Something else")
    agreement.refresh_from_db()
    assert json.loads(agreement.document)["milestones"][0]["title"] == "Milestone 1"


def test_an_agreement_is_frozen_once_per_project():
    project = ProjectFactory()
    proposal = ProposalFactory(project=project)
    services.agreement_freeze(project=project, proposal=proposal)
    with pytest.raises(IntegrityError):
        services.agreement_freeze(project=project, proposal=proposal)


# --- a batch's book (what the indexer's set-based apply uses) -------------------------------------


def _book_of(*projects):
    return services.DisputeBook.of(projects)


def test_a_book_applies_a_batch_in_order_and_saves_in_a_few_statements(
    django_assert_max_num_queries,
):
    projects = [active_project() for _ in range(6)]
    staff = reviewer()
    book = _book_of(*projects)
    # when: each project's milestone 1 is disputed, closed, reset-closed, and filed again
    for p in projects:
        file(p, 1, book=book, block_height=1)
        close(p, 1, book=book, in_favor_of="", reason="milestone-reset")
        file(p, 1, by=p.freelancer_address, book=book, block_height=2)
    # then: the insert and the reviewers' lookup, whatever the number of projects
    with django_assert_max_num_queries(2):
        drafts = book.save()
    rows = list(Dispute.objects.order_by("id").values_list("project_id", "status", "filed_by"))
    assert rows == [
        row
        for p in projects
        for row in ((p.pk, "resolved", p.client_address), (p.pk, "open", p.freelancer_address))
    ]
    assert all(d.payload["disputeId"] for d in drafts)
    to_reviewer = [d for d in drafts if d.recipient == staff.address]
    assert len(to_reviewer) == 12 and to_reviewer[0].link.startswith("/admin/projects/dispute/")


def test_a_book_closes_existing_and_reopens_void_disputes_without_breaking_one_open_per_milestone():
    project = active_project()
    old = file(project, 1, tx_id="0x" + "aa" * 32, notify=False)
    services.project_chain_unlink(project_id=project.pk)  # void, as before a rebuild
    newer = file(project, 2, tx_id="0x" + "bb" * 32, notify=False)
    project.refresh_from_db()
    book = _book_of(project)
    # when: the replay finds the first filing again and closes the second
    file(project, 1, book=book, tx_id="0x" + "aa" * 32, block_height=1, notify=False)
    close(project, 2, book=book, notify=False)
    assert book.save() == []
    # then
    old.refresh_from_db()
    newer.refresh_from_db()
    assert (old.status, newer.status) == ("open", "resolved")


def test_an_event_the_book_refuses_leaves_no_trace():
    project = active_project()
    book = _book_of(project)
    file(project, 1, book=book, block_height=1)
    news = len(book.news)
    with pytest.raises(InvalidTransition):
        file(project, 1, by=project.freelancer_address, book=book, block_height=2)
    with pytest.raises(NotFound):
        file(project, 4, book=book, block_height=2)
    with pytest.raises(NotFound):
        book.closed(
            project_id=999_999,
            number=1,
            tx_id=tx_id(),
            in_favor_of="client",
            reason="dispute-resolved",
            closed_at=FILED_AT,
        )
    assert len(book.rows) == 1 and len(book.news) == news
    book.save()
    assert Dispute.objects.count() == 1


def test_a_book_without_dispute_events_reads_and_writes_nothing(django_assert_num_queries):
    book = services.DisputeBook([active_project()], {})
    with django_assert_num_queries(0):
        assert book.save() == []


def test_each_party_adds_at_most_the_evidence_limit(monkeypatch):
    from projects.errors import EvidenceLimitReached
    from projects.services import disputes as dispute_services

    monkeypatch.setattr(dispute_services, "MAX_EVIDENCE_PER_PARTY", 3)
    project = active_project()
    dispute = file(project, 1, notify=False)
    for n in range(3):
        services.evidence_submit(
            dispute_id=dispute.pk, actor=project.client_address, description=f"item {n}"
        )
    # when
    with pytest.raises(EvidenceLimitReached) as refused:
        services.evidence_submit(
            dispute_id=dispute.pk, actor=project.client_address, description="one too many"
        )
    # then: the limit is per party
    assert refused.value.http_status == 409
    services.evidence_submit(
        dispute_id=dispute.pk, actor=project.freelancer_address, description="my first"
    )
    assert dispute.evidence.filter(submitted_by=project.client_address).count() == 3


def test_reviewers_get_one_unread_evidence_notice_per_dispute():
    project = active_project()
    staff = reviewer()
    dispute = file(project, 1, notify=False)
    other_dispute = file(project, 2, notify=False)
    for n in range(3):
        services.evidence_submit(
            dispute_id=dispute.pk, actor=project.client_address, description=f"item {n}"
        )
    services.evidence_submit(
        dispute_id=other_dispute.pk, actor=project.client_address, description="elsewhere"
    )
    notices = Notification.objects.filter(
        type=T.DISPUTE_EVIDENCE_ADDED, recipient=staff.address
    ).order_by("id")
    # then: one per dispute while unread; the other party gets every one
    assert [n.payload["disputeId"] for n in notices] == [dispute.pk, other_dispute.pk]
    assert len(inbox(T.DISPUTE_EVIDENCE_ADDED)) == 2 + 4
    # once read, the next evidence notifies again
    notices.update(read_at=FILED_AT)
    services.evidence_submit(
        dispute_id=dispute.pk, actor=project.freelancer_address, description="reply"
    )
    assert notices.filter(read_at=None).count() == 1
