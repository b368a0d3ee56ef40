"""Page walks while the chain moves, and the fallbacks from newer routes to deprecated ones."""

from __future__ import annotations

import pytest

from chainsync.client import StacksApiClient, StacksApiGone
from stacks import ok, uint
from tests.chainsync.client.helpers import (
    ESCROW,
    canonical_keys,
    keys_of,
    mine_prints,
    sample_story,
)
from tests.chainsync.hiro_server import HiroServer, RecordedRequest

# --- pagination while the chain moves ------------------------------------------------------


def mine_on_each(hiro: HiroServer, route: str, prints_per_request: int) -> None:
    """Mine a new printing block just before each request to `route` is answered."""

    def hook(request: RecordedRequest) -> None:
        if request.route == route:
            mine_prints(hiro, 1, per_tx=prints_per_request)

    hiro.before_request.append(hook)


def test_cursor_walk_loses_and_repeats_nothing_while_events_arrive(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    # given 25 prints in 13 txs, and a new block with 2 prints before every page is served
    mine_prints(hiro, 12, per_tx=2)
    mine_prints(hiro, 1)
    mine_on_each(hiro, "contract_logs", prints_per_request=2)

    # when walking back 7 at a time, twice
    first = api.contract_logs_since(ESCROW, limit=7)
    known = set(keys_of(first))
    second = api.contract_logs_since(ESCROW, known=lambda log: log.key in known, limit=7)
    hiro.before_request.clear()

    # then the first walk saw exactly the events up to its head page, oldest first, once each;
    # the second saw exactly the newer ones, and together they are the whole canonical list
    everything = canonical_keys(hiro)
    assert keys_of(first) == everything[: len(first)]
    assert len(first) == 25 + 2  # the block mined before the head page was served
    assert keys_of(first) + keys_of(second) == everything[: len(first) + len(second)]
    assert len(hiro.requests_to("contract_logs")) == 4 + 2  # 27 in pages of 7; then 8 in two


def test_offset_walk_on_the_v1_fallback_while_events_arrive(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    hiro.disable("contract_logs")
    mine_prints(hiro, 25)
    mine_on_each(hiro, "contract_events", prints_per_request=3)

    walked = api.contract_logs_since(ESCROW, limit=10)
    hiro.before_request.clear()

    assert keys_of(walked) == canonical_keys(hiro)[: len(walked)]
    assert len(walked) >= 25
    assert len(hiro.requests_to("contract_logs")) == 1  # the route was tried once


@pytest.mark.parametrize("orphaned", [3, 8])
def test_offset_walk_misses_nothing_when_a_reorg_removes_rows_above_it(
    hiro: HiroServer, api: StacksApiClient, orphaned: int
) -> None:
    # given 30 prints; after the head page, a fork drops the newest `orphaned` of them
    hiro.disable("contract_logs")
    mine_prints(hiro, 30)
    served: list[RecordedRequest] = []

    def reorg_after_the_head_page(request: RecordedRequest) -> None:
        if request.route == "contract_events":
            served.append(request)
            if len(served) == 2:
                hiro.chain.fork(orphaned, *([[]] * orphaned))

    hiro.before_request.append(reorg_after_the_head_page)

    walked = api.contract_logs_since(ESCROW, limit=10)
    hiro.before_request.clear()

    # then every canonical event is there once, in order (plus the orphans the head page showed,
    # which only a reorg check can take back)
    canonical = canonical_keys(hiro)
    assert len(canonical) == 30 - orphaned
    assert [key for key in keys_of(walked) if key in set(canonical)] == canonical
    assert len(set(keys_of(walked))) == len(walked)


# --- fallbacks ----------------------------------------------------------------------------


def test_logs_fall_back_to_v1_events_on_404_and_stay_there(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    txs = sample_story(hiro)
    hiro.disable("contract_logs")

    first = api.contract_logs(ESCROW)
    second = api.contract_logs(ESCROW, limit=100)

    assert first.source == second.source == "v1"
    assert [log.tx_id for log in first.results] == [
        txs[name].tx_id for name in ("release", "complete", "create")
    ]
    assert len(hiro.requests_to("contract_logs")) == 1
    assert [r.params["limit"] for r in hiro.requests_to("contract_events")] == [["50"], ["50"]]
    with pytest.raises(StacksApiGone):
        api.contract_logs(ESCROW, cursor="3712004:2147483647:0:1")  # no cursors on v1


def test_logs_fall_back_on_410(hiro: HiroServer, api: StacksApiClient) -> None:
    sample_story(hiro)
    hiro.disable("contract_logs", status=410)

    assert len(api.contract_logs(ESCROW).results) == 3


def test_logs_with_both_routes_disabled_are_gone(hiro: HiroServer, api: StacksApiClient) -> None:
    hiro.disable("contract_logs")
    hiro.disable("contract_events", status=410)

    with pytest.raises(StacksApiGone):
        api.contract_logs(ESCROW)


def test_a_v3_tx_route_answering_404_falls_back_to_v1_for_good(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    create = sample_story(hiro)["create"]
    hiro.disable("tx_v3")

    first = api.transaction(create.tx_id)
    second = api.transaction(create.tx_id)

    assert (first.source, first.status, first.result()) == ("v1", "success", ok(uint(1)))
    assert second.source == "v1"
    assert len(hiro.requests_to("tx_v3")) == 1  # v1 had it canonical, so v3's 404 was the route


def test_a_v3_tx_route_answering_410_falls_back(hiro: HiroServer, api: StacksApiClient) -> None:
    create = sample_story(hiro)["create"]
    hiro.disable("tx_v3", status=410)

    assert api.transaction(create.tx_id).source == "v1"
