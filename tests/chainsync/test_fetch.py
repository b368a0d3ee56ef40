"""chain_fetch against the loopback Hiro API: what lands in the append-only log."""

from __future__ import annotations

import pytest

from chainsync.client import StacksApiClient
from chainsync.log.fetch import chain_fetch
from chainsync.models import ChainEvent, ChainTransaction, SyncState
from stacks import string_ascii, tuple_, uint
from tests.chainsync.hiro_server import CLIENT, ESCROW_CONTRACT, FREELANCER, Print

pytestmark = pytest.mark.django_db


def fetch(api: StacksApiClient):
    return chain_fetch(client=api, contract_id=ESCROW_CONTRACT)


def test_events_are_stored_with_their_block_and_tx_in_chain_order(hiro, api):
    # given: a project created, a milestone completed and released
    create = hiro.escrow.create_project_stx(
        client=CLIENT, freelancer=FREELANCER, milestones=[10_000_000, 20_000_000]
    )
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    hiro.escrow.release_milestone_stx(client=CLIENT, project_id=1, milestone=1)
    # when
    result = fetch(api)
    # then
    events = list(ChainEvent.objects.all())
    assert [e.event_name for e in events] == [
        "project-created",
        "milestone-completed",
        "milestone-released",
    ]
    assert result.events == 3 and result.malformed == 0
    assert result.transactions == 4  # the deploy, and the three calls
    first = events[0]
    tx = ChainTransaction.objects.get(tx_id=first.tx_id)
    assert first.tx_id == create.tx_id
    assert (first.block_height, first.tx_index, first.sender) == (
        tx.block_height,
        tx.tx_index,
        CLIENT,
    )
    assert first.function_name == "create-project-stx"
    assert first.payload["project-id"] == 1 and first.payload["gross-amount"] == 30_000_000
    assert first.payload["net-escrow"] == 27_000_000 and first.payload["token"] == "STX"
    assert first.project_id == 1 and first.state == "pending" and first.canonical
    heights = [e.block_height for e in events]
    assert heights == sorted(heights)
    state = SyncState.objects.get(contract_id=ESCROW_CONTRACT)
    assert state.chain_tip_height == hiro.chain.blocks[-1].height
    assert state.api_requests >= 3 and state.last_poll_at is not None


def test_fetching_again_adds_only_what_is_new(hiro, api):
    hiro.escrow.create_project_stx(client=CLIENT, freelancer=FREELANCER, milestones=[5_000_000])
    fetch(api)
    assert fetch(api).events == 0
    assert ChainEvent.objects.count() == 1
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    again = fetch(api)
    assert again.events == 1
    assert list(ChainEvent.objects.values_list("event_name", flat=True)) == [
        "project-created",
        "milestone-completed",
    ]


def test_aborted_calls_are_recorded_without_events(hiro, api):
    hiro.escrow.create_project_stx(client=CLIENT, freelancer=FREELANCER, milestones=[5_000_000])
    hiro.chain.call("release-milestone-stx", sender=CLIENT, args=[uint(1), uint(1)], error=105)
    fetch(api)
    aborted = ChainTransaction.objects.get(function_name="release-milestone-stx")
    assert aborted.status == "abort_by_response"
    assert ChainEvent.objects.filter(tx_id=aborted.tx_id).count() == 0


def test_a_malformed_print_is_stored_as_failed_and_does_not_stop_the_rest(hiro, api):
    hiro.escrow.create_project_stx(client=CLIENT, freelancer=FREELANCER, milestones=[5_000_000])
    bad = Print(tuple_({"event": string_ascii("milestone-completed"), "project-id": uint(1)}))
    hiro.chain.call("complete-milestone", sender=FREELANCER, args=[uint(1), uint(1)], prints=[bad])
    hiro.chain.call(
        "set-fee-rate",
        sender=CLIENT,
        args=[uint(500)],
        prints=[Print(tuple_({"event": string_ascii("no-such-event")}))],
    )
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    result = fetch(api)
    assert result.malformed == 2
    failed = ChainEvent.objects.filter(state="failed").order_by("block_height")
    assert [e.error for e in failed] == [
        "milestone-completed lacks freelancer, milestone",
        "unknown event 'no-such-event'",
    ]
    assert ChainEvent.objects.filter(state="pending").count() == 2


def test_survives_throttling_and_server_errors(hiro, api):
    from tests.chainsync.hiro_server import Fault

    hiro.escrow.create_project_stx(client=CLIENT, freelancer=FREELANCER, milestones=[5_000_000])
    hiro.inject("contract_logs", Fault.throttle(retry_after=0), times=1)
    hiro.inject("principal_transactions", Fault.error(500), times=1)
    assert fetch(api).events == 1


def _many_completions(hiro, count: int) -> None:
    """`count` print events, each in its own call (all on milestone 1 of project 1)."""
    from tests.chainsync.hiro_server import events as prints

    hiro.escrow.create_project_stx(client=CLIENT, freelancer=FREELANCER, milestones=[5_000_000])
    for _ in range(count - 1):
        hiro.chain.call(
            "complete-milestone",
            sender=FREELANCER,
            args=[uint(1), uint(1)],
            prints=[prints.milestone_completed(project_id=1, milestone=1, freelancer=FREELANCER)],
        )


def test_a_long_history_is_walked_page_by_page(hiro, api):
    _many_completions(hiro, 130)  # two pages of logs, three of transactions
    result = fetch(api)
    assert result.events == 130 and result.transactions == 131
    assert len(hiro.requests_to("contract_logs")) == 2
    assert len(hiro.requests_to("principal_transactions")) == 3
    heights = list(ChainEvent.objects.values_list("block_height", flat=True))
    assert heights == sorted(heights) and len(set(heights)) == 130


def test_an_interrupted_walk_is_redone_and_loses_nothing(hiro, api):
    from chainsync.client import StacksApiUnavailable
    from tests.chainsync.hiro_server import Fault

    _many_completions(hiro, 130)
    # the second page of logs (and every retry of it) fails
    calls = {"n": 0}

    def fail_second_logs_page(request):
        if request.route == "contract_logs":
            calls["n"] += 1
            if calls["n"] >= 2:
                hiro.inject("contract_logs", Fault.error(503), times=1)

    hiro.before_request.append(fail_second_logs_page)
    with pytest.raises(StacksApiUnavailable):
        fetch(api)
    assert ChainEvent.objects.count() == 100  # the first page is kept
    hiro.before_request.clear()
    result = fetch(api)
    assert result.events == 30
    assert ChainEvent.objects.count() == 130


def test_a_print_whose_call_was_not_listed_is_stored_with_a_lookup(hiro, api):
    """Regression (review): a print whose call the transaction walk did not list (mined between
    the two walks, or the listing lagging) must not be stranded below a newer stored print."""
    create = hiro.escrow.create_project_stx(
        client=CLIENT, freelancer=FREELANCER, milestones=[5_000_000]
    )
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    real = api.principal_transaction_pages

    def without_the_create(principal, **kwargs):  # the API's listing lags
        for page in real(principal, **kwargs):
            yield tuple(t for t in page if t.tx_id != create.tx_id)

    api.principal_transaction_pages = without_the_create
    fetch(api)
    assert list(ChainEvent.objects.values_list("event_name", flat=True)) == [
        "project-created",
        "milestone-completed",
    ]
    assert len(hiro.requests_to("tx_v3")) == 1  # one lookup, for the unlisted call
    assert ChainTransaction.objects.get(tx_id=create.tx_id).function_name == "create-project-stx"


def test_a_print_whose_call_is_not_mined_waits_and_is_not_stranded(hiro, api, monkeypatch):
    from chainsync.log import fetch as chain_services

    hiro.escrow.create_project_stx(client=CLIENT, freelancer=FREELANCER, milestones=[5_000_000])
    done = hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    fetch(api)
    hiro.escrow.release_milestone_stx(client=CLIENT, project_id=1, milestone=1)
    newest = hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)
    real_lookup = chain_services._calls_look_up
    # the release's call is neither listed nor found mined (as if still propagating)
    release_tx = hiro.chain.blocks[-2].txs[0].tx_id

    def listing_without_release(principal, **kwargs):
        for page in real(principal, **kwargs):
            yield tuple(t for t in page if t.tx_id != release_tx)

    real = api.principal_transaction_pages
    api.principal_transaction_pages = listing_without_release
    monkeypatch.setattr(
        chain_services,
        "_calls_look_up",
        lambda client, ids: real_lookup(client, ids - {release_tx}),
    )
    fetch(api)
    names = list(ChainEvent.objects.values_list("event_name", flat=True))
    assert names.count("milestone-released") == 0 and names.count("milestone-completed") == 2
    # later, everything is listed: the release is fetched, nothing stranded
    api.principal_transaction_pages = real
    monkeypatch.setattr(chain_services, "_calls_look_up", real_lookup)
    fetch(api)
    assert list(ChainEvent.objects.values_list("event_name", flat=True)) == [
        "project-created",
        "milestone-completed",
        "milestone-released",
        "milestone-completed",
    ]
    assert done.tx_id != newest.tx_id


def test_one_database_follows_one_contract(hiro, api):
    from chainsync.log.state import ContractMismatch, contract_followed_check

    fetch(api)
    contract_followed_check(contract_id=ESCROW_CONTRACT)
    with pytest.raises(ContractMismatch, match="follows"):
        contract_followed_check(contract_id="SP000000000000000000002Q6VF78.other")
