"""The contract's print events (CONTRACT.md "Print events"): names, field types, and one parser
that turns a print's Clarity value into a checked record, or says precisely what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chainsync.clarity import (
    JSON_SAFE_INT,
    Bool,
    ClarityDecodeError,
    ContractPrincipal,
    StandardPrincipal,
    StringAscii,
    Tuple,
    UInt,
    clarity_decode,
)

UINT, PRINCIPAL, BOOL, TOKEN = "uint", "principal", "bool", "token"

SCHEMAS: dict[str, dict[str, str]] = {
    "project-created": {
        "project-id": UINT,
        "client": PRINCIPAL,
        "freelancer": PRINCIPAL,
        "gross-amount": UINT,
        "net-escrow": UINT,
        "fee-collected": UINT,
        "num-milestones": UINT,
        "token": TOKEN,
    },
    "milestone-completed": {"project-id": UINT, "milestone": UINT, "freelancer": PRINCIPAL},
    "dispute-filed": {"project-id": UINT, "milestone": UINT, "filed-by": PRINCIPAL},
    "milestone-released": {"project-id": UINT, "milestone": UINT, "amount": UINT, "token": TOKEN},
    "full-refund": {"project-id": UINT, "amount": UINT, "client": PRINCIPAL, "token": TOKEN},
    "emergency-refund": {
        "project-id": UINT,
        "refund-amount": UINT,
        "released-amount": UINT,
        "client": PRINCIPAL,
        "token": TOKEN,
    },
    "dispute-resolved": {
        "project-id": UINT,
        "milestone": UINT,
        "released-to-freelancer": BOOL,
        "amount": UINT,
        "token": TOKEN,
    },
    "force-released": {"project-id": UINT, "milestone": UINT, "amount": UINT, "token": TOKEN},
    "force-refund": {
        "project-id": UINT,
        "refund-amount": UINT,
        "client": PRINCIPAL,
        "token": TOKEN,
    },
    "milestone-reset": {"project-id": UINT, "milestone": UINT},
    "sbtc-recovered": {"amount": UINT, "recipient": PRINCIPAL},
    "treasury-updated": {"new-treasury": PRINCIPAL},
    "ownership-proposed": {"proposed-owner": PRINCIPAL},
    "ownership-transferred": {"new-owner": PRINCIPAL},
    "contract-paused-updated": {"paused": BOOL},
    "fee-rate-updated": {"new-rate": UINT},
    "sbtc-contract-updated": {"contract": PRINCIPAL},
}
TOKENS = {"STX", "sBTC"}


class MalformedEvent(ValueError):
    """A print that is not one of the contract's events as documented."""


@dataclass(frozen=True)
class PrintEvent:
    name: str
    fields: dict[str, Any]  # uint -> int, principal -> address, bool -> bool, token -> str

    @property
    def project_id(self) -> int | None:
        return self.fields.get("project-id")


def _field(name: str, kind: str, value: Any) -> Any:
    if kind == UINT and isinstance(value, UInt):
        return value.value
    if kind == BOOL and isinstance(value, Bool):
        return value.value
    if kind == PRINCIPAL and isinstance(value, StandardPrincipal | ContractPrincipal):
        return value.address
    if kind == TOKEN and isinstance(value, StringAscii) and value.value in TOKENS:
        return value.value
    raise MalformedEvent(f"field {name!r} should be a {kind}, not {value!r}")


def print_parse(raw_hex: str) -> PrintEvent:
    """The event in a print's hex, checked against the contract's schema."""
    try:
        value = clarity_decode(raw_hex)
    except ClarityDecodeError as exc:
        raise MalformedEvent(f"undecodable print: {exc}") from exc
    if not isinstance(value, Tuple) or not isinstance(value.data.get("event"), StringAscii):
        raise MalformedEvent("a print without an `event` name")
    name = value.data["event"].value
    schema = SCHEMAS.get(name)
    if schema is None:
        raise MalformedEvent(f"unknown event {name!r}")
    missing = sorted(set(schema) - set(value.data))
    if missing:
        raise MalformedEvent(f"{name} lacks {', '.join(missing)}")
    return PrintEvent(
        name, {key: _field(key, kind, value.data[key]) for key, kind in schema.items()}
    )


def json_safe(fields: dict[str, Any]) -> dict[str, Any]:
    """Integers beyond what a JSON number holds exactly become decimal strings (u128 amounts)."""
    return {
        key: str(value) if type(value) is int and abs(value) >= JSON_SAFE_INT else value
        for key, value in fields.items()
    }
