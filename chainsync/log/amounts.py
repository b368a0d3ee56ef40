"""The milestone amounts of new projects. A project-created print gives only totals: the gross
m1..m4 come from the create call's arguments when stored, else from the off-chain project funded
by that tx when its amounts reproduce what the print says; otherwise the calls are looked up (a
batch request per 50 transactions, before the events are applied: applying does no I/O)."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from typing import Any

from chainsync.client import StacksApiClient, Transaction
from chainsync.models import CHAIN_ORDER, ChainEvent, ChainTransaction, ContractSettings
from projects.models import Milestone, Project
from stacks import clarity_decode
from stxworx.sql import CHUNK, values_update

FEE_DENOMINATOR = 10_000
MAX_SLOTS = 4
# The contract's fee rate (basis points) until a fee-rate-updated changes it.
INITIAL_FEE_RATE = ContractSettings._meta.get_field("fee_rate").get_default()


def create_args_amounts(function_args: list[str] | None) -> list[int] | None:
    """m1..m4 from a stored create-project call's arguments (freelancer, m1, m2, m3, m4)."""
    if not function_args or len(function_args) < 1 + MAX_SLOTS:
        return None
    return [int(clarity_decode(arg).value) for arg in function_args[1 : 1 + MAX_SLOTS]]


def milestone_fees(gross: list[int], fee_rate: int) -> list[int]:
    return [m * fee_rate // FEE_DENOMINATOR for m in gross]


def offchain_gross(
    amounts: list[int] | None, payload: Mapping[str, Any], fee_rate: int
) -> list[int] | None:
    """m1..m4 from an off-chain project's milestone amounts (by number), when they reproduce
    what the print says (gross, fee at `fee_rate`, number of milestones); else None (unknown:
    the call's arguments are needed)."""
    if amounts is None or len(amounts) > MAX_SLOTS:
        return None
    fits = (
        sum(amounts) == int(payload.get("gross-amount", -1))
        and sum(milestone_fees(amounts, fee_rate)) == int(payload.get("fee-collected", -1))
        and len(amounts) == int(payload.get("num-milestones", -1))
    )
    return [*amounts, *[0] * (MAX_SLOTS - len(amounts))] if fits else None


def stored_args(tx_ids: Iterable[str]) -> dict[str, list[str]]:
    """The stored call arguments of these txs (those that have any)."""
    rows = ChainTransaction.objects.filter(tx_id__in=set(tx_ids)).exclude(function_args=[])
    return dict(rows.values_list("tx_id", "function_args"))


def offchain_amounts(tx_ids: Iterable[str]) -> dict[str, list[int]]:
    """Gross milestone amounts (by number) of the off-chain project each tx funds (the newest
    one recorded, as the link takes it): two queries."""
    funded: dict[str, int] = {}
    rows = Project.objects.filter(funding_tx_id__in=set(tx_ids)).order_by("created_at", "pk")
    for pk, tx_id in rows.values_list("pk", "funding_tx_id"):
        funded[tx_id] = pk
    amounts: dict[int, list[int]] = {pk: [] for pk in funded.values()}
    milestones = Milestone.objects.filter(project_id__in=amounts).order_by("project_id", "number")
    for project_id, amount in milestones.values_list("project_id", "amount"):
        amounts[project_id].append(amount)
    return {tx_id: amounts[pk] for tx_id, pk in funded.items()}


class FeeRates:
    """The fee rate in force at a place in chain order, the one place it is worked out (the apply,
    the look-ups and the split check ask it): set by the last canonical fee-rate-updated before
    that place which did not fail (applied, or pending and so applied before it), else the
    contract's initial rate. One query, at the first question."""

    def __init__(self) -> None:
        self.places: list[tuple[int, int]] | None = None
        self.rates: list[int] = []

    def _load(self) -> list[tuple[int, int]]:
        rows = (
            ChainEvent.objects.filter(event_name="fee-rate-updated", canonical=True)
            .exclude(state=ChainEvent.State.FAILED)
            .order_by(*CHAIN_ORDER)
            .values_list("block_height", "tx_index", "payload")
        )
        self.rates = [int(payload["new-rate"]) for _, _, payload in rows]
        return [(height, index) for height, index, _ in rows]

    def at(self, block_height: int, tx_index: int) -> int:
        if self.places is None:
            self.places = self._load()
        i = bisect.bisect_left(self.places, (block_height, tx_index))
        return self.rates[i - 1] if i else INITIAL_FEE_RATE


def fee_rate_in_force(tx_id: str) -> int:
    """The fee rate the contract applied to the call `tx_id` (FeeRates at its place)."""
    place = ChainEvent.objects.filter(tx_id=tx_id).values_list("block_height", "tx_index")
    found = place.first()
    return FeeRates().at(*found) if found else INITIAL_FEE_RATE


def creation_args_fetch(*, client: StacksApiClient, contract_id: str) -> int:
    """Look up the arguments of pending project-created calls whose amounts nothing stored
    gives: a batch request per 50 calls, stored a chunk at a time. Reads the pending events in
    chunks, so memory stays flat. Returns how many were fetched."""
    fetched, after = 0, 0
    rates = FeeRates()
    while True:
        chunk = list(
            ChainEvent.objects.filter(
                event_name="project-created",
                state=ChainEvent.State.PENDING,
                canonical=True,
                pk__gt=after,
            )
            .only("pk", "tx_id", "payload", *CHAIN_ORDER)
            .order_by("pk")[:CHUNK]
        )
        unknown = _unknown(chunk, rates)
        args_store(calls_args_fetch(client, unknown))
        fetched += len(unknown)
        if len(chunk) < CHUNK:
            return fetched
        after = chunk[-1].pk


def _unknown(events: list[ChainEvent], rates: FeeRates) -> list[str]:
    args = stored_args(e.tx_id for e in events)
    rest = [e for e in events if create_args_amounts(args.get(e.tx_id)) is None]
    offchain = offchain_amounts(e.tx_id for e in rest)
    return [
        e.tx_id
        for e in rest
        if offchain_gross(offchain.get(e.tx_id), e.payload, rates.at(e.block_height, e.tx_index))
        is None
    ]


def calls_args_fetch(client: StacksApiClient, tx_ids: list[str]) -> dict[str, list[str]]:
    """The call arguments of `tx_ids` (hex), by id: batch look-ups; an id the batch route does
    not find (only an orphaned copy left, or unknown) by one look-up of its own, which reads
    v1's orphaned copies and raises StacksApiNotFound for an unknown tx."""
    found = client.transactions_get(tx_ids) if tx_ids else {}
    return {tx_id: _call_args(found.get(tx_id) or client.transaction(tx_id)) for tx_id in tx_ids}


def _call_args(tx: Transaction) -> list[str]:
    return list((tx.contract_call.function_args if tx.contract_call else None) or ())


def args_fetch(*, client: StacksApiClient, tx_id: str) -> None:
    """Look up and store the arguments of one call (a create whose amounts turned out wrong)."""
    args_store(calls_args_fetch(client, [tx_id]))


def args_store(found: Mapping[str, list[str]]) -> None:
    """Store looked-up call arguments on their (stored) transactions: one UPDATE run for all."""
    rows = [(args, tx_id) for tx_id, args in found.items()]
    values_update(ChainTransaction, ["function_args"], rows, key="tx_id")
