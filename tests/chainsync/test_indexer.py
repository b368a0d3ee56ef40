"""The indexer end to end against the loopback Hiro API: events fetched, applied to the
projection in chain order, the linked off-chain project kept in step, parties notified."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import override_settings

from chainsync.handlers.apply import events_apply
from chainsync.log.fetch import chain_fetch
from chainsync.models import ChainEvent, ChainMilestone, ChainProject, SyncState
from projects.models import Project
from stacks import string_ascii, tuple_, uint
from tests.chainsync.hiro_server import CLIENT, ESCROW_CONTRACT, FREELANCER, Print
from tests.chainsync.scenarios import fund, notes, pending_project, sync

pytestmark = pytest.mark.django_db

STX = 1_000_000


def test_a_funded_project_becomes_active_and_follows_the_chain(hiro, api):
    project = pending_project()
    fund(hiro, project)
    # when: the escrow is funded
    sync(api)
    project.refresh_from_db()
    chain = ChainProject.objects.get(on_chain_id=1)
    # then
    assert (project.status, project.on_chain_id, chain.project_id) == ("active", 1, project.pk)
    assert int(chain.gross_amount) == 30 * STX and int(chain.total_amount) == 27 * STX
    assert [(m.slot, int(m.gross_amount), int(m.amount)) for m in chain.milestones.all()] == [
        (1, 10 * STX, 9 * STX),
        (2, 20 * STX, 18 * STX),
    ]
    assert sorted(notes("project_funded")) == sorted([CLIENT, FREELANCER])
    # the freelancer completes milestone 1; the client is told
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    sync(api)
    assert project.milestones.get(number=1).status == "submitted"
    assert notes("milestone_submitted") == [CLIENT]
    # the client releases it; the freelancer is paid
    hiro.escrow.release_milestone_stx(client=CLIENT, project_id=1, milestone=1)
    sync(api)
    assert project.milestones.get(number=1).status == "approved"
    assert notes("payment_released") == [FREELANCER]
    # a dispute on milestone 2, resolved for the freelancer: the project completes
    hiro.escrow.file_dispute(sender=CLIENT, project_id=1, milestone=2)
    sync(api)
    project.refresh_from_db()
    assert project.status == "disputed"
    assert project.milestones.get(number=2).status == "disputed"
    hiro.escrow.resolve_dispute_stx(project_id=1, milestone=2, to_freelancer=True)
    sync(api)
    project.refresh_from_db()
    assert project.status == "completed"
    assert project.milestones.get(number=2).status == "approved"
    assert sorted(notes("dispute_resolved")) == sorted([CLIENT, FREELANCER])
    assert ChainEvent.objects.filter(state="applied").count() == 5
    state = SyncState.objects.get(contract_id=ESCROW_CONTRACT)
    assert state.events_applied == 5 and state.last_error == "" and state.last_success_at


def test_known_amounts_need_no_transaction_lookup(hiro, api):
    fund(hiro, pending_project())
    result = sync(api)
    assert result.lookups == 0
    assert hiro.requests_to("tx_v3") == [] and hiro.requests_to("tx_v1") == []
    assert hiro.requests_to("tx_multiple") == []


def test_a_project_created_only_on_chain_is_indexed_too(hiro, api):
    hiro.escrow.create_project_stx(
        client=CLIENT, freelancer=FREELANCER, milestones=[0, 5 * STX, 0, 7 * STX]
    )
    result = sync(api)
    assert result.lookups == 1  # its amounts come from the call's arguments
    chain = ChainProject.objects.get(on_chain_id=1)
    assert chain.project is None
    assert [(m.slot, int(m.amount)) for m in chain.milestones.all()] == [
        (2, 4_500_000),
        (4, 6_300_000),
    ]
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=4)
    sync(api)
    assert ChainMilestone.objects.get(project=chain, slot=4).complete


def test_the_amounts_of_many_creations_are_read_fifty_calls_a_request(hiro, api):
    # given: 60 projects created only on chain, so the amounts of each need its call's arguments
    for n in range(60):
        hiro.escrow.create_project_stx(
            client=CLIENT, freelancer=FREELANCER, milestones=[(n + 1) * STX, 0, 0, 0]
        )
    # when
    result = sync(api)
    # then: two batch requests, no look-up of its own for any call, and every amount right
    assert result.lookups == 60
    assert [len(r.params["tx_id"]) for r in hiro.requests_to("tx_multiple")] == [50, 10]
    assert hiro.requests_to("tx_v3") == [] and hiro.requests_to("tx_v1") == []
    amounts = {
        chain.on_chain_id: [int(m.gross_amount) for m in chain.milestones.all()]
        for chain in ChainProject.objects.all()
    }
    assert amounts == {n + 1: [(n + 1) * STX] for n in range(60)}


def test_terms_that_disagree_are_recorded_and_the_project_stays_pending(hiro, api):
    project = pending_project()
    fund(hiro, project, amounts=[10 * STX, 25 * STX])
    sync(api)
    project.refresh_from_db()
    assert project.status == "pending" and project.on_chain_id is None
    assert "milestone amounts" in project.funding_error
    assert ChainProject.objects.get(on_chain_id=1).project is None


def test_full_refund_refunds_the_project_and_tells_both(hiro, api):
    project = pending_project()
    fund(hiro, project)
    hiro.escrow.request_full_refund_stx(client=CLIENT, project_id=1)
    sync(api)
    project.refresh_from_db()
    assert project.status == "refunded"
    assert set(project.milestones.values_list("status", flat=True)) == {"refunded"}
    assert ChainProject.objects.get(on_chain_id=1).refunded


def test_an_event_that_does_not_fit_fails_and_the_rest_go_on(hiro, api):
    project = pending_project()
    fund(hiro, project)
    ghost = Print(
        tuple_(
            {
                "event": string_ascii("milestone-completed"),
                "project-id": uint(9),
                "milestone": uint(1),
                "freelancer": _principal(FREELANCER),
            }
        )
    )
    hiro.chain.call(
        "complete-milestone", sender=FREELANCER, args=[uint(9), uint(1)], prints=[ghost]
    )
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    result = sync(api)
    assert (result.applied.applied, result.applied.failed) == (2, 1)
    failed = ChainEvent.objects.get(state="failed")
    assert failed.error == "ProjectionError: project 9 was never created"
    assert project.milestones.get(number=1).status == "submitted"


def _principal(address: str):
    from stacks import principal

    return principal(address)


def test_a_crash_between_batches_loses_nothing_and_applies_nothing_twice(hiro, api, monkeypatch):
    project = pending_project()
    fund(hiro, project)
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    hiro.escrow.release_milestone_stx(client=CLIENT, project_id=1, milestone=1)
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=2)
    chain_fetch(client=api, contract_id=ESCROW_CONTRACT)
    from chainsync.handlers import apply

    real = apply.events_batch_apply
    calls = []

    def crash_on_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real(*args, **kwargs)

    monkeypatch.setattr(apply, "events_batch_apply", crash_on_second_batch)
    with pytest.raises(RuntimeError):
        events_apply(contract_id=ESCROW_CONTRACT, batch_size=2)
    assert ChainEvent.objects.filter(state="applied").count() == 2
    monkeypatch.setattr(apply, "events_batch_apply", real)
    # restart
    events_apply(contract_id=ESCROW_CONTRACT, batch_size=2)
    assert ChainEvent.objects.filter(state="applied").count() == 4
    assert notes("payment_released") == [FREELANCER]  # once
    assert SyncState.objects.get(contract_id=ESCROW_CONTRACT).events_applied == 4
    assert project.milestones.get(number=2).status == "submitted"


def test_settings_events_update_the_contract_settings(hiro, api):
    from chainsync.models import ContractSettings
    from tests.chainsync.hiro_server import events

    hiro.chain.call(
        "set-fee-rate",
        sender=CLIENT,
        args=[uint(500)],
        prints=[events.fee_rate_updated(new_rate=500)],
    )
    hiro.chain.call(
        "set-paused", sender=CLIENT, prints=[events.contract_paused_updated(paused=True)]
    )
    sync(api)
    settings = ContractSettings.objects.get(contract_id=ESCROW_CONTRACT)
    assert (settings.fee_rate, settings.paused) == (500, True)


def test_run_indexer_once_against_the_api(hiro, settings):
    fund(hiro, pending_project())
    conf = {
        **settings.CHAINSYNC,
        "STACKS_API_URL": hiro.url,
        "STACKS_API_RATE_LIMIT": 0,
        "ESCROW_CONTRACT_ID": ESCROW_CONTRACT,
    }
    with override_settings(CHAINSYNC=conf):
        call_command("run_indexer", "--once")
    assert Project.objects.get().status == "active"


def test_run_indexer_once_reports_an_unreachable_api(settings):
    from django.core.management.base import CommandError

    conf = {
        **settings.CHAINSYNC,
        "STACKS_API_URL": "http://127.0.0.1:9",
        "STACKS_API_MAX_RETRIES": 0,
        "ESCROW_CONTRACT_ID": ESCROW_CONTRACT,
    }
    with override_settings(CHAINSYNC=conf), pytest.raises(CommandError, match="Stacks API"):
        call_command("run_indexer", "--once")
    assert SyncState.objects.get(contract_id=ESCROW_CONTRACT).last_error


def test_off_chain_amounts_with_the_right_total_but_another_split_are_looked_up(hiro, api):
    """Regression (bench): [10, 10] off chain, funded as [9, 11]: same gross, another fee. The
    amounts must come from the call, the project must be indexed, and the link refused."""
    project = pending_project(amounts=(10, 10))
    fund(hiro, project, amounts=[9, 11])
    result = sync(api)
    assert result.lookups == 1
    chain = ChainProject.objects.get(on_chain_id=1)
    assert [int(m.gross_amount) for m in chain.milestones.all()] == [9, 11]
    project.refresh_from_db()
    assert project.status == "pending" and "milestone amounts" in project.funding_error
    assert ChainEvent.objects.filter(state="failed").count() == 0


def test_an_off_chain_project_out_of_step_is_reported_on_the_event_not_a_crash(hiro, api):
    """The chain is right: a linked project that cannot follow (here: cancelled by hand behind
    the indexer's back) leaves the projection applied and the reason on the event."""
    project = pending_project()
    fund(hiro, project)
    sync(api)
    Project.objects.filter(pk=project.pk).update(status=Project.Status.CANCELLED)
    hiro.escrow.file_dispute(sender=CLIENT, project_id=1, milestone=1)
    result = sync(api)
    assert result.applied.failed == 0
    event = ChainEvent.objects.get(event_name="dispute-filed")
    assert event.state == "applied"
    assert event.error.startswith("off-chain project not updated")
    assert ChainProject.objects.get(on_chain_id=1).disputes.count() == 1
