"""The Stacks API client against the fake Hiro server on loopback (real HTTP, no mocks)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from chainsync.clarity import (
    bool_,
    clarity_decode,
    none,
    ok,
    principal,
    some,
    string_ascii,
    tuple_,
    uint,
)
from chainsync.client import (
    CallReadFailed,
    ContractLog,
    StacksApiBadResponse,
    StacksApiClient,
    StacksApiGone,
    StacksApiNotFound,
    StacksApiRejected,
    StacksApiUnavailable,
    stacks_api_client,
)
from tests.chainsync.hiro_server import (
    CLIENT,
    DEPLOYER,
    ESCROW_CONTRACT,
    FREELANCER,
    SBTC_TOKEN,
    STX,
    Fault,
    HiroServer,
    Print,
    RecordedRequest,
    Tx,
    events,
)

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "hiro_samples"
ESCROW = ESCROW_CONTRACT


def sample(name: str) -> Any:
    return json.loads((SAMPLES / f"{name}.json").read_text())


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_client(hiro: HiroServer, clock: FakeClock, **options: Any) -> StacksApiClient:
    defaults: dict[str, Any] = {
        "rate_limit": 0,
        "timeout": (1.0, 0.3),
        "max_retries": 3,
        "clock": clock,
        "sleep": clock.sleep,
        "jitter": lambda: 0.5,
    }
    return StacksApiClient(hiro.url, **(defaults | options))


@pytest.fixture
def api(hiro: HiroServer, clock: FakeClock) -> Iterator[StacksApiClient]:
    with make_client(hiro, clock) as client:
        yield client


def sample_story(hiro: HiroServer) -> dict[str, Tx]:
    """The story of /work/shared/chain/samples: create (4 x 10 STX), complete 2, release 2, and a
    second release that aborts with (err u106). Project 1 is created at burn height 152310."""
    hiro.chain.mine(burn_height=152309)
    return {
        "create": hiro.escrow.create_project_stx(
            client=CLIENT, freelancer=FREELANCER, milestones=[10 * STX] * 4
        ),
        "complete": hiro.escrow.complete_milestone(
            freelancer=FREELANCER, project_id=1, milestone=2
        ),
        "release": hiro.escrow.release_milestone_stx(client=CLIENT, project_id=1, milestone=2),
        "aborted": hiro.chain.call(
            "release-milestone-stx", sender=CLIENT, args=[uint(1), uint(2)], error=106
        ),
    }


def mine_prints(hiro: HiroServer, count: int, *, per_tx: int = 1) -> None:
    """`count` blocks, each with one tx printing `per_tx` events."""
    for n in range(count):
        prints = [events.milestone_reset(project_id=n, milestone=i) for i in range(per_tx)]
        hiro.chain.call("admin-reset-milestone", sender=DEPLOYER, prints=prints)


def canonical_keys(hiro: HiroServer) -> list[tuple[str, int]]:
    """(tx_id, event_index) of every canonical escrow print, oldest first."""
    return [(row.tx.tx_id, row.event_index) for row in reversed(hiro.chain.logs(ESCROW))]


def keys_of(logs: list[ContractLog]) -> list[tuple[str, int]]:
    return [log.key for log in logs]


def key_shape(value: Any) -> Any:
    """Object keys, recursively; lists item by item."""
    if isinstance(value, dict):
        return {key: key_shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [key_shape(item) for item in value]
    return None


def get(hiro: HiroServer, path: str, **params: Any) -> Any:
    return requests.get(hiro.url + path, params=params, timeout=5).json()


# --- the fake speaks the documented shapes -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "path", "params"),
    [
        ("v2_contract_logs_latest", f"/extended/v2/smart-contracts/{ESCROW}/logs", {"limit": 2}),
        ("v1_contract_events", f"/extended/v1/contract/{ESCROW}/events", {}),
        ("v1_tx_create_project", "/extended/v1/tx/{create}", {}),
        ("v1_tx_aborted", "/extended/v1/tx/{aborted}", {}),
        (
            "v3_transaction",
            "/extended/v3/transactions/{create}",
            {"include": "function_args,result"},
        ),
    ],
)
def test_fake_server_answers_with_the_sample_shapes(
    hiro: HiroServer, name: str, path: str, params: dict[str, Any]
) -> None:
    txs = sample_story(hiro)
    body = get(hiro, path.format(**{k: tx.tx_id for k, tx in txs.items()}), **params)
    assert key_shape(body) == key_shape(sample(name))


def test_fake_server_prints_are_byte_identical_to_the_samples(hiro: HiroServer) -> None:
    sample_story(hiro)
    head = get(hiro, f"/extended/v2/smart-contracts/{ESCROW}/logs", limit=2)
    older = get(
        hiro, f"/extended/v2/smart-contracts/{ESCROW}/logs", limit=2, cursor=head["prev_cursor"]
    )

    def hexes(page: dict[str, Any]) -> list[str]:
        return [item["contract_log"]["value"]["hex"] for item in page["results"]]

    assert hexes(head) == hexes(sample("v2_contract_logs_latest"))
    assert hexes(older) == hexes(sample("v2_contract_logs_older"))
    assert older["next_cursor"] == head["cursor"]
    assert (head["total"], head["next_cursor"], older["prev_cursor"]) == (3, None, None)


# --- every endpoint, round trip ------------------------------------------------------------


def test_status_reports_the_indexed_tip(hiro: HiroServer, api: StacksApiClient) -> None:
    tip = hiro.chain.advance(3)

    status = api.status()

    assert status.status == "ready"
    assert status.chain_tip is not None
    assert (status.chain_tip.block_height, status.chain_tip.index_block_hash) == (
        tip.height,
        tip.index_hash,
    )
    assert status.chain_tip.burn_block_height == tip.burn_height


def test_info_reports_the_network_and_node_tip(hiro: HiroServer, api: StacksApiClient) -> None:
    info = api.info()

    assert info.network_id == 2147483648
    assert info.stacks_tip_height == hiro.chain.tip.height
    assert info.stacks_tip == hiro.chain.tip.hash  # the bare hex gets its 0x back
    assert info.is_fully_synced is True


def test_block_by_height_hash_index_hash_and_latest(hiro: HiroServer, api: StacksApiClient) -> None:
    block = hiro.chain.advance(2)

    by_height = api.block(block.height)

    assert by_height.index_block_hash == block.index_hash
    assert by_height.parent_index_block_hash == block.parent_index_hash
    assert (by_height.canonical, by_height.burn_block_height) == (True, block.burn_height)
    assert api.block(block.hash) == by_height
    assert api.block(block.index_hash.removeprefix("0x")) == by_height
    assert api.block("latest") == by_height


def test_an_orphaned_block_is_not_found(hiro: HiroServer, api: StacksApiClient) -> None:
    old = hiro.chain.advance(2)
    hiro.chain.fork(1)

    with pytest.raises(StacksApiNotFound):
        api.block(old.index_hash)
    assert api.block(old.height).index_block_hash != old.index_hash


def test_contract_logs_page_back_by_cursor(hiro: HiroServer, api: StacksApiClient) -> None:
    txs = sample_story(hiro)

    head = api.contract_logs(ESCROW, limit=2)
    older = api.contract_logs(ESCROW, cursor=head.older_cursor, limit=2)

    assert [log.tx_id for log in head.results] == [txs["release"].tx_id, txs["complete"].tx_id]
    assert [log.tx_id for log in older.results] == [txs["create"].tx_id]
    assert (head.total, head.source, older.older_cursor, older.newer_cursor) == (
        3,
        "v2",
        None,
        head.cursor,
    )
    created = older.results[0].value()
    assert created == clarity_decode(
        sample("v1_contract_events")["results"][2]["contract_log"]["value"]["hex"]
    )


def test_contract_logs_cursor_below_every_event_is_an_empty_page(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    sample_story(hiro)

    page = api.contract_logs(ESCROW, cursor="1:0:0:0")

    assert page.results == ()
    assert page.older_cursor is None
    assert hiro.requests_to("contract_events") == []  # a 404 "Cursor not found" is no fallback


def test_contract_logs_of_an_unknown_contract_are_empty(api: StacksApiClient) -> None:
    page = api.contract_logs(f"{DEPLOYER}.nothing-here")

    assert (page.results, page.total) == ((), 0)


def test_contract_events_page_by_offset(hiro: HiroServer, api: StacksApiClient) -> None:
    txs = sample_story(hiro)

    page = api.contract_events(ESCROW, offset=1, limit=1)

    assert [log.tx_id for log in page.results] == [txs["complete"].tx_id]
    assert (page.source, page.total, page.offset) == ("v1", None, 1)


def test_transaction_from_v3(hiro: HiroServer, api: StacksApiClient) -> None:
    create = sample_story(hiro)["create"]
    expected_args = [
        arg["hex"] for arg in sample("v3_transaction")["contract_call"]["function_args"]
    ]

    tx = api.transaction(create.tx_id)

    assert (tx.source, tx.status, tx.canonical, tx.events) == ("v3", "success", True, None)
    assert tx.contract_call is not None
    assert tx.contract_call.function_name == "create-project-stx"
    assert list(tx.contract_call.function_args or ()) == expected_args
    assert tx.result() == ok(uint(1))
    assert tx.burn_block_height == 152310
    block = hiro.chain.block_at(tx.block_height or 0)
    assert block is not None and tx.index_block_hash == block.index_hash
    assert hiro.requests_to("tx_v3")[0].params["include"] == ["function_args,result"]


def test_transaction_with_events_reads_v1(hiro: HiroServer, api: StacksApiClient) -> None:
    create = sample_story(hiro)["create"]

    tx = api.transaction(create.tx_id.removeprefix("0x").upper(), events=True)

    assert (tx.source, tx.tx_id, tx.event_count) == ("v1", create.tx_id, 3)
    assert tx.events is not None
    transfers = [(e.asset.sender, e.asset.recipient, e.asset.amount) for e in tx.events if e.asset]
    assert transfers == [(CLIENT, ESCROW, 40 * STX), (ESCROW, DEPLOYER, 4 * STX)]
    (log,) = [e.contract_log for e in tx.events if e.contract_log]
    assert (
        log.value_hex == sample("v1_tx_create_project")["events"][2]["contract_log"]["value"]["hex"]
    )
    assert hiro.requests_to("tx_v3") == []


def test_transaction_events_beyond_one_page_are_all_read(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    prints = [events.milestone_reset(project_id=1, milestone=i) for i in range(130)]
    tx = hiro.chain.call("admin-reset-milestone", sender=DEPLOYER, prints=prints)

    fetched = api.transaction(tx.tx_id, events=True)

    assert [event.event_index for event in fetched.events or ()] == list(range(130))
    assert len(hiro.requests_to("tx_v1")) == 2


def test_an_aborted_call_has_its_error_and_no_events(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    aborted = sample_story(hiro)["aborted"]

    tx = api.transaction(aborted.tx_id, events=True)

    assert (tx.status, tx.events, tx.result_hex) == (
        "abort_by_response",
        (),
        sample("v1_tx_aborted")["tx_result"]["hex"],
    )


def test_an_unknown_transaction_is_not_found_on_either_route(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    with pytest.raises(StacksApiNotFound):
        api.transaction("0x" + "ab" * 32)

    assert [r.route for r in hiro.requests] == ["tx_v3", "tx_v1"]
    api.transaction(hiro.chain.tip.txs[0].tx_id)  # v3 is still the first choice
    assert hiro.requests[-1].route == "tx_v3"


def test_an_orphaned_transaction_reads_as_pending_until_mined_again(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    complete = sample_story(hiro)["complete"]
    hiro.chain.fork(3, [], [], [])  # complete, release and the abort all drop out

    pending = api.transaction(complete.tx_id)
    old_copy = api.transaction(complete.tx_id, events=True)
    hiro.chain.drop(complete)
    dropped = api.transaction(complete.tx_id)
    hiro.chain.mine(complete)
    remined = api.transaction(complete.tx_id)

    assert (pending.status, pending.mined, pending.canonical) == ("pending", False, False)
    assert (old_copy.status, old_copy.mined) == ("pending", False)  # v1: mempool before orphan
    assert dropped.status == "dropped_replace_by_fee"
    assert (remined.status, remined.canonical, remined.block_height) == (
        "success",
        True,
        hiro.chain.tip.height,
    )


def test_principal_transactions_page_from_newest_to_oldest(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    txs = sample_story(hiro)

    first = api.principal_transactions(ESCROW, limit=4)
    second = api.principal_transactions(ESCROW, cursor=first.older_cursor, limit=4)

    assert [tx.tx_id for tx in first.results] == [
        txs[name].tx_id for name in ("aborted", "release", "complete", "create")
    ]
    assert [tx.tx_type for tx in second.results] == ["smart_contract"]  # the deploy
    assert (first.total, second.older_cursor) == (5, None)
    release = first.results[1]
    assert (release.function_name, release.involvement, release.stx_sent) == (
        "release-milestone-stx",
        "affected",
        9 * STX,
    )


def test_principal_transactions_since_stops_at_a_known_tx(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    txs = sample_story(hiro)

    newer = api.principal_transactions_since(
        ESCROW, known=lambda tx: tx.tx_id == txs["complete"].tx_id, limit=1
    )

    assert [tx.tx_id for tx in newer] == [txs["release"].tx_id, txs["aborted"].tx_id]


# --- call-read ----------------------------------------------------------------------------


def test_call_read_decodes_the_sample_get_project_answer(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    recorded = sample("call_read_get_project")
    hiro.inject("call_read", Fault.respond(200, recorded["_response_200"]))

    value = api.call_read(ESCROW, "get-project", [uint(1)], sender=CLIENT)

    assert value == some(
        tuple_(
            {
                "client": principal(CLIENT),
                "created-at": uint(152310),
                "fee-paid": uint(4 * STX),
                "freelancer": principal(FREELANCER),
                "num-milestones": uint(4),
                "refunded": bool_(False),
                "token-type": uint(0),
                "total-amount": uint(36 * STX),
            }
        )
    )
    request = hiro.requests_to("call_read")[0]
    assert request.path == recorded["_request"]["path"]
    assert request.body == recorded["_request"]["body"]


def test_call_read_get_project_from_the_chain_matches_the_sample(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    sample_story(hiro)

    value = api.call_read(ESCROW, "get-project", [uint(1)], sender=CLIENT)

    assert value == clarity_decode(sample("call_read_get_project")["_response_200"]["result"])


def test_call_read_milestone_dispute_and_count(hiro: HiroServer, api: StacksApiClient) -> None:
    sample_story(hiro)
    hiro.escrow.file_dispute(sender=CLIENT, project_id=1, milestone=3)

    def read(function: str, *args: int) -> Any:
        return api.call_read(ESCROW, function, [uint(a) for a in args], sender=CLIENT)

    assert read("get-project-count") == uint(1)
    assert read("get-milestone", 1, 2) == some(
        tuple_(
            {
                "amount": uint(9 * STX),
                "complete": bool_(True),
                "completed-at": uint(152311),
                "released": bool_(True),
            }
        )
    )
    dispute = read("get-dispute", 1, 3)
    assert dispute.value["filed-by"] == principal(CLIENT)  # type: ignore[union-attr]
    assert dispute.value["resolved-in-favor-of"] == none()  # type: ignore[union-attr]
    assert read("get-dispute", 1, 2) == none()
    assert read("get-project", 2) == none()


def test_call_read_at_an_older_tip(hiro: HiroServer, api: StacksApiClient) -> None:
    before = hiro.chain.tip
    hiro.escrow.create_project_stx(client=CLIENT, freelancer=FREELANCER, milestones=[STX])

    now = api.call_read(ESCROW, "get-project-count", sender=CLIENT)
    then = api.call_read(ESCROW, "get-project-count", sender=CLIENT, tip=before.index_hash)

    assert (now, then) == (uint(1), uint(0))


def test_call_read_of_a_public_function_fails_with_its_cause(api: StacksApiClient) -> None:
    with pytest.raises(CallReadFailed) as failed:
        api.call_read(ESCROW, "set-paused", [bool_(True)], sender=DEPLOYER)

    assert "NotReadOnly" in failed.value.cause


def test_call_read_of_an_unknown_function_is_not_found(api: StacksApiClient) -> None:
    with pytest.raises(StacksApiNotFound):
        api.call_read(ESCROW, "no-such-function", sender=CLIENT)


def test_call_read_override_answers_any_read_only(hiro: HiroServer, api: StacksApiClient) -> None:
    hiro.chain.read_only["get-token-name"] = lambda state, args: ok(string_ascii("STX"))

    assert api.call_read(ESCROW, "get-token-name", [uint(0)], sender=CLIENT) == ok(
        string_ascii("STX")
    )


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


# --- retries, backoff, timeouts ------------------------------------------------------------


def test_429_waits_as_long_as_retry_after_says(
    hiro: HiroServer, api: StacksApiClient, clock: FakeClock
) -> None:
    hiro.inject("status", Fault.throttle(retry_after=7), times=2)

    api.status()

    assert clock.sleeps == [7.0, 7.0]
    assert len(hiro.requests_to("status")) == 3


def test_429_with_an_http_date_retry_after(
    hiro: HiroServer, api: StacksApiClient, clock: FakeClock
) -> None:
    hiro.inject("status", Fault.throttle(retry_after="Wed, 21 Oct 2015 07:28:00 GMT"))

    api.status()

    assert clock.sleeps == [0.0]  # a date in the past: retry at once


def test_429_without_retry_after_backs_off_exponentially(
    hiro: HiroServer, api: StacksApiClient, clock: FakeClock
) -> None:
    hiro.inject("info", Fault.throttle(retry_after=None), times=3)

    api.info()

    # base 0.5 s doubling, "equal jitter" at 0.5: three quarters of each step
    assert clock.sleeps == [0.375, 0.75, 1.5]


def test_a_retry_after_beyond_the_cap_gives_up_at_once(hiro: HiroServer, clock: FakeClock) -> None:
    hiro.inject("status", Fault.throttle(retry_after=3600))
    api = make_client(hiro, clock, max_wait=120)

    with pytest.raises(StacksApiUnavailable) as unavailable:
        api.status()

    assert unavailable.value.retry_after == 3600
    assert clock.sleeps == []


def test_a_500_then_success(hiro: HiroServer, api: StacksApiClient, clock: FakeClock) -> None:
    hiro.inject("block", Fault.error(500))

    assert api.block("latest").height == hiro.chain.tip.height
    assert len(clock.sleeps) == 1
    assert 0.25 <= clock.sleeps[0] <= 0.5


def test_a_timeout_then_success(hiro: HiroServer, api: StacksApiClient) -> None:
    hiro.inject("contract_logs", Fault.slow(2.0))

    page = api.contract_logs(ESCROW)

    assert page.source == "v2"
    assert len(hiro.requests_to("contract_logs")) == 2


def test_a_dropped_connection_then_success(hiro: HiroServer, api: StacksApiClient) -> None:
    hiro.inject("tx_v3", Fault.disconnect())
    deploy = hiro.chain.tip.txs[0]

    assert api.transaction(deploy.tx_id).tx_type == "smart_contract"
    assert len(hiro.requests_to("tx_v3")) == 2


def test_retries_exhausted_raise_unavailable(
    hiro: HiroServer, api: StacksApiClient, clock: FakeClock
) -> None:
    hiro.inject("principal_transactions", Fault.error(503), times=None)

    with pytest.raises(StacksApiUnavailable) as unavailable:
        api.principal_transactions(ESCROW)

    assert "HTTP 503 after 4 attempts" in str(unavailable.value)
    assert len(hiro.requests_to("principal_transactions")) == 4
    assert len(clock.sleeps) == 3


def test_a_refused_connection_raises_unavailable(clock: FakeClock) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = StacksApiClient(f"http://127.0.0.1:{port}", max_retries=2, sleep=clock.sleep)

    with pytest.raises(StacksApiUnavailable):
        api.status()

    assert api.request_counts["status"] == 3


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


# --- malformed answers --------------------------------------------------------------------


def test_malformed_json_is_a_bad_response_and_not_retried(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    hiro.inject("contract_events", Fault.malformed())

    with pytest.raises(StacksApiBadResponse):
        api.contract_events(ESCROW)

    assert len(hiro.requests_to("contract_events")) == 1


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"server_version": "x", "status": "ready", "chain_tip": {"block_height": "12"}},
        {"server_version": "x", "status": "ready", "chain_tip": {"block_height": True}},
    ],
)
def test_a_wrong_shape_is_a_bad_response(hiro: HiroServer, api: StacksApiClient, body: Any) -> None:
    hiro.inject("status", Fault.respond(200, body))

    with pytest.raises(StacksApiBadResponse):
        api.status()


def test_a_print_whose_hex_does_not_decode_is_a_bad_response(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    body = sample("v2_contract_logs_older")
    body["results"][0]["contract_log"]["value"]["hex"] = "0x0c00"
    hiro.inject("contract_logs", Fault.respond(200, body))

    with pytest.raises(StacksApiBadResponse):
        api.contract_logs(ESCROW)


def test_a_redirect_is_not_followed(hiro: HiroServer, api: StacksApiClient) -> None:
    hiro.inject("info", Fault(302, {}, headers=(("location", "http://192.0.2.1/v2/info"),)))

    with pytest.raises(StacksApiBadResponse):
        api.info()

    assert len(hiro.requests) == 1


def test_a_400_is_rejected_without_retry(hiro: HiroServer, api: StacksApiClient) -> None:
    hiro.inject("block", Fault.respond(400, {"error": "Bad Request", "message": "nope"}))

    with pytest.raises(StacksApiRejected) as rejected:
        api.block(1)

    assert rejected.value.status == 400
    assert len(hiro.requests) == 1


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        ("transaction", "0x1234"),
        ("contract_logs", "not-a-contract"),
        ("principal_transactions", "ST000bad"),
        ("block", "../../v2/info"),
    ],
)
def test_bad_identifiers_raise_before_any_request(
    hiro: HiroServer, api: StacksApiClient, call: str, argument: str
) -> None:
    with pytest.raises(ValueError):
        getattr(api, call)(argument)

    assert hiro.requests == []


# --- headers, rate limit, counters, settings ----------------------------------------------


def test_the_api_key_is_sent_when_configured(hiro: HiroServer, clock: FakeClock) -> None:
    make_client(hiro, clock, api_key="s3cret").status()
    make_client(hiro, clock).status()

    with_key, without_key = hiro.requests
    assert with_key.headers["x-api-key"] == "s3cret"
    assert "x-api-key" not in without_key.headers


def test_the_rate_limit_allows_at_most_n_requests_a_minute(
    hiro: HiroServer, clock: FakeClock
) -> None:
    api = make_client(hiro, clock, rate_limit=3)
    stamps = []

    for _ in range(7):
        api.status()
        stamps.append(clock.now)

    assert stamps[:3] == [1000.0] * 3
    assert all(later - earlier >= 60 for earlier, later in zip(stamps, stamps[3:], strict=False))
    assert stamps[-1] == 1120.0  # no more waiting than needed


def test_the_rate_limit_counts_retries(hiro: HiroServer, clock: FakeClock) -> None:
    hiro.inject("status", Fault.error(502))
    api = make_client(hiro, clock, rate_limit=2)

    api.status()  # two requests: the limit is spent
    api.status()

    assert clock.now >= 1060.0


def test_no_rate_limit_means_no_waiting(
    hiro: HiroServer, api: StacksApiClient, clock: FakeClock
) -> None:
    for _ in range(60):
        api.status()

    assert clock.sleeps == []


def test_requests_are_counted_by_endpoint(hiro: HiroServer, api: StacksApiClient) -> None:
    create = sample_story(hiro)["create"]
    hiro.inject("status", Fault.error(500))

    api.status()
    api.transaction(create.tx_id, events=True)
    api.contract_logs(ESCROW)

    assert api.request_counts == {"status": 2, "tx_v1": 1, "contract_logs": 1}
    assert api.requests_made == 4 == len(hiro.requests)


def test_the_client_from_settings(hiro: HiroServer, settings: Any) -> None:
    settings.CHAINSYNC = settings.CHAINSYNC | {
        "STACKS_API_URL": hiro.url + "/",
        "HIRO_API_KEY": "from-settings",
        "STACKS_API_RATE_LIMIT": 7,
    }

    api = stacks_api_client(timeout=2.0)
    api.status()

    assert api.base_url == hiro.url
    assert hiro.requests[0].headers["x-api-key"] == "from-settings"
    assert api._limiter.per_minute == 7


# --- the print builders -------------------------------------------------------------------


def test_prints_from_another_contract_are_not_the_escrows(
    hiro: HiroServer, api: StacksApiClient
) -> None:
    token_print = Print(tuple_({"event": string_ascii("transfer")}), contract_id=SBTC_TOKEN)
    hiro.chain.call("create-project-sbtc", sender=CLIENT, prints=[token_print])

    assert api.contract_logs(ESCROW).results == ()
    assert len(api.contract_logs(SBTC_TOKEN).results) == 1


def test_aborted_calls_cannot_carry_events(hiro: HiroServer) -> None:
    with pytest.raises(ValueError):
        hiro.chain.tx(
            "complete-milestone",
            sender=FREELANCER,
            error=101,
            prints=[events.milestone_completed(project_id=1, milestone=1, freelancer=FREELANCER)],
        )
