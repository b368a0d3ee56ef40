"""GET /api/blockchain/events through DRF's test client, with the indexer run against the
loopback Hiro API."""

from __future__ import annotations

import pytest

from chainsync.models import ChainEvent
from stacks import uint
from tests.chainsync.apis.helpers import CONFIRMATIONS, EVENT_KEYS, STX, on_chain_only, sync
from tests.chainsync.hiro_server import CLIENT, FREELANCER
from tests.projects.test_apis import assert_error

pytestmark = pytest.mark.django_db


# --- GET /api/blockchain/events -------------------------------------------------------------


def test_events_in_chain_order_with_their_shape(chain, anon):
    create = on_chain_only(chain)
    complete = chain.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=2)
    sync(chain)
    body = anon.get("/api/blockchain/events").json()
    assert body["count"] == 2
    first, second = body["results"]
    assert set(first) == EVENT_KEYS
    stored = ChainEvent.objects.get(tx_id=create.tx_id)
    assert first == {
        "txId": create.tx_id,
        "eventIndex": stored.event_index,
        "blockHeight": stored.block_height,
        "blockHash": stored.block_hash,
        "burnBlockHeight": stored.burn_block_height,
        "txIndex": 0,
        "sender": CLIENT,
        "functionName": "create-project-stx",
        "event": "project-created",
        "payload": {
            "project-id": 1,
            "client": CLIENT,
            "freelancer": FREELANCER,
            "gross-amount": 12 * STX,
            "net-escrow": 10_800_000,
            "fee-collected": 1_200_000,
            "num-milestones": 2,
            "token": "STX",
        },
        "canonical": True,
        "state": "applied",
        "error": None,
        "final": False,
    }
    assert (second["txId"], second["event"]) == (complete.tx_id, "milestone-completed")
    assert second["blockHeight"] > first["blockHeight"]


def test_events_filters_and_pagination(chain, anon, django_assert_num_queries):
    on_chain_only(chain)
    on_chain_only(chain)
    chain.escrow.complete_milestone(freelancer=FREELANCER, project_id=2, milestone=4)
    middle = chain.chain.tip.height
    chain.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=2)
    sync(chain)

    def names(url: str) -> list[tuple[str, int]]:
        rows = anon.get(url).json()["results"]
        return [(row["event"], row["payload"]["project-id"]) for row in rows]

    assert names("/api/blockchain/events?project=1") == [
        ("project-created", 1),
        ("milestone-completed", 1),
    ]
    assert names("/api/blockchain/events?type=milestone-completed") == [
        ("milestone-completed", 2),
        ("milestone-completed", 1),
    ]
    assert names(f"/api/blockchain/events?since={middle}") == [
        ("milestone-completed", 2),
        ("milestone-completed", 1),
    ]
    assert names(f"/api/blockchain/events?since={middle}&project=2&type=milestone-completed") == [
        ("milestone-completed", 2)
    ]
    page = anon.get("/api/blockchain/events?pageSize=3&page=2").json()
    assert (page["count"], len(page["results"]), page["next"]) == (4, 1, None)
    with django_assert_num_queries(2):  # count, page (finality computed in the query)
        assert anon.get("/api/blockchain/events").status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("type=bogus", "type"),
        ("since=-1", "since"),
        ("since=abc", "since"),
        ("project=0", "project"),
        ("project=99999999999999999999", "project"),
        ("contract=x", "contract"),
    ],
)
def test_events_refuse_bad_filters(chain, anon, query, field):
    assert_error(anon.get(f"/api/blockchain/events?{query}"), 400, "validation_error", field)


def test_events_become_final_once_buried_and_failed_ones_show_why(chain, anon):
    from stacks import string_ascii, tuple_
    from tests.chainsync.hiro_server import Print

    ghost = Print(tuple_({"event": string_ascii("mystery"), "project-id": uint(9)}))
    chain.chain.call("complete-milestone", sender=FREELANCER, args=[uint(9)], prints=[ghost])
    chain.chain.advance(CONFIRMATIONS)
    on_chain_only(chain)
    sync(chain)
    failed, created = anon.get("/api/blockchain/events").json()["results"]
    assert (failed["state"], failed["event"], failed["final"]) == ("failed", None, True)
    assert "unknown event 'mystery'" in failed["error"]
    assert (created["state"], created["final"]) == ("applied", False)
