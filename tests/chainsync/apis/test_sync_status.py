"""GET /api/blockchain/sync-status and /readyz through DRF's test client, with the indexer run
against the loopback Hiro API; and no Stacks API call made inside a database transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from chainsync.client import StacksApiClient
from chainsync.log.fetch import chain_fetch
from chainsync.log.state import sync_failure_record
from chainsync.models import SyncState
from tests.chainsync.apis.helpers import on_chain_only, sync, verify
from tests.chainsync.hiro_server import ESCROW_CONTRACT

pytestmark = pytest.mark.django_db


# --- GET /api/blockchain/sync-status --------------------------------------------------------


def status(anon) -> dict:
    response = anon.get("/api/blockchain/sync-status")
    assert response.status_code == 200
    return response.json()


def test_sync_status_of_an_indexer_that_keeps_up(chain, anon):
    on_chain_only(chain)
    sync(chain)
    # a long stretch without events: still caught up
    chain.chain.advance(50)
    sync(chain)
    body = status(anon)
    tip = chain.chain.tip.height
    assert set(body) == {
        "lastIndexedBlock",
        "currentBlock",
        "lag",
        "lastPollAt",
        "lastSuccessAt",
        "lastError",
        "healthy",
        "state",
    }
    assert (body["lastIndexedBlock"], body["currentBlock"], body["lag"]) == (tip, tip, 0)
    assert (body["lastError"], body["healthy"], body["state"]) == (None, True, "ok")
    assert body["lastPollAt"] and body["lastSuccessAt"]


def test_sync_status_before_the_indexer_ever_ran(chain, anon):
    body = status(anon)
    assert body == {
        "lastIndexedBlock": 0,
        "currentBlock": 0,
        "lag": 0,
        "lastPollAt": None,
        "lastSuccessAt": None,
        "lastError": None,
        "healthy": False,
        "state": "starting",
    }
    assert anon.get("/readyz").status_code == 503


def test_sync_status_of_an_indexer_that_lags(chain, anon):
    on_chain_only(chain)
    created = chain.chain.tip.height
    chain.chain.advance(40)
    # fetched, but the new project's amounts are unknown: its event waits
    chain_fetch(client=StacksApiClient(chain.url, rate_limit=0), contract_id=ESCROW_CONTRACT)
    SyncState.objects.update(last_success_at=timezone.now())
    body = status(anon)
    assert (body["lastIndexedBlock"], body["lag"]) == (created - 1, 41)
    assert body["healthy"] is False


def test_sync_status_of_an_indexer_that_stopped_or_fails(chain, anon, settings):
    sync(chain)
    SyncState.objects.update(last_success_at=timezone.now() - timedelta(seconds=31))
    assert status(anon)["healthy"] is False
    SyncState.objects.update(last_success_at=timezone.now())
    assert status(anon)["healthy"] is True
    sync_failure_record(contract_id=ESCROW_CONTRACT, error="contract_logs: HTTP 500")
    body = status(anon)
    assert body["lastError"] == "contract_logs: HTTP 500"
    assert body["state"] == "ok"  # one failure after a recent success: not yet "keeps failing"
    assert anon.get("/readyz").status_code == 200
    # it keeps failing: no success within 3 poll intervals
    SyncState.objects.update(last_success_at=timezone.now() - timedelta(seconds=31))
    body = status(anon)
    assert (body["state"], body["healthy"]) == ("failing", False)
    ready = anon.get("/readyz")
    assert ready.status_code == 503 and ready.json()["error"]["details"]["indexer"] == "failing"
    assert "contract_logs: HTTP 500" in ready.json()["error"]["message"]
    # a poll succeeds again
    sync(chain)
    assert status(anon)["state"] == "ok" and anon.get("/readyz").status_code == 200


def test_sync_status_with_the_poller_disabled(chain, anon, settings):
    settings.CHAINSYNC = {**settings.CHAINSYNC, "ENABLED": False}
    assert status(anon)["state"] == "disabled"
    assert anon.get("/readyz").status_code == 200  # nothing polls: readiness is the lag alone


def test_sync_status_lag_threshold_is_a_setting(chain, anon, settings):
    on_chain_only(chain)
    chain.chain.advance(5)
    chain_fetch(client=StacksApiClient(chain.url, rate_limit=0), contract_id=ESCROW_CONTRACT)
    SyncState.objects.update(last_success_at=timezone.now())
    assert status(anon)["lag"] == 6 and status(anon)["healthy"] is True
    settings.CHAINSYNC = {**settings.CHAINSYNC, "MAX_LAG_BLOCKS": 6}
    assert status(anon)["healthy"] is False


# --- no network I/O inside a database transaction -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_stacks_api_is_never_called_inside_a_database_transaction(chain, anon, monkeypatch):
    create = on_chain_only(chain)
    sync(chain)
    send = StacksApiClient._send
    inside: list[bool] = []

    def watched(self, *args, **kwargs):
        inside.append(connection.in_atomic_block)
        return send(self, *args, **kwargs)

    monkeypatch.setattr(StacksApiClient, "_send", watched)
    assert anon.get("/api/blockchain/project/1").json()["inSync"] is True
    assert verify(anon, txId=create.tx_id).json()["confirmed"] is True
    assert inside == [False] * 9  # the tip, 7 reads, 1 lookup
