"""`verify_sync [--fix]` against the contract's read-only state on the loopback API, and the
django-q2 schedule that runs the reconciliation."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_q.models import Schedule

from chainsync import tasks
from chainsync.client import StacksApiClient
from chainsync.models import ChainDispute, ChainEvent, ChainMilestone, ChainProject
from chainsync.verify import live_project_ids, sync_verify
from tests.chainsync.hiro_server import CLIENT, ESCROW_CONTRACT, FREELANCER, HiroServer
from tests.chainsync.scenarios import (
    STX,
    chain_derived_dump,
    fund,
    indexer_settings,
    notes,
    pending_project,
    sync,
)

pytestmark = pytest.mark.django_db


def two_projects(hiro: HiroServer, api: StacksApiClient) -> None:
    """Project 1: milestone 1 released, a dispute open on milestone 2. Project 2: on chain only."""
    fund(hiro, pending_project())
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    hiro.escrow.release_milestone_stx(client=CLIENT, project_id=1, milestone=1)
    hiro.escrow.file_dispute(sender=CLIENT, project_id=1, milestone=2)
    hiro.escrow.create_project_stx(client=CLIENT, freelancer=FREELANCER, milestones=[3 * STX])
    sync(api)


def verify(hiro: HiroServer, *args: str) -> str:
    out = StringIO()
    with indexer_settings(hiro):
        call_command("verify_sync", *args, stdout=out)
    return out.getvalue()


def test_an_indexed_projection_is_in_sync(hiro, api):
    two_projects(hiro, api)
    reads = len(hiro.requests_to("call_read"))
    report = sync_verify(client=api, contract_id=ESCROW_CONTRACT)
    assert report.checked == 2 and report.differences == ()
    # one count; per project one get-project, four get-milestone, a get-dispute per milestone
    assert len(hiro.requests_to("call_read")) - reads == 1 + (1 + 4 + 2) + (1 + 4 + 1)
    assert "2 projects checked, 0 differed, in sync" in verify(hiro)


def test_verify_reports_a_tampered_projection_and_fix_repairs_it(hiro, api):
    # given: three fields of the projection that no longer say what the chain does
    two_projects(hiro, api)
    indexed = chain_derived_dump()
    ChainMilestone.objects.filter(project__on_chain_id=1, slot=1).update(released=False)
    ChainProject.objects.filter(on_chain_id=2).update(fee_paid=1)
    ChainDispute.objects.filter(project__on_chain_id=1).delete()
    # when / then: reported per project and field, exit status 1
    out = StringIO()
    with indexer_settings(hiro), pytest.raises(CommandError, match="2 projects differ"):
        call_command("verify_sync", stdout=out)
    report = out.getvalue()
    assert "project 1 differs:\n  milestone 1.released: ours False, chain True\n" in report
    assert "  dispute 2: ours 'absent', chain 'present'\n" in report
    assert "project 2 differs:\n  fee_paid: ours 1, chain 300000\n" in report
    # when: --fix
    fixed = verify(hiro, "--fix")
    # then: both rebuilt from the chain, in sync again, nobody told anything
    assert "repaired: 1, 2" in fixed and "in sync" in fixed
    assert chain_derived_dump() == indexed
    assert notes("chain_reorg") == []
    assert "0 differed" in verify(hiro)


def test_verify_fix_catches_a_fork_deeper_than_the_provisional_window(hiro, api, settings):
    # given: a funded project whose creation became final, then a deep fork undid it
    settings.CHAINSYNC = {**settings.CHAINSYNC, "CONFIRMATIONS": 2}
    project = pending_project()
    create = fund(hiro, project)
    hiro.chain.advance(3)
    sync(api)
    sync(api)
    hiro.chain.fork(4, [])
    assert sync(api).tail.orphaned == ()  # too deep for the tail check
    # when
    with indexer_settings(hiro, CONFIRMATIONS=2), pytest.raises(CommandError):
        call_command("verify_sync", stdout=StringIO())
    fixed = verify(hiro, "--fix")
    # then
    assert "repaired: 1" in fixed
    assert not ChainEvent.objects.get(tx_id=create.tx_id).canonical
    assert not ChainProject.objects.exists()
    project.refresh_from_db()
    assert (project.status, project.on_chain_id) == ("pending", None)
    assert sorted(notes("chain_reorg")) == sorted([CLIENT, FREELANCER])


def test_verify_finds_a_project_the_projection_misses(hiro, api):
    two_projects(hiro, api)
    ChainProject.objects.filter(on_chain_id=2).delete()
    report = sync_verify(client=api, contract_id=ESCROW_CONTRACT, on_chain_ids=[1], fix=True)
    assert [str(d) for d in report.differences] == ["project: ours 'absent', chain 'present'"]
    assert report.repaired == (2,) and report.remaining == ()
    assert ChainProject.objects.filter(on_chain_id=2).exists()


def test_the_schedule_verifies_live_projects_only(hiro, api, settings):
    two_projects(hiro, api)
    hiro.escrow.request_full_refund_stx(client=CLIENT, project_id=2)
    sync(api)
    assert live_project_ids(contract_id=ESCROW_CONTRACT) == [1, 2]  # 2 refunded lately
    settings.CHAINSYNC = {**settings.CHAINSYNC, "VERIFY_RECENT_BLOCKS": 0}
    assert live_project_ids(contract_id=ESCROW_CONTRACT) == [1]


def test_the_reconciliation_task_repairs_what_differs(hiro, api):
    two_projects(hiro, api)
    ChainMilestone.objects.filter(project__on_chain_id=1, slot=1).update(released=False)
    with indexer_settings(hiro):
        summary = tasks.chain_reconcile()
    assert summary == "2 projects checked, 1 differed, 1 rebuilt from the chain, in sync"
    assert ChainMilestone.objects.get(project__on_chain_id=1, slot=1).released


def test_the_reconciliation_task_survives_an_unreachable_api(hiro):
    with indexer_settings(hiro, STACKS_API_URL="http://127.0.0.1:9", STACKS_API_MAX_RETRIES=0):
        assert tasks.chain_reconcile().startswith("Stacks API unavailable")


def test_the_reconciliation_schedule_is_created_once():
    # migrating made it (post_migrate); making sure again, or migrating again, adds none
    tasks.schedule_ensure()
    tasks.schedule_ensure()
    call_command("migrate", verbosity=0)
    schedule = Schedule.objects.get(func=tasks.RECONCILE_TASK)
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == ("I", 5, -1)
