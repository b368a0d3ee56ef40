"""`resync`: every chain-derived field rebuilt from the event log alone, deterministically;
`--from-chain` reads the contract's history again first."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from chainsync.client import StacksApiClient
from chainsync.models import ChainEvent, ChainMilestone, ChainProject, ChainTransaction
from notifications.models import Notification
from projects import services as projects_services
from projects.models import Project
from stacks import string_ascii, tuple_, uint
from tests.chainsync.hiro_server import CLIENT, DEPLOYER, FREELANCER, HiroServer, Print, events
from tests.chainsync.scenarios import (
    STX,
    chain_derived_dump,
    fund,
    indexer_settings,
    pending_project,
    sync,
)

pytestmark = pytest.mark.django_db


def history(hiro: HiroServer, api: StacksApiClient) -> dict[str, Project]:
    """A bit of everything, indexed poll by poll: a project completed through a dispute and
    reviewed by both; a fee-rate change, then an on-chain-only project with sparse slots whose
    milestone is completed then reset; terms that disagree; a refund after a dispute a fork
    undid; an event for no project; a malformed print."""
    reviewed = pending_project()
    fund(hiro, reviewed)
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    hiro.escrow.release_milestone_stx(client=CLIENT, project_id=1, milestone=1)
    hiro.escrow.file_dispute(sender=FREELANCER, project_id=1, milestone=2)
    sync(api)
    hiro.escrow.resolve_dispute_stx(project_id=1, milestone=2, to_freelancer=True)
    sync(api)
    for actor in (CLIENT, FREELANCER):
        projects_services.review_create(project_id=reviewed.pk, actor=actor, rating=5)
    _call(hiro, "set-fee-rate", events.fee_rate_updated(new_rate=500), uint(500))
    hiro.escrow.create_project_stx(
        client=CLIENT, freelancer=FREELANCER, milestones=[0, 5 * STX, 0, 7 * STX]
    )
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=2, milestone=4)
    _call(hiro, "admin-reset-milestone", events.milestone_reset(project_id=2, milestone=4))
    disagreeing = pending_project()
    fund(hiro, disagreeing, amounts=[10 * STX, 25 * STX])
    refunded = pending_project((4 * STX,))
    fund(hiro, refunded)
    sync(api)
    hiro.escrow.file_dispute(sender=CLIENT, project_id=4, milestone=1)
    sync(api)
    hiro.chain.fork(1, [])
    hiro.escrow.request_full_refund_stx(client=CLIENT, project_id=4)
    _call(
        hiro,
        "complete-milestone",
        events.milestone_completed(project_id=9, milestone=1, freelancer=FREELANCER),
    )
    _call(hiro, "set-paused", Print(tuple_({"event": string_ascii("no-such-event")})))
    sync(api)
    return {"reviewed": reviewed, "disagreeing": disagreeing, "refunded": refunded}


def _call(hiro: HiroServer, function: str, print_: Print, *args) -> None:
    hiro.chain.call(function, sender=DEPLOYER, args=list(args), prints=[print_])


def test_the_history_covers_what_resync_must_rebuild(hiro, api):
    projects = history(hiro, api)
    for project in projects.values():
        project.refresh_from_db()
    assert projects["reviewed"].status == "reviewed"
    assert projects["disagreeing"].funding_error and projects["refunded"].status == "refunded"
    assert (
        ChainProject.objects.get(on_chain_id=2).milestones.get(slot=4).amount == 7 * STX * 95 // 100
    )
    states = set(ChainEvent.objects.values_list("canonical", "state"))
    assert states == {(True, "applied"), (True, "failed"), (False, "pending")}


def test_resync_twice_gives_the_same_database_as_the_indexer_built(hiro, api):
    # given
    history(hiro, api)
    indexed = chain_derived_dump()
    notifications = Notification.objects.count()
    # when
    out = StringIO()
    call_command("resync", stdout=out)
    first = chain_derived_dump()
    call_command("resync", stdout=StringIO())
    second = chain_derived_dump()
    # then
    assert first == second == indexed
    assert Notification.objects.count() == notifications  # silent
    assert "rebuilt 4 on-chain projects" in out.getvalue()


def test_resync_repairs_a_tampered_projection(hiro, api):
    projects = history(hiro, api)
    indexed = chain_derived_dump()
    ChainMilestone.objects.filter(project__on_chain_id=1).update(released=False)
    ChainProject.objects.filter(on_chain_id=4).update(refunded=False)
    Project.objects.filter(pk=projects["reviewed"].pk).update(status="disputed")
    ChainProject.objects.filter(on_chain_id=3).delete()
    call_command("resync", stdout=StringIO())
    assert chain_derived_dump() == indexed


def test_resync_from_chain_reads_the_log_again(hiro, api):
    # given: a record that lost an event, kept an orphan as canonical and moved another
    history(hiro, api)
    indexed = chain_derived_dump()
    ChainEvent.objects.filter(event_name="dispute-resolved").delete()
    ChainEvent.objects.filter(canonical=False).update(canonical=True, state="applied")
    ChainTransaction.objects.filter(function_name="file-dispute", canonical=False).update(
        canonical=True, status="success"
    )
    ChainEvent.objects.filter(event_name="milestone-reset").update(block_height=1)
    ChainTransaction.objects.filter(function_name="admin-reset-milestone").update(
        canonical=False, status="pending"
    )
    logs_before = len(hiro.requests_to("contract_logs"))
    # when
    out = StringIO()
    with indexer_settings(hiro):
        call_command("resync", "--from-chain", stdout=out)
    # then
    assert chain_derived_dump() == indexed
    assert len(hiro.requests_to("contract_logs")) > logs_before
    assert "read 14 events in 15 transactions" in out.getvalue()
    # and the indexer carries on from there
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=2, milestone=2)
    assert sync(api).applied.applied == 1


def test_resync_from_chain_changes_nothing_when_the_api_fails(hiro, api):
    from django.core.management.base import CommandError

    history(hiro, api)
    indexed = chain_derived_dump()
    hiro.disable("principal_transactions", status=410)
    with indexer_settings(hiro), pytest.raises(CommandError, match="nothing was changed"):
        call_command("resync", "--from-chain", stdout=StringIO())
    assert chain_derived_dump() == indexed


def test_resync_from_chain_reads_unknown_create_calls_in_one_batch(hiro, api):
    # given: a record that lost the arguments of every create call
    history(hiro, api)
    indexed = chain_derived_dump()
    creates = ChainTransaction.objects.filter(function_name__startswith="create-project")
    assert creates.count() > 1
    creates.update(function_args=[])
    multiple_before = len(hiro.requests_to("tx_multiple"))
    v3_before = len(hiro.requests_to("tx_v3"))
    # when
    with indexer_settings(hiro):
        call_command("resync", "--from-chain", stdout=StringIO())
    # then: one batch request read them all, and the record is what the indexer built
    assert len(hiro.requests_to("tx_multiple")) == multiple_before + 1
    assert len(hiro.requests_to("tx_v3")) == v3_before
    assert chain_derived_dump() == indexed
