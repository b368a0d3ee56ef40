"""The projection (ChainProject, ChainMilestone, ChainDispute, ContractSettings), applied a batch
of events at a time: `Projection.load` reads the rows a batch touches in a few queries, each
event's handler changes them in memory, in chain order, and `Projection.save` writes what changed
in a few statements. Pure database work, no I/O: the amounts of a new project come from rows the
fetch step stored.

Every handler checks everything that can fail before it changes anything, so an event that does
not fit (ProjectionError, or a payload KeyError/ValueError) leaves no trace in the projection: it
is recorded as failed and the next one goes on."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from chainsync.log.amounts import create_args_amounts, fee_rate_in_force, milestone_fees
from chainsync.models import (
    ChainDispute,
    ChainEvent,
    ChainMilestone,
    ChainProject,
    ChainTransaction,
    ContractSettings,
)
from stxworx.sql import instances_insert, rows_update

DEFAULT_FEE_RATE = 1000
RELEASES = {"milestone-released", "force-released", "dispute-resolved"}
MILESTONE_FIELDS = ["complete", "completed_burn_height", "released", "released_to", "released_tx"]
AMOUNT_FIELDS = ["gross_amount", "amount"]
DISPUTE_FIELDS = ["status", "filed_by", "filed_tx", "filed_burn_height"]
DISPUTE_FIELDS += ["resolved_in_favor_of", "resolved_tx"]


class ProjectionError(ValueError):
    """An event that contradicts the projection (unknown project, impossible amounts, ...)."""


class AmountsUnknown(Exception):
    """Amounts the stored record does not give yet: a project-created whose milestone amounts
    are unknown, or a release whose printed net shows the split taken from the off-chain
    project was wrong (`split`). `tx_id` is the create call whose arguments must be looked up
    first: before the apply for a new project (creation_args_fetch), by sync_once for a split."""

    def __init__(self, tx_id: str, *, split: bool = False) -> None:
        super().__init__(tx_id)
        self.tx_id, self.split = tx_id, split


def settings_get(contract_id: str) -> ContractSettings:
    return ContractSettings.objects.get_or_create(contract_id=contract_id)[0]


def _int(payload: dict[str, Any], key: str) -> int:
    return int(payload[key])  # u128 beyond 2**53 are stored as decimal strings (json_safe)


@dataclass
class Applied:
    """What an event did to the projection, for the off-chain step."""

    project: ChainProject | None
    split_corrected: bool = False  # the milestone amounts were wrong and are now the call's


@dataclass
class Projection:
    """The rows of one batch, keyed by on-chain id (and slot), with what changed."""

    settings: ContractSettings
    projects: dict[int, ChainProject]
    milestones: dict[int, dict[int, ChainMilestone]]
    disputes: dict[int, dict[int, ChainDispute]]
    settings_changed: bool = False
    new_projects: list[int] = field(default_factory=list)
    changed_projects: set[int] = field(default_factory=set)
    changed_milestones: dict[tuple[int, int], set[str]] = field(default_factory=dict)
    disputes_stored: dict[tuple[int, int], int] = field(default_factory=dict)  # key -> pk
    disputes_changed: set[tuple[int, int]] = field(default_factory=set)

    @classmethod
    def load(cls, *, contract_id: str, project_ids: Iterable[int]) -> Projection:
        """The settings and the on-chain projects `project_ids` (those that exist), with their
        milestones and disputes: four queries."""
        query = ChainProject.objects.filter(on_chain_id__in=set(project_ids))
        projects = {p.on_chain_id: p for p in query}
        by_pk = {p.pk: p.on_chain_id for p in projects.values()}
        milestones: dict[int, dict[int, ChainMilestone]] = {i: {} for i in projects}
        for m in ChainMilestone.objects.filter(project_id__in=by_pk):
            milestones[by_pk[m.project_id]][m.slot] = m
        disputes: dict[int, dict[int, ChainDispute]] = {i: {} for i in projects}
        for d in ChainDispute.objects.filter(project_id__in=by_pk):
            disputes[by_pk[d.project_id]][d.slot] = d
        projection = cls(settings_get(contract_id), projects, milestones, disputes)
        projection.disputes_stored = {
            (i, slot): d.pk for i, rows in disputes.items() for slot, d in rows.items()
        }
        return projection

    # --- lookups that raise ProjectionError ---

    def project(self, event: ChainEvent) -> ChainProject:
        project = self.projects.get(_int(event.payload, "project-id"))
        if project is None:
            raise ProjectionError(f"project {event.payload['project-id']} was never created")
        return project

    def milestone(self, project: ChainProject, slot: int) -> ChainMilestone:
        milestone = self.milestones[project.on_chain_id].get(slot)
        if milestone is None:
            raise ProjectionError(f"project {project.on_chain_id} has no milestone {slot}")
        return milestone

    def open_disputes(self, project: ChainProject) -> list[ChainDispute]:
        rows = self.disputes[project.on_chain_id].values()
        return [d for d in rows if d.status == ChainDispute.Status.OPEN]

    # --- changes ---

    def _milestone_set(
        self, project: ChainProject, milestone: ChainMilestone, **values: Any
    ) -> None:
        for name, value in values.items():
            setattr(milestone, name, value)
        key = (project.on_chain_id, milestone.slot)
        self.changed_milestones.setdefault(key, set()).update(values)

    def _dispute_resolve(
        self, project: ChainProject, dispute: ChainDispute, to: str, tx: str
    ) -> None:
        dispute.status, dispute.resolved_in_favor_of = ChainDispute.Status.RESOLVED, to
        dispute.resolved_tx = tx
        self.disputes_changed.add((project.on_chain_id, dispute.slot))

    def project_link(self, project: ChainProject, offchain_pk: int | None) -> None:
        project.project_id = offchain_pk
        self.changed_projects.add(project.on_chain_id)

    # --- writing back ---

    def save(self) -> None:
        """Write what changed: new projects (then their milestones), changed projects,
        milestones and disputes, deleted disputes, the settings. A few statements per model."""
        instances_insert(ChainProject, [self.projects[i] for i in self.new_projects])
        milestones = []
        for i in self.new_projects:
            for m in self.milestones[i].values():
                m.project_id = self.projects[i].id
                milestones.append(m)
        instances_insert(ChainMilestone, milestones)
        changed = [self.projects[i] for i in sorted(self.changed_projects - set(self.new_projects))]
        rows_update(ChainProject, changed, ["refunded", "refunded_amount", "project"])
        _milestones_update(self, set(self.new_projects))
        self._disputes_save()
        if self.settings_changed:
            self.settings.save()

    def _disputes_save(self) -> None:
        create, update, delete = [], [], []
        for key in sorted(self.disputes_changed | set(self.disputes_stored)):
            row = self.disputes.get(key[0], {}).get(key[1])
            stored = self.disputes_stored.get(key)
            if row is None:
                if stored is not None:
                    delete.append(stored)
            elif row.pk is None:
                if stored is not None:  # a reset deleted it, a new filing took the slot
                    delete.append(stored)
                create.append(row)
            elif key in self.disputes_changed:
                update.append(row)
        if delete:
            ChainDispute.objects.filter(pk__in=delete).delete()
        ChainDispute.objects.bulk_create(create)
        rows_update(ChainDispute, update, DISPUTE_FIELDS)


def _milestones_update(projection: Projection, new: set[int]) -> None:
    """Write the changed milestones of stored projects; their amounts only for those whose
    amounts changed (a corrected split, rare): the rest skip two u128 columns each."""
    plain, amounts = [], []
    for key, fields in sorted(projection.changed_milestones.items()):
        if key[0] not in new:
            row = projection.milestones[key[0]][key[1]]
            (amounts if fields & set(AMOUNT_FIELDS) else plain).append(row)
    rows_update(ChainMilestone, plain, MILESTONE_FIELDS)
    rows_update(ChainMilestone, amounts, MILESTONE_FIELDS + AMOUNT_FIELDS)


# --- the handlers -------------------------------------------------------------------------------


def on_project_created(
    projection: Projection, event: ChainEvent, gross: list[int], fee_rate: int
) -> Applied:
    p = event.payload
    on_chain_id = _int(p, "project-id")
    fees = milestone_fees(gross, fee_rate)
    if sum(gross) != _int(p, "gross-amount") or sum(fees) != _int(p, "fee-collected"):
        raise ProjectionError(
            f"milestones {gross} at {fee_rate} bps do not give gross {p['gross-amount']} "
            f"and fee {p['fee-collected']}"
        )
    if on_chain_id in projection.projects:
        raise ProjectionError(f"project {p['project-id']} created twice")
    project = ChainProject(
        on_chain_id=on_chain_id,
        client=p["client"],
        freelancer=p["freelancer"],
        token=p["token"],
        gross_amount=_int(p, "gross-amount"),
        total_amount=_int(p, "net-escrow"),
        fee_paid=_int(p, "fee-collected"),
        num_milestones=int(p["num-milestones"]),
        created_tx=event.tx_id,
        created_block_height=event.block_height,
        created_burn_height=event.burn_block_height,
    )
    projection.projects[on_chain_id] = project
    projection.milestones[on_chain_id] = {  # project_id: set by save, once the project has one
        slot: ChainMilestone(slot=slot, gross_amount=m, amount=m - fee)
        for slot, (m, fee) in enumerate(zip(gross, fees, strict=True), start=1)
        if m > 0
    }
    projection.disputes[on_chain_id] = {}
    projection.new_projects.append(on_chain_id)
    return Applied(project)


def on_milestone_completed(projection: Projection, event: ChainEvent) -> Applied:
    project = projection.project(event)
    milestone = projection.milestone(project, _int(event.payload, "milestone"))
    projection._milestone_set(
        project, milestone, complete=True, completed_burn_height=event.burn_block_height
    )
    return Applied(project)


def on_dispute_filed(projection: Projection, event: ChainEvent) -> Applied:
    project = projection.project(event)
    slot = _int(event.payload, "milestone")
    projection.milestone(project, slot)
    filed_by = event.payload["filed-by"]
    dispute = projection.disputes[project.on_chain_id].get(slot)
    if dispute is None:
        dispute = ChainDispute(project=project, slot=slot)
        projection.disputes[project.on_chain_id][slot] = dispute
    dispute.status, dispute.filed_by = ChainDispute.Status.OPEN, filed_by
    dispute.filed_tx, dispute.filed_burn_height = event.tx_id, event.burn_block_height
    dispute.resolved_in_favor_of, dispute.resolved_tx = "", ""
    projection.disputes_changed.add((project.on_chain_id, slot))
    return Applied(project)


def _release(projection: Projection, event: ChainEvent, to_freelancer: bool) -> Applied:
    """milestone-released and force-released (to the freelancer), dispute-resolved (either way).
    The printed net is checked against the milestone's: when it differs, the amounts taken from
    the off-chain project were another split of the same total, and the call's arguments
    (looked up first: AmountsUnknown) correct them."""
    project = projection.project(event)
    slot = _int(event.payload, "milestone")
    milestone = projection.milestone(project, slot)
    printed = _int(event.payload, "amount")
    corrected = None
    if int(milestone.amount) != printed:
        corrected = _split_from_call(projection, project, slot, printed)
    to = project.freelancer if to_freelancer else project.client
    if corrected is not None:
        rows = projection.milestones[project.on_chain_id]
        for slot_i, (gross, net) in zip(sorted(rows), corrected, strict=True):
            projection._milestone_set(project, rows[slot_i], gross_amount=gross, amount=net)
    projection._milestone_set(
        project, milestone, released=True, released_to=to, released_tx=event.tx_id
    )
    dispute = projection.disputes[project.on_chain_id].get(slot)
    if dispute is not None and dispute.status == ChainDispute.Status.OPEN:
        projection._dispute_resolve(project, dispute, to, event.tx_id)
    return Applied(project, split_corrected=corrected is not None)


def _split_from_call(
    projection: Projection, project: ChainProject, slot: int, printed: int
) -> list[tuple[int, int]]:
    """(gross, net) of each stored milestone, in slot order, from the create call's arguments,
    when they explain the printed net of `slot`. Raises AmountsUnknown (arguments not stored)
    or ProjectionError (they do not explain it either)."""
    call = ChainTransaction.objects.filter(tx_id=project.created_tx).only("function_args").first()
    gross = create_args_amounts(call.function_args if call else None)
    if gross is None:
        raise AmountsUnknown(project.created_tx, split=True)
    fees = milestone_fees(gross, fee_rate_in_force(project.created_tx))
    slots = sorted(projection.milestones[project.on_chain_id])
    found = {s: (gross[s - 1], gross[s - 1] - fees[s - 1]) for s in slots}
    if found[slot][1] != printed or [s for s, m in enumerate(gross, 1) if m] != slots:
        raise ProjectionError(
            f"project {project.on_chain_id} milestone {slot}: {printed} paid, "
            f"{int(projection.milestones[project.on_chain_id][slot].amount)} escrowed"
        )
    return [found[s] for s in slots]


def on_released(projection: Projection, event: ChainEvent) -> Applied:
    """milestone-released (the client paid) and force-released (the owner did)."""
    return _release(projection, event, to_freelancer=True)


def on_dispute_resolved(projection: Projection, event: ChainEvent) -> Applied:
    return _release(projection, event, to_freelancer=bool(event.payload["released-to-freelancer"]))


def _refund(projection: Projection, event: ChainEvent, key: str) -> Applied:
    project = projection.project(event)
    amount = _int(event.payload, key)
    project.refunded, project.refunded_amount = True, amount
    projection.changed_projects.add(project.on_chain_id)
    for dispute in projection.open_disputes(project):
        projection._dispute_resolve(project, dispute, project.client, event.tx_id)
    return Applied(project)


def on_full_refund(projection: Projection, event: ChainEvent) -> Applied:
    return _refund(projection, event, "amount")


def on_refund_amount(projection: Projection, event: ChainEvent) -> Applied:
    """emergency-refund and force-refund."""
    return _refund(projection, event, "refund-amount")


def on_milestone_reset(projection: Projection, event: ChainEvent) -> Applied:
    project = projection.project(event)
    slot = _int(event.payload, "milestone")
    milestone = projection.milestone(project, slot)
    projection._milestone_set(project, milestone, complete=False, completed_burn_height=None)
    if projection.disputes[project.on_chain_id].pop(slot, None) is not None:
        projection.disputes_changed.add((project.on_chain_id, slot))
    return Applied(project)


SETTINGS_FIELDS = {
    "treasury-updated": ("treasury", "new-treasury"),
    "ownership-proposed": ("proposed_owner", "proposed-owner"),
    "contract-paused-updated": ("paused", "paused"),
    "fee-rate-updated": ("fee_rate", "new-rate"),
    "sbtc-contract-updated": ("sbtc_contract", "contract"),
}


def on_settings(projection: Projection, event: ChainEvent) -> Applied:
    settings = projection.settings
    if event.event_name == "ownership-transferred":
        settings.owner, settings.proposed_owner = event.payload["new-owner"], ""
    elif event.event_name in SETTINGS_FIELDS:
        name, key = SETTINGS_FIELDS[event.event_name]
        setattr(settings, name, event.payload[key])
    projection.settings_changed = True
    return Applied(None)


PROJECT_HANDLERS: dict[str, Callable[[Projection, ChainEvent], Applied]] = {
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
