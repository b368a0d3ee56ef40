"""The escrow contract's state replayed from its prints, what the read-only calls answer, and
the public functions' signatures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stacks import (
    ClarityValue,
    UInt,
    bool_,
    clarity_to_python,
    none,
    principal,
    some,
    tuple_,
    uint,
)
from tests.chainsync.hiro_server.model import DEFAULT_FEE_RATE, Block, Print, Tx
from tests.chainsync.hiro_server.prints import milestone_fees

# --- escrow state (for call-read), replayed from prints ------------------------------------


@dataclass
class EscrowState:
    """Maps of Clarity tuple fields, as the getters return them."""

    contract_id: str
    projects: dict[int, dict[str, ClarityValue]] = field(default_factory=dict)
    milestones: dict[tuple[int, int], dict[str, ClarityValue]] = field(default_factory=dict)
    disputes: dict[tuple[int, int], dict[str, ClarityValue]] = field(default_factory=dict)
    fee_rate: int = DEFAULT_FEE_RATE
    dispute_count: int = 0

    def apply(self, tx: Tx, block: Block) -> None:
        if tx.status != "success":
            return
        for event in tx.events:
            if (
                isinstance(event, Print)
                and (event.contract_id or self.contract_id) == self.contract_id
            ):
                fields = clarity_to_python(event.value)
                handler = getattr(self, "_on_" + str(fields.get("event")).replace("-", "_"), None)
                if handler is not None:
                    handler(fields, tx, block.burn_height)

    def _on_project_created(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        pid = f["project-id"]
        self.projects[pid] = {
            "client": principal(f["client"]),
            "created-at": uint(burn),
            "fee-paid": uint(f["fee-collected"]),
            "freelancer": principal(f["freelancer"]),
            "num-milestones": uint(f["num-milestones"]),
            "refunded": bool_(False),
            "token-type": uint(0 if f["token"] == "STX" else 1),
            "total-amount": uint(f["net-escrow"]),
        }
        slots = [a.value if isinstance(a, UInt) else 0 for a in tx.args[1:5]]
        for slot, (gross, fee) in enumerate(
            zip(slots, milestone_fees(slots, self.fee_rate), strict=True), 1
        ):
            if gross:
                self.milestones[(pid, slot)] = {
                    "amount": uint(gross - fee),
                    "complete": bool_(False),
                    "completed-at": uint(0),
                    "released": bool_(False),
                }

    def _on_milestone_completed(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        self._milestone(f).update({"complete": bool_(True), "completed-at": uint(burn)})

    def _on_dispute_filed(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        self.dispute_count += 1
        self.disputes[(f["project-id"], f["milestone"])] = {
            "filed-at": uint(burn),
            "filed-by": principal(f["filed-by"]),
            "resolved-at": uint(0),
            "resolved-in-favor-of": none(),
            "status": uint(1),
        }

    def _on_milestone_released(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        self._milestone(f)["released"] = bool_(True)
        self._close_dispute(f["project-id"], f["milestone"], burn, to_freelancer=True)

    _on_force_released = _on_milestone_released

    def _on_dispute_resolved(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        self._milestone(f)["released"] = bool_(True)
        to_freelancer = f["released-to-freelancer"]
        self._close_dispute(f["project-id"], f["milestone"], burn, to_freelancer=to_freelancer)

    def _on_full_refund(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        self.projects.get(f["project-id"], {})["refunded"] = bool_(True)

    _on_emergency_refund = _on_full_refund

    def _on_force_refund(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        pid = f["project-id"]
        self.projects.get(pid, {})["refunded"] = bool_(True)
        for project_id, slot in list(self.disputes):
            if project_id == pid:
                self._close_dispute(pid, slot, burn, to_freelancer=False)

    def _on_milestone_reset(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        self._milestone(f).update({"complete": bool_(False), "completed-at": uint(0)})
        self.disputes.pop((f["project-id"], f["milestone"]), None)

    def _on_fee_rate_updated(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        self.fee_rate = f["new-rate"]

    def _milestone(self, f: dict[str, Any]) -> dict[str, ClarityValue]:
        # Tolerant: tests may print events for projects they never created.
        return self.milestones.get((f["project-id"], f["milestone"]), {})

    def _close_dispute(self, pid: int, slot: int, burn: int, *, to_freelancer: bool) -> None:
        dispute = self.disputes.get((pid, slot))
        if dispute is None or dispute["status"] != uint(1) or pid not in self.projects:
            return
        party = self.projects[pid]["freelancer" if to_freelancer else "client"]
        dispute.update(
            {"status": uint(2), "resolved-at": uint(burn), "resolved-in-favor-of": some(party)}
        )


def _optional_tuple(fields: dict[str, ClarityValue] | None) -> ClarityValue:
    return some(tuple_(fields)) if fields else none()


def _uints(args: list[ClarityValue]) -> list[int]:
    if not all(isinstance(arg, UInt) for arg in args):
        raise TypeError("expected uint arguments")
    return [arg.value for arg in args]  # type: ignore[union-attr]


# name -> (arity, evaluator)
READ_ONLY: dict[str, tuple[int, Callable[[EscrowState, list[int]], ClarityValue]]] = {
    "get-project": (1, lambda s, a: _optional_tuple(s.projects.get(a[0]))),
    "get-milestone": (2, lambda s, a: _optional_tuple(s.milestones.get((a[0], a[1])))),
    "get-dispute": (2, lambda s, a: _optional_tuple(s.disputes.get((a[0], a[1])))),
    "get-project-count": (0, lambda s, a: uint(len(s.projects))),
    "get-dispute-count": (0, lambda s, a: uint(s.dispute_count)),
    "get-fee-rate": (0, lambda s, a: uint(s.fee_rate)),
}

_PM = (("project-id", "uint"), ("milestone-num", "uint"))
_P = (("project-id", "uint"),)
_TOKEN = (("sbtc-token", "trait_reference"),)
_CREATE = (("freelancer", "principal"), *((f"m{i}", "uint") for i in range(1, 5)))
SIGNATURES: dict[str, tuple[tuple[str, str], ...]] = {
    "create-project-stx": _CREATE,
    "create-project-sbtc": _CREATE + _TOKEN,
    "complete-milestone": _PM,
    "file-dispute": _PM,
    "release-milestone-stx": _PM,
    "release-milestone-sbtc": _PM + _TOKEN,
    "request-full-refund-stx": _P,
    "request-full-refund-sbtc": _P + _TOKEN,
    "emergency-refund-stx": _P,
    "emergency-refund-sbtc": _P + _TOKEN,
    "admin-resolve-dispute-stx": (*_PM, ("release-to-freelancer", "bool")),
    "admin-resolve-dispute-sbtc": (*_PM, ("release-to-freelancer", "bool"), *_TOKEN),
    "admin-force-release-stx": _PM,
    "admin-force-release-sbtc": _PM + _TOKEN,
    "admin-force-refund-stx": _P,
    "admin-force-refund-sbtc": _P + _TOKEN,
    "admin-recover-sbtc": (("amount", "uint"), ("recipient", "principal"), *_TOKEN),
    "admin-reset-milestone": _PM,
    "set-treasury": (("new", "principal"),),
    "propose-ownership": (("new-owner", "principal"),),
    "accept-ownership": (),
    "set-paused": (("paused", "bool"),),
    "set-fee-rate": (("new-rate", "uint"),),
    "set-sbtc-contract": (("contract", "principal"),),
    "get-balance-sbtc": _TOKEN,
}
