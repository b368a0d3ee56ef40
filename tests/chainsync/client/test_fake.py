"""The fake Hiro API speaks the documented shapes (tests/data/hiro_samples), and its print
builders keep to the chain's rules."""

from __future__ import annotations

from typing import Any

import pytest

from chainsync.client import StacksApiClient
from stacks import string_ascii, tuple_
from tests.chainsync.client.helpers import ESCROW, get, key_shape, sample, sample_story
from tests.chainsync.hiro_server import CLIENT, FREELANCER, SBTC_TOKEN, HiroServer, Print, events

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
