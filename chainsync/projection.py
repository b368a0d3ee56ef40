"""Apply one canonical print event to the projection (ChainProject, ChainMilestone, ChainDispute,
ContractSettings). Pure database work, no I/O: the amounts of a new project come from rows the
fetch step stored. Each handler raises ProjectionError for an event that does not fit the
projection (the event is then recorded as failed)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from chainsync.clarity import clarity_decode
from chainsync.models import (
    ChainDispute,
    ChainEvent,
    ChainMilestone,
    ChainProject,
    ChainTransaction,
    ContractSettings,
)

FEE_DENOMINATOR = 10_000
MAX_SLOTS = 4


class ProjectionError(ValueError):
    """An event that contradicts the projection (unknown project, impossible amounts, ...)."""


class AmountsUnknown(Exception):
    """A project-created whose per-milestone amounts are not stored yet (fetch them first)."""


def _project(event: ChainEvent) -> ChainProject:
    project = ChainProject.objects.filter(on_chain_id=event.payload["project-id"]).first()
    if project is None:
        raise ProjectionError(f"project {event.payload['project-id']} was never created")
    return project


def _milestone(project: ChainProject, slot: int) -> ChainMilestone:
    milestone = project.milestones.filter(slot=slot).first()
    if milestone is None:
        raise ProjectionError(f"project {project.on_chain_id} has no milestone {slot}")
    return milestone


def _amount(value: Any) -> Decimal:
    return Decimal(str(value))


def settings_get(contract_id: str) -> ContractSettings:
    return ContractSettings.objects.get_or_create(contract_id=contract_id)[0]


def create_args_amounts(tx: ChainTransaction | None) -> list[int] | None:
    """m1..m4 from a stored create-project call's arguments (freelancer, m1, m2, m3, m4)."""
    if tx is None or len(tx.function_args) < 1 + MAX_SLOTS:
        return None
    return [int(clarity_decode(arg).value) for arg in tx.function_args[1 : 1 + MAX_SLOTS]]


def on_project_created(event: ChainEvent, gross: list[int], fee_rate: int) -> ChainProject:
    p = event.payload
    fees = [m * fee_rate // FEE_DENOMINATOR for m in gross]
    if sum(gross) != int(p["gross-amount"]) or sum(fees) != int(p["fee-collected"]):
        raise ProjectionError(
            f"milestones {gross} at {fee_rate} bps do not give gross {p['gross-amount']} "
            f"and fee {p['fee-collected']}"
        )
    if ChainProject.objects.filter(on_chain_id=p["project-id"]).exists():
        raise ProjectionError(f"project {p['project-id']} created twice")
    project = ChainProject.objects.create(
        on_chain_id=p["project-id"],
        client=p["client"],
        freelancer=p["freelancer"],
        token=p["token"],
        gross_amount=_amount(p["gross-amount"]),
        total_amount=_amount(p["net-escrow"]),
        fee_paid=_amount(p["fee-collected"]),
        num_milestones=p["num-milestones"],
        created_tx=event.tx_id,
        created_block_height=event.block_height,
        created_burn_height=event.burn_block_height,
    )
    ChainMilestone.objects.bulk_create(
        ChainMilestone(project=project, slot=slot, gross_amount=m, amount=m - fee)
        for slot, (m, fee) in enumerate(zip(gross, fees, strict=True), start=1)
        if m > 0
    )
    return project


def on_milestone_completed(event: ChainEvent) -> ChainProject:
    project = _project(event)
    milestone = _milestone(project, event.payload["milestone"])
    milestone.complete, milestone.completed_burn_height = True, event.burn_block_height
    milestone.save(update_fields=["complete", "completed_burn_height"])
    return project


def on_dispute_filed(event: ChainEvent) -> ChainProject:
    project = _project(event)
    slot = event.payload["milestone"]
    _milestone(project, slot)
    ChainDispute.objects.update_or_create(
        project=project,
        slot=slot,
        defaults={
            "status": ChainDispute.Status.OPEN,
            "filed_by": event.payload["filed-by"],
            "filed_tx": event.tx_id,
            "filed_burn_height": event.burn_block_height,
            "resolved_in_favor_of": "",
            "resolved_tx": "",
        },
    )
    return project


def _release(project: ChainProject, slot: int, to: str, tx_id: str) -> None:
    milestone = _milestone(project, slot)
    milestone.released, milestone.released_to, milestone.released_tx = True, to, tx_id
    milestone.save(update_fields=["released", "released_to", "released_tx"])
    project.disputes.filter(slot=slot, status=ChainDispute.Status.OPEN).update(
        status=ChainDispute.Status.RESOLVED, resolved_in_favor_of=to, resolved_tx=tx_id
    )


def on_released(event: ChainEvent) -> ChainProject:
    """milestone-released (the client paid) and force-released (the owner did)."""
    project = _project(event)
    _release(project, event.payload["milestone"], project.freelancer, event.tx_id)
    return project


def on_dispute_resolved(event: ChainEvent) -> ChainProject:
    project = _project(event)
    to = project.freelancer if event.payload["released-to-freelancer"] else project.client
    _release(project, event.payload["milestone"], to, event.tx_id)
    return project


def _refund(event: ChainEvent, amount: Any) -> ChainProject:
    project = _project(event)
    project.refunded, project.refunded_amount = True, _amount(amount)
    project.save(update_fields=["refunded", "refunded_amount"])
    project.disputes.filter(status=ChainDispute.Status.OPEN).update(
        status=ChainDispute.Status.RESOLVED,
        resolved_in_favor_of=project.client,
        resolved_tx=event.tx_id,
    )
    return project


def on_full_refund(event: ChainEvent) -> ChainProject:
    return _refund(event, event.payload["amount"])


def on_refund_amount(event: ChainEvent) -> ChainProject:
    """emergency-refund and force-refund."""
    return _refund(event, event.payload["refund-amount"])


def on_milestone_reset(event: ChainEvent) -> ChainProject:
    project = _project(event)
    slot = event.payload["milestone"]
    milestone = _milestone(project, slot)
    milestone.complete, milestone.completed_burn_height = False, None
    milestone.save(update_fields=["complete", "completed_burn_height"])
    project.disputes.filter(slot=slot).delete()
    return project


SETTINGS_FIELDS = {
    "treasury-updated": ("treasury", "new-treasury"),
    "ownership-proposed": ("proposed_owner", "proposed-owner"),
    "contract-paused-updated": ("paused", "paused"),
    "fee-rate-updated": ("fee_rate", "new-rate"),
    "sbtc-contract-updated": ("sbtc_contract", "contract"),
}


def on_settings(event: ChainEvent, contract_id: str) -> None:
    settings = settings_get(contract_id)
    if event.event_name == "ownership-transferred":
        settings.owner, settings.proposed_owner = event.payload["new-owner"], ""
    elif event.event_name in SETTINGS_FIELDS:
        field, key = SETTINGS_FIELDS[event.event_name]
        setattr(settings, field, event.payload[key])
    settings.save()


PROJECT_HANDLERS: dict[str, Callable[[ChainEvent], ChainProject]] = {
    "milestone-completed": on_milestone_completed,
    "dispute-filed": on_dispute_filed,
    "milestone-released": on_released,
    "force-released": on_released,
    "dispute-resolved": on_dispute_resolved,
    "full-refund": on_full_refund,
    "emergency-refund": on_refund_amount,
    "force-refund": on_refund_amount,
    "milestone-reset": on_milestone_reset,
}
AUDIT_ONLY = {"sbtc-recovered"}
