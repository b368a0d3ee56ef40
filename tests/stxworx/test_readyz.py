"""Readiness: the database answers and the chain indexer keeps up (liveness is /healthz)."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from chainsync.models import ChainEvent, SyncState
from tests.projects.test_apis import assert_error

pytestmark = pytest.mark.django_db

CONTRACT = "STVNRH0FC9XJP8J18C92J09MNBS2BS2TW6RCAQ87.escrow-contract-v1"


@pytest.fixture(autouse=True)
def _contract(settings):
    settings.CHAINSYNC = {**settings.CHAINSYNC, "ESCROW_CONTRACT_ID": CONTRACT}


def pending_event_at(height: int) -> None:
    ChainEvent.objects.create(
        tx_id="0x" + "ab" * 32,
        event_index=0,
        block_height=height,
        block_hash="0x" + "cd" * 32,
        burn_block_height=1,
        tx_index=0,
        sender="ST3EZ4N7VQ08N9S4K0RN7YJEM08PM3VEHG3QG2915",
        raw_hex="0x09",
    )


def test_ready_when_the_database_answers_and_the_indexer_keeps_up(anon):
    SyncState.objects.create(
        contract_id=CONTRACT,
        chain_tip_height=500,
        last_indexed_height=480,
        last_success_at=timezone.now(),
    )
    pending_event_at(490)
    response = anon.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "lag": 11}


def test_not_ready_before_the_indexer_completed_a_poll(anon):
    error = assert_error(anon.get("/readyz"), 503, "not_ready")
    assert error["details"] == {"database": "ok", "indexer": "starting"}
    assert "not completed a poll" in error["message"]
    SyncState.objects.create(contract_id=CONTRACT, last_error="status: HTTP 503")  # tried, failed
    assert assert_error(anon.get("/readyz"), 503, "not_ready")["details"]["indexer"] == "starting"
    SyncState.objects.update(last_success_at=timezone.now(), last_error="")
    assert anon.get("/readyz").json() == {"database": "ok", "lag": 0}


def test_not_ready_while_the_indexer_lags(anon, settings):
    SyncState.objects.create(
        contract_id=CONTRACT, chain_tip_height=500, last_success_at=timezone.now()
    )
    pending_event_at(471)  # everything through 470 applied: 30 blocks behind
    error = assert_error(anon.get("/readyz"), 503, "not_ready")
    assert error["details"] == {"database": "ok", "lag": 30, "maxLag": 30}
    assert "30 blocks behind" in error["message"]
    settings.CHAINSYNC = {**settings.CHAINSYNC, "MAX_LAG_BLOCKS": 31}
    assert anon.get("/readyz").status_code == 200


def test_not_ready_when_the_database_does_not_answer(anon):
    def refuse(execute, sql, params, many, context):
        raise OperationalError("connection refused")

    with connection.execute_wrapper(refuse):
        error = assert_error(anon.get("/readyz"), 503, "not_ready")
    assert error["details"] == {"database": "unavailable"}


def test_healthz_stays_liveness_only(anon):
    SyncState.objects.create(contract_id=CONTRACT, chain_tip_height=500)
    pending_event_at(1)
    assert anon.get("/readyz").status_code == 503
    assert anon.get("/healthz").status_code == 200
