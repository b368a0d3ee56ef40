"""Retries, backoff, timeouts, malformed answers, headers, the rate limit, request counts and
the client from settings."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from chainsync.client import (
    RateLimiter,
    StacksApiBadResponse,
    StacksApiClient,
    StacksApiRejected,
    StacksApiUnavailable,
    stacks_api_client,
)
from tests.chainsync.client.helpers import ESCROW, FakeClock, make_client, sample, sample_story
from tests.chainsync.hiro_server import Fault, HiroServer

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
    api = make_client(hiro, clock, rate_limit=6)
    stamps = []

    for _ in range(8):
        api.status()
        stamps.append(clock.now)

    # five at once (the bucket's burst), then one every 30 s: 6 - 5 + 1 = 2 tokens a minute
    assert stamps == [1000.0] * 5 + [1030.0, 1060.0, 1090.0]
    assert all(later - earlier >= 60 for earlier, later in zip(stamps, stamps[6:], strict=False))


def _limited(per_minute: int, clock: FakeClock) -> RateLimiter:
    return RateLimiter(per_minute, clock=clock, sleep=clock.sleep)


@pytest.mark.parametrize("per_minute", [1, 2, 50, 500])
def test_the_budget_is_spread_over_the_minute_without_a_stall(
    clock: FakeClock, per_minute: int
) -> None:
    """Requests back to back go at an even pace: no window of 60 s holds more than the limit,
    no wait is longer than one request's share of the minute, and a minute's worth is done in
    the steady rate's time (not the whole budget at once and then a stall to the next
    window)."""
    limiter = _limited(per_minute, clock)
    stamps = []

    for _ in range(3 * per_minute):
        limiter.acquire()
        stamps.append(clock.now)

    burst = min(5, per_minute)
    steady = per_minute - burst + 1  # a minute's refill
    for i, start in enumerate(stamps):
        inside = [t for t in stamps[i:] if t < start + 60 - 1e-6]
        assert len(inside) <= per_minute
    assert max(clock.sleeps) == pytest.approx(60 / steady)
    assert stamps[-1] - stamps[0] == pytest.approx((len(stamps) - burst) * 60 / steady)


def test_at_50_a_minute_requests_are_1_3_s_apart_and_a_busy_poll_does_not_wait(
    clock: FakeClock,
) -> None:
    limiter = _limited(50, clock)
    for _ in range(50):
        limiter.acquire()
    busy_sleeps = list(clock.sleeps)

    clock.now += 10.0  # a poll 10 s later: its 4 requests (a busy one's) go at once
    clock.sleeps.clear()
    for _ in range(4):
        limiter.acquire()

    assert len(busy_sleeps) == 45 and max(busy_sleeps) == pytest.approx(60 / 46)
    assert clock.sleeps == []


def test_the_bucket_holds_no_more_than_its_burst_after_a_long_idle(clock: FakeClock) -> None:
    limiter = _limited(50, clock)
    clock.now += 3600.0

    for _ in range(6):
        limiter.acquire()

    assert clock.sleeps == [pytest.approx(60 / 46)]


def test_a_burst_below_one_is_refused(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="burst"):
        RateLimiter(50, clock=clock, sleep=clock.sleep, burst=0)


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
