"""Helpers shared by the fork, resync and verify tests: off-chain projects waiting for their
escrow, one poll of the indexer, the settings that point commands at the loopback API, and a
comparable dump of every chain-derived field."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from django.test import override_settings

from chainsync.client import StacksApiClient
from chainsync.indexer import SyncResult, sync_once
from chainsync.models import (
    ChainDispute,
    ChainEvent,
    ChainMilestone,
    ChainProject,
    ChainTransaction,
    ContractSettings,
)
from notifications.models import Notification
from projects.models import Milestone, Project
from tests.chainsync.hiro_server import CLIENT, ESCROW_CONTRACT, FREELANCER, HiroServer
from tests.factories import ProjectFactory

STX = 1_000_000


def api_client(hiro: HiroServer) -> StacksApiClient:
    return StacksApiClient(hiro.url, rate_limit=0, max_retries=2, backoff_base=0.01)


def sync(api: StacksApiClient) -> SyncResult:
    return sync_once(client=api, contract_id=ESCROW_CONTRACT)


def pending_project(
    amounts: tuple[int, ...] = (10 * STX, 20 * STX), *, client: str = CLIENT
) -> Project:
    """An off-chain project whose proposal was accepted: waiting for the escrow."""
    project = ProjectFactory(
        client_address=client,
        freelancer_address=FREELANCER,
        status=Project.Status.PENDING,
        budget=sum(amounts),
        milestones=0,
    )
    for number, amount in enumerate(amounts, start=1):
        project.milestones.create(number=number, title=f"m{number}", amount=amount)
    return project


def fund(hiro: HiroServer, project: Project, amounts: list[int] | None = None, **kwargs: Any):
    """Create the escrow on chain (mined unless mine=False) and record its tx on the project."""
    amounts = amounts or list(project.milestones.values_list("amount", flat=True))
    tx = hiro.escrow.create_project_stx(
        client=project.client_address, freelancer=FREELANCER, milestones=amounts, **kwargs
    )
    project.funding_tx_id = tx.tx_id
    project.save(update_fields=["funding_tx_id"])
    return tx


def notes(type: str) -> list[str]:
    rows = Notification.objects.filter(type=type).order_by("id")
    return list(rows.values_list("recipient", flat=True))


def indexer_settings(hiro: HiroServer, **extra: Any) -> AbstractContextManager[None]:
    """CHAINSYNC pointing at the loopback API, for commands and tasks."""
    from django.conf import settings

    conf = {
        **settings.CHAINSYNC,
        "STACKS_API_URL": hiro.url,
        "STACKS_API_RATE_LIMIT": 0,
        "STACKS_API_MAX_RETRIES": 1,
        "ESCROW_CONTRACT_ID": ESCROW_CONTRACT,
        **extra,
    }
    return override_settings(CHAINSYNC=conf)


def chain_derived_dump() -> dict[str, Any]:
    """Every chain-derived field, keyed by natural keys (no row ids, no timestamps), so two
    databases built from the same record compare equal."""
    return {
        "txs": sorted(
            ChainTransaction.objects.values_list(
                "tx_id", "block_height", "index_block_hash", "canonical", "status"
            )
        ),
        "events": sorted(
            ChainEvent.objects.values_list(
                "tx_id", "event_index", "block_height", "canonical", "state", "error"
            )
        ),
        "settings": list(ContractSettings.objects.values(*_fields(ContractSettings, "id"))),
        "projects": list(
            ChainProject.objects.order_by("on_chain_id").values(*_fields(ChainProject, "id"))
        ),
        "milestones": sorted(
            (m.pop("project__on_chain_id"), m.pop("slot"), tuple(sorted(m.items())))
            for m in ChainMilestone.objects.values(
                "project__on_chain_id", *_fields(ChainMilestone, "id", "project")
            )
        ),
        "disputes": sorted(
            (d.pop("project__on_chain_id"), d.pop("slot"), tuple(sorted(d.items())))
            for d in ChainDispute.objects.values(
                "project__on_chain_id", *_fields(ChainDispute, "id", "project")
            )
        ),
        "offchain": list(
            Project.objects.order_by("pk").values_list(
                "pk", "status", "on_chain_id", "funding_tx_id", "funding_error"
            )
        ),
        "offchain_milestones": sorted(
            Milestone.objects.values_list("project_id", "number", "status", "tx_hash")
        ),
    }


def _fields(model: type, *leave: str) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if f.name not in leave]
