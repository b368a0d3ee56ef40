"""What the blockchain API tests share: expected keys, one poll of the indexer, the API
down, and the projects the tests fund."""

from __future__ import annotations

from chainsync.indexer import SyncResult
from projects.models import Project
from tests.chainsync import scenarios
from tests.chainsync.hiro_server import CLIENT, FREELANCER, STX, HiroServer
from tests.chainsync.scenarios import fund, pending_project

CONFIRMATIONS = 6
PROJECT_KEYS = {
    "onChainId",
    "projectId",
    "client",
    "freelancer",
    "token",
    "totalAmount",
    "feePaid",
    "refunded",
    "milestones",
    "disputes",
    "final",
}
EVENT_KEYS = {
    "txId",
    "eventIndex",
    "blockHeight",
    "blockHash",
    "burnBlockHeight",
    "txIndex",
    "sender",
    "functionName",
    "event",
    "payload",
    "canonical",
    "state",
    "error",
    "final",
}


def sync(hiro: HiroServer) -> SyncResult:
    return scenarios.sync(scenarios.api_client(hiro))


def api_down(settings) -> None:
    settings.CHAINSYNC = {**settings.CHAINSYNC, "STACKS_API_URL": "http://127.0.0.1:9"}


def linked_project(hiro: HiroServer, amounts=(10 * STX, 20 * STX)) -> Project:
    """An off-chain project, funded on chain (not yet indexed)."""
    project = pending_project(amounts)
    fund(hiro, project, list(amounts))
    return project


def on_chain_only(hiro: HiroServer, milestones=(0, 5 * STX, 0, 7 * STX)):
    return hiro.escrow.create_project_stx(
        client=CLIENT, freelancer=FREELANCER, milestones=list(milestones)
    )


def verify(anon, **body):
    return anon.post("/api/blockchain/verify-tx", body, format="json")
