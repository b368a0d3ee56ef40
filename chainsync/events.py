"""The contract's print events (CONTRACT.md "Print events"): names, field types, and one parser
that turns a print's Clarity value into a checked record, or says precisely what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from chainsync.clarity import (
    Bool,
    ClarityDecodeError,
    ContractPrincipal,
    StandardPrincipal,
    StringAscii,
    Tuple,
    UInt,
    clarity_decode,
    json_int,
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


# How each kind reads the value types it accepts, looked up by the value's exact type: one dict
# look-up per field instead of `_field`'s chain of checks, which stays the judge of anything
# else (a token string outside TOKENS, a value of the wrong type) and words the refusal.
_VALUE, _ADDRESS = attrgetter("value"), attrgetter("address")
_READERS: dict[str, dict[type, Any]] = {
    UINT: {UInt: _VALUE},
    BOOL: {Bool: _VALUE},
    PRINCIPAL: {StandardPrincipal: _ADDRESS, ContractPrincipal: _ADDRESS},
    TOKEN: {},
}
_PLANS = {
    name: tuple((key, kind, _READERS[kind]) for key, kind in schema.items())
    for name, schema in SCHEMAS.items()
}
_EVENT_KEY = "event"


def print_parse(raw_hex: str) -> PrintEvent:
    """The event in a print's hex, checked against the contract's schema."""
    try:
        value = clarity_decode(raw_hex)
    except ClarityDecodeError as exc:
        raise MalformedEvent(f"undecodable print: {exc}") from exc
    data = value.data if isinstance(value, Tuple) else None
    event = data.get(_EVENT_KEY) if data is not None else None
    if not isinstance(event, StringAscii):
        raise MalformedEvent("a print without an `event` name")
    name = event.value
    plan = _PLANS.get(name)
    if plan is None:
        raise MalformedEvent(f"unknown event {name!r}")
    schema = SCHEMAS[name]
    if not data.keys() >= schema.keys():
        missing = sorted(set(schema) - set(data))
        raise MalformedEvent(f"{name} lacks {', '.join(missing)}")
    fields = {}
    for key, kind, readers in plan:
        item = data[key]
        read = readers.get(type(item))
        fields[key] = _field(key, kind, item) if read is None else read(item)
    return PrintEvent(name, fields)


def json_safe(fields: dict[str, Any]) -> dict[str, Any]:
    """Integers beyond what a JSON number holds exactly become decimal strings (u128 amounts)."""
    return {key: json_int(value) if type(value) is int else value for key, value in fields.items()}
