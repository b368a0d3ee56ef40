"""Builders of the escrow contract's print events (CONTRACT.md "Print events"): `events`."""

from __future__ import annotations

from collections.abc import Sequence

from stacks import (
    ClarityValue,
    StringAscii,
    bool_,
    principal,
    string_ascii,
    tuple_,
    uint,
)
from tests.chainsync.hiro_server.model import DEFAULT_FEE_RATE, Print

# --- escrow print builders (CONTRACT.md "Print events") ------------------------------------


def _print(event: str, fields: dict[str, ClarityValue]) -> Print:
    return Print(tuple_({"event": string_ascii(event), **fields}))


def _token(token: str) -> StringAscii:
    if token not in ("STX", "sBTC"):
        raise ValueError(f"token is STX or sBTC, not {token!r}")
    return string_ascii(token)


def milestone_fees(milestones: Sequence[int], fee_rate: int = DEFAULT_FEE_RATE) -> list[int]:
    """The contract's per-slot fee: floor(m * rate / 10000)."""
    return [m * fee_rate // 10_000 for m in milestones]


class EscrowPrints:
    """Builders for the escrow contract's print tuples, with the exact field names and types.

    Principals are addresses, amounts ints in base units, `token` "STX" or "sBTC".
    """

    @staticmethod
    def project_created(
        *,
        project_id: int,
        client: str,
        freelancer: str,
        milestones: Sequence[int] = (),
        fee_rate: int = DEFAULT_FEE_RATE,
        gross_amount: int | None = None,
        fee_collected: int | None = None,
        net_escrow: int | None = None,
        num_milestones: int | None = None,
        token: str = "STX",
    ) -> Print:
        """Amounts default to what the contract computes from the gross `milestones` slots."""
        gross = sum(milestones) if gross_amount is None else gross_amount
        fee = sum(milestone_fees(milestones, fee_rate)) if fee_collected is None else fee_collected
        count = sum(1 for m in milestones if m) if num_milestones is None else num_milestones
        return _print(
            "project-created",
            {
                "project-id": uint(project_id),
                "client": principal(client),
                "freelancer": principal(freelancer),
                "gross-amount": uint(gross),
                "net-escrow": uint(gross - fee if net_escrow is None else net_escrow),
                "fee-collected": uint(fee),
                "num-milestones": uint(count),
                "token": _token(token),
            },
        )

    @staticmethod
    def milestone_completed(*, project_id: int, milestone: int, freelancer: str) -> Print:
        return _print(
            "milestone-completed",
            {
                "project-id": uint(project_id),
                "milestone": uint(milestone),
                "freelancer": principal(freelancer),
            },
        )

    @staticmethod
    def dispute_filed(*, project_id: int, milestone: int, filed_by: str) -> Print:
        return _print(
            "dispute-filed",
            {
                "project-id": uint(project_id),
                "milestone": uint(milestone),
                "filed-by": principal(filed_by),
            },
        )

    @staticmethod
    def milestone_released(
        *, project_id: int, milestone: int, amount: int, token: str = "STX"
    ) -> Print:
        return _print(
            "milestone-released",
            {
                "project-id": uint(project_id),
                "milestone": uint(milestone),
                "amount": uint(amount),
                "token": _token(token),
            },
        )

    @staticmethod
    def full_refund(*, project_id: int, amount: int, client: str, token: str = "STX") -> Print:
        return _print(
            "full-refund",
            {
                "project-id": uint(project_id),
                "amount": uint(amount),
                "client": principal(client),
                "token": _token(token),
            },
        )

    @staticmethod
    def emergency_refund(
        *,
        project_id: int,
        refund_amount: int,
        released_amount: int,
        client: str,
        token: str = "STX",
    ) -> Print:
        return _print(
            "emergency-refund",
            {
                "project-id": uint(project_id),
                "refund-amount": uint(refund_amount),
                "released-amount": uint(released_amount),
                "client": principal(client),
                "token": _token(token),
            },
        )

    @staticmethod
    def dispute_resolved(
        *,
        project_id: int,
        milestone: int,
        released_to_freelancer: bool,
        amount: int,
        token: str = "STX",
    ) -> Print:
        return _print(
            "dispute-resolved",
            {
                "project-id": uint(project_id),
                "milestone": uint(milestone),
                "released-to-freelancer": bool_(released_to_freelancer),
                "amount": uint(amount),
                "token": _token(token),
            },
        )

    @staticmethod
    def force_released(
        *, project_id: int, milestone: int, amount: int, token: str = "STX"
    ) -> Print:
        return _print(
            "force-released",
            {
                "project-id": uint(project_id),
                "milestone": uint(milestone),
                "amount": uint(amount),
                "token": _token(token),
            },
        )

    @staticmethod
    def force_refund(
        *, project_id: int, refund_amount: int, client: str, token: str = "STX"
    ) -> Print:
        return _print(
            "force-refund",
            {
                "project-id": uint(project_id),
                "refund-amount": uint(refund_amount),
                "client": principal(client),
                "token": _token(token),
            },
        )

    @staticmethod
    def milestone_reset(*, project_id: int, milestone: int) -> Print:
        return _print(
            "milestone-reset", {"project-id": uint(project_id), "milestone": uint(milestone)}
        )

    @staticmethod
    def sbtc_recovered(*, amount: int, recipient: str) -> Print:
        return _print("sbtc-recovered", {"amount": uint(amount), "recipient": principal(recipient)})

    @staticmethod
    def treasury_updated(*, new_treasury: str) -> Print:
        return _print("treasury-updated", {"new-treasury": principal(new_treasury)})

    @staticmethod
    def ownership_proposed(*, proposed_owner: str) -> Print:
        return _print("ownership-proposed", {"proposed-owner": principal(proposed_owner)})

    @staticmethod
    def ownership_transferred(*, new_owner: str) -> Print:
        return _print("ownership-transferred", {"new-owner": principal(new_owner)})

    @staticmethod
    def contract_paused_updated(*, paused: bool) -> Print:
        return _print("contract-paused-updated", {"paused": bool_(paused)})

    @staticmethod
    def fee_rate_updated(*, new_rate: int) -> Print:
        return _print("fee-rate-updated", {"new-rate": uint(new_rate)})

    @staticmethod
    def sbtc_contract_updated(*, contract: str) -> Print:
        return _print("sbtc-contract-updated", {"contract": principal(contract)})


events = EscrowPrints()
